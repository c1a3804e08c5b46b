"""The demo school's Xporter responses: staff, tutor and house groups, photos, SchoolInfo.

``build_school`` runs the whole build in a fixed order: staff, then the roll (``pupils``),
guardians and PersonComms (``contacts``), groups and photos, and last the library's
borrower list (``library``), drawn from the people the school holds.  Each part draws
from its own seeded stream.
"""

from __future__ import annotations

import io
import random
from base64 import b64encode
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from demo import names
from demo.contacts import make_comms, make_contacts
from demo.dates import ACADEMIC_YEAR, EXPORT_TIME, TERM_START, school_day, stamp
from demo.library import LibraryBuilder, Truth
from demo.mis import (
    ESTAB_ID, HOUSES, SCHOOL_DOMAIN, SCHOOL_NAME, YEARS, Ids, house_group_id, row_hash, year_group_id, year_label,
)  # fmt: skip
from demo.names import NICKNAMES, as_ascii, pick
from demo.pupils import (
    Form, Pupil, assign_upns, cohort_sizes, make_forms, make_gone_leavers, make_leavers, make_pupils,
    number_pupils, place_in_forms, student_row,
)  # fmt: skip
from engine.export.files import RESULT_SETS

SUPPORT_ROLES = (
    "Teaching Assistant", "Teaching Assistant", "Administrator / Clerk", "Cover Supervisor",
    "Technician", "Site Manager", "Other Catering Staff", "Exams Officer", "Receptionist",
)  # fmt: skip
PHOTO_COUNT = 20
STAFF_PHOTOS = 4


@dataclass
class School:
    """The generated school: Xporter responses per endpoint plus the library's borrower CSV."""

    seed: int
    responses: dict[str, dict]  # endpoint (file stem) -> Xporter response, e.g. "Groups" -> {"Group": [...]}
    borrowers: list[dict[str, str]]  # CSV rows, keys CSV_COLUMNS, "" for a blank cell
    borrower_truth: dict[str, Truth]  # Barcode -> Truth
    not_in_library: dict[str, str]  # student Id -> "new" (joined this term) or "missing"
    twins: list[tuple[str, str]]  # student Id pairs

    def rows(self, endpoint: str) -> list[dict]:
        """The main result set of one endpoint, e.g. rows("Groups") is the Group list."""
        return self.responses[endpoint][RESULT_SETS[endpoint]]


def build_school(*, students: int = 900, staff: int = 80, seed: int = 2026) -> School:
    """Generate the school: ``students`` rows in Students (leavers included), ``staff`` in Staff."""
    if students < 0 or staff < 0:
        raise ValueError("students and staff must not be negative")
    return _SchoolBuilder(students, staff, seed).build()


class _SchoolBuilder:
    """Builds the Xporter responses, then hands the people to LibraryBuilder for the CSV."""

    def __init__(self, students: int, staff: int, seed: int):
        self.n_students, self.n_staff, self.seed = students, staff, seed
        self.ids = Ids(self._rng("ids"))
        self.catchment = names.Catchment()

    def _rng(self, purpose: str) -> random.Random:
        # One stream per purpose, so a change in one part (say the staff count) leaves the others be.
        return random.Random(f"mislink-demo:{self.seed}:{purpose}")

    # ------------------------------------------------------------ build

    def build(self) -> School:
        staff = self._make_staff()
        cohort = cohort_sizes(self.n_students)
        forms = make_forms(self._rng("tutors"), cohort, staff)
        for row in staff:
            row["RowHash"] = row_hash(row)
        pupils, households, twins = make_pupils(self._rng("pupils"), cohort, self.n_students, self.catchment)
        gone = make_gone_leavers(self._rng("gone"), self.n_students, self.catchment)
        number_pupils(self.ids.rng, pupils + gone)
        place_in_forms(self._rng("forms"), pupils, forms)
        make_leavers(self._rng("leavers"), self.n_students, pupils, forms)
        assign_upns(self._rng("upns"), self.n_students, pupils + gone)
        contacts, links = make_contacts(self._rng("contacts"), households, self.catchment, self.ids)
        students = [student_row(p, self.ids) for p in sorted(pupils, key=lambda p: int(p.id))]
        comms = make_comms(self._rng("comms"), pupils, staff, contacts)
        groups, staff_members, student_members = self._make_groups(cohort, forms)
        responses = {
            "Students": self._response("Students", students, StudentSiblings=[]),
            "Staff": self._response("Staff", staff),
            "Contacts": self._response("Contacts", contacts),
            "StudentContacts": self._response("StudentContacts", links),
            "PersonComms": self._response("PersonComms", comms),
            "Photos": self._response("Photos", self._make_photos(pupils, staff)),
            "Groups": self._response(
                "Group", groups, StaffMembers=staff_members, StudentMembers=student_members, GroupTypes=[]
            ),
            "SchoolInfo": {"SchoolInfo": [self._school_info(staff)], "meta": self._meta()},
        }
        library = LibraryBuilder(self._rng("library"), pupils, gone, staff, forms, twins)
        return School(
            seed=self.seed,
            responses=responses,
            borrowers=library.rows,
            borrower_truth=library.truth,
            not_in_library=library.not_in_library,
            twins=[(a.id, b.id) for a, b in twins],
        )

    def _meta(self) -> list[dict]:
        exported = EXPORT_TIME.isoformat(timespec="milliseconds")
        return [{"Id": 1, "MIS": "simsnet", "Version": "4", "DateTime": exported}]

    def _response(self, key: str, rows: list[dict], **other_sets: list) -> dict:
        count = len(rows)
        return {
            key: rows,
            **other_sets,
            "meta": self._meta(),
            # One page holding everything; Xporter's NextPage is never null, even on the last page.
            "__pagination__": [
                {"PageSize": count, "PageNumber": 1, "PageCount": 1, "RowCount": count,
                 "NextPage": f"?page=2&pageSize={count}"}
            ],  # fmt: skip
        }

    # ------------------------------------------------------------ staff

    def _make_staff(self) -> list[dict]:
        rng = self._rng("staff")
        rows: list[dict] = []
        codes: set[str] = set()
        next_id = 1  # staff Ids deliberately share the numbers pupils use: key on (PersonType, Id)
        for index in range(self.n_staff):
            rows.append(self._staff_row(rng, index, str(next_id), codes))
            next_id += pick(rng, (1, 1, 1, 2, 3, 5))  # gaps: colleagues who have left
        return rows

    def _staff_role(self, rng: random.Random, index: int) -> tuple[str, bool]:
        fixed = {0: "Headteacher", 1: "Deputy Headteacher", 2: "Deputy Headteacher", 5: "Librarian"}
        if index in fixed:
            return fixed[index], fixed[index] != "Librarian"
        if rng.random() < 0.62:
            return ("Head of Department" if rng.random() < 0.12 else "Teacher"), True
        return pick(rng, SUPPORT_ROLES), False

    def _staff_row(self, rng: random.Random, index: int, staff_id: str, codes: set[str]) -> dict:
        role, is_teacher = self._staff_role(rng, index)
        origin = "british" if rng.random() < 0.72 else names.family_origin(rng)
        gender = "F" if rng.random() < 0.66 else "M"
        legal_forename = names.forename(rng, origin, gender, adult=True)
        forename = legal_forename
        if legal_forename in NICKNAMES and rng.random() < 0.25:
            forename = NICKNAMES[legal_forename]  # Mr W Smith who signs his emails "Bill"
        legal_surname = names.surname(rng, origin)
        # Some teachers keep their maiden name at work: the MIS holds both.
        surname = names.surname(rng, origin) if gender == "F" and rng.random() < 0.06 else legal_surname
        title = names.title(rng, gender)
        dob = date(1961, 1, 1) + timedelta(days=rng.randrange(15600))
        start = school_day(date(max(dob.year + 22, 1992), 9, 1) + timedelta(days=rng.randrange(3000)))
        start = min(start, TERM_START)
        code = self._staff_code(forename, surname, codes)
        work_email = self.ids.email(f"{as_ascii(forename)[:1]}.{as_ascii(surname)}", SCHOOL_DOMAIN)
        home_email = None
        if rng.random() < 0.4:
            home_email = self.ids.email(f"{as_ascii(forename)}.{as_ascii(surname)}", "example.com")
        row = {
            "Id": staff_id,
            "XID": self.ids.xid(),
            "IdaasId": f"PWT-{staff_id}",
            "ExternalId": self.ids.guid(),
            "Title": title,
            "Suffix": None,
            "StaffCode": code,
            "StaffStatus": "Current",
            "Forename": forename,
            "Surname": surname,
            "DisplayName": f"{title} {forename[0]} {surname}",
            "WorkEmail": work_email,
            "IdaasEmail": work_email if rng.random() < 0.5 else None,
            "WorkPhone": f"01632 960{rng.randrange(1000):03d}" if rng.random() < 0.3 else None,
            "Gender": gender,
            "MiddleName": names.forename(rng, origin, gender) if rng.random() < 0.3 else None,
            "LegalForename": legal_forename,
            "LegalSurname": legal_surname,
            "DateOfBirth": dob.isoformat(),
            "EmploymentStart": start.isoformat(),
            "EmploymentEnd": "2026-12-31" if rng.random() < 0.03 else None,
            "Roles": role,
            "HomeEmail": home_email,
            "HomePhone": names.phone(rng, mobile=False) if rng.random() < 0.4 else None,
            "MobilePhone": names.phone(rng, mobile=True) if rng.random() < 0.6 else None,
            **self.catchment.address(rng),
            "IsTeacher": int(is_teacher),
            "IsSupport": int(not is_teacher),
            "RegGroup": None,  # filled in when tutor groups are made
            "LastUpdated": stamp(rng, datetime(2026, 6, 1)),
        }  # RowHash is added once RegGroup is known
        return row

    @staticmethod
    def _staff_code(forename: str, surname: str, taken: set[str]) -> str:
        first, last = as_ascii(forename).upper() or "X", as_ascii(surname).upper() or "X"
        for code in (first[0] + last[0], first[0] + last[:2], first[:2] + last[0], first[0] + last[:3]):
            if code not in taken:
                break
        else:
            n = 2
            while f"{first[0]}{last[0]}{n}" in taken:
                n += 1
            code = f"{first[0]}{last[0]}{n}"
        taken.add(code)
        return code

    # ------------------------------------------------------------ photos, groups, school info

    def _make_photos(self, pupils: list[Pupil], staff: list[dict]) -> list[dict]:
        """Photos of a few pupils and staff.  One staff member's Id is also a pupil's Id and
        both have a photo: joining photos on PersonId alone gives the wrong face."""
        rng = self._rng("photos")
        on_roll = {p.id: p for p in sorted(pupils, key=lambda p: int(p.id)) if p.leaving is None}
        clashing = [s for s in staff if s["Id"] in on_roll]
        staff_chosen = rng.sample(clashing, min(1, len(clashing)))
        others = [s for s in staff if s not in staff_chosen]
        staff_chosen += rng.sample(others, min(STAFF_PHOTOS - len(staff_chosen), len(others)))
        namesake = [on_roll[s["Id"]] for s in staff_chosen[:1] if s["Id"] in on_roll]
        rest = [p for p in on_roll.values() if p not in namesake]
        room = PHOTO_COUNT - len(staff_chosen) - len(namesake)
        pupils_chosen = namesake + rng.sample(rest, max(0, min(room, len(rest))))
        people = [("Student", p.id, p.row["DisplayName"]) for p in pupils_chosen]
        people += [("Staff", s["Id"], s["DisplayName"]) for s in staff_chosen]
        rows = []
        for photo_id, (person_type, person_id, name) in enumerate(people, 1):
            row = {
                "Id": str(photo_id),
                "PersonId": person_id,
                "PersonType": person_type,
                "PersonName": name,
                "Photo": b64encode(_portrait_jpeg(rng)).decode("ascii"),
                "LastUpdated": stamp(rng, datetime(2026, 9, 7)),
            }
            row["RowHash"] = row_hash(row)
            rows.append(row)
        return rows

    def _make_groups(self, cohort: dict[int, int], forms: dict[int, list[Form]]) -> tuple[list, list, list]:
        """Year, tutor and house groups; memberships of tutor groups (the ones a library uses)."""
        rng = self._rng("groups")
        all_forms = [form for year in YEARS for form in forms[year]]
        on_roll = [pupil for form in all_forms for pupil in form.members]
        per_year = Counter(pupil.year for pupil in on_roll)
        per_house = Counter(pupil.household.house for pupil in on_roll)
        groups = [
            self._group_row(rng, year_group_id(y), "GY", "YearGrp", str(y), year_label(y), None, per_year[y])
            for y in YEARS
            if cohort[y]
        ]
        staff_members, student_members = [], []
        for form in all_forms:
            group = self._group_row(
                rng, form.group_id, "GC", "RegGrp", form.code, form.code, form.tutor, len(form.members)
            )
            groups.append(group)
            # Memberships are written by the same rollover job as their group: same timestamp.
            if form.tutor is not None:
                staff_members.append(_membership(group, "PWT", form.tutor["Id"], StaffRole="Tutor"))
            for pupil in sorted(form.members, key=lambda p: int(p.id)):
                student_members.append(_membership(group, "PL", pupil.id))
        for index, (code, name) in enumerate(HOUSES):
            house_id = house_group_id(index)
            groups.append(self._group_row(rng, house_id, "GC", "HouseGrp", code, name, None, per_house[index]))
        return groups, staff_members, student_members

    def _group_row(
        self, rng, group_id: str, prefix: str, kind: str, code: str, name: str, tutor: dict | None, members: int
    ) -> dict:
        row = {
            "Id": group_id,
            "XID": self.ids.xid(),
            "ExternalId": self.ids.guid(),
            "IdaasId": f"{prefix}-{group_id}",
            "Type": kind,
            "Code": code,
            "Name": name,
            "PrimaryStaffId": tutor["Id"] if tutor else None,
            "Staff": tutor["StaffCode"] if tutor else None,
            "NumStudents": members,
        }
        row["RowHash"] = row_hash(row)  # the sample puts RowHash before LastUpdated here
        row["LastUpdated"] = stamp(rng, datetime(2026, 7, 20), datetime(2026, 9, 2))
        return row

    def _school_info(self, staff: list[dict]) -> dict:
        head = staff[0] if staff else None
        row = {
            "Id": "1",
            "Name": SCHOOL_NAME,
            "Head": f"{head['Forename']} {head['Surname']}" if head else None,
            "MainContact": head["DisplayName"] if head else None,
            "Telephone": "01632 960100",
            "Web": f"www.{SCHOOL_DOMAIN}",
            "Email": f"office@{SCHOOL_DOMAIN}",
            "DeniNo": None,
            "Governance": "Academy converter",
            "Phase": "Secondary",
            "ExamCentre": "21458",
            # Trailing spaces before line breaks, as in the recorded sample.
            "Address": "Hollowfield Lane \nEaton\nNorwich \nNR4 7QZ\n",
            "EstabId": ESTAB_ID,
            "CurrentAcademicYear": str(ACADEMIC_YEAR),
            "LastUpdated": "2026-08-28T03:05:20.755",
        }
        row["RowHash"] = row_hash(row)
        return row


def _membership(group: dict, prefix: str, person_id: str, **extra: str) -> dict:
    """A StaffMembers or StudentMembers row: plain MIS ids, plus the IdaasIds the docs also list."""
    group_id = group["Id"]
    person_key = "StaffId" if prefix == "PWT" else "StudentId"
    row = {
        "Id": f"GC-{group_id}.{prefix}-{person_id}",
        "GroupId": group_id,
        person_key: person_id,
        **extra,
        f"{person_key[:-2]}IdaasId": f"{prefix}-{person_id}",
        "GroupIdaasId": group["IdaasId"],
        "LastUpdated": group["LastUpdated"],
    }
    row["RowHash"] = row_hash(row)
    return row


def _portrait_jpeg(rng: random.Random) -> bytes:
    """A small deterministic 60x80 head-and-shoulders silhouette, about a kilobyte of JPEG."""
    from PIL import Image, ImageDraw  # only needed here; keeps importing this module light

    background = (rng.randrange(150, 230), rng.randrange(160, 230), rng.randrange(180, 240))
    skin = pick(rng, ((241, 204, 177), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)))
    hair = pick(rng, ((40, 26, 13), (85, 55, 30), (160, 110, 50), (220, 190, 120), (20, 20, 20)))
    jumper = pick(rng, ((20, 40, 100), (110, 20, 40), (30, 70, 40), (60, 60, 60)))
    image = Image.new("RGB", (60, 80), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 58, 54, 100), fill=jumper)  # shoulders
    draw.rectangle((25, 44, 35, 60), fill=skin)  # neck
    draw.ellipse((15, 14, 45, 50), fill=skin)  # face
    draw.chord((13, 10, 47, 40), 180, 360, fill=hair)  # hair
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()

