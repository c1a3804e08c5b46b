"""The roll: families, pupils and tutor groups, and each pupil's Students row.

Pupils are made oldest year first so younger brothers and sisters can join a family,
numbered in order of arrival as the MIS numbers them, placed in tutor groups (twins
often together), and a few are marked as leavers.  Some left before the export's
includeLeavers window: only the library still remembers them.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Iterable

from demo import names
from demo.dates import (
    ACADEMIC_YEAR, LAST_SUMMER_TERM_END, TERM_START, birth_window, first_school_day, school_day, stamp,
)  # fmt: skip
from demo.mis import HOUSES, LA_CODE, SCHOOL_DOMAIN, YEARS, Ids, house_group_id, row_hash, year_group_id, year_label
from demo.names import pick
from engine.upn import UPN_ALPHABET, check_letter

# Sixth-form cohorts are smaller: many pupils leave for college after Year 11.
COHORT_WEIGHT = {7: 1.0, 8: 1.0, 9: 1.0, 10: 1.0, 11: 1.0, 12: 0.55, 13: 0.5}
FORM_SIZE = {7: 30, 8: 30, 9: 30, 10: 30, 11: 30, 12: 16, 13: 16}
LEAVING_REASONS = ("Transferred to another school", "Moved out of area", "Elective home education")


class Household:
    """A family home: pupils who share it are siblings and share their guardians."""

    __slots__ = ("origin", "surname", "address", "house", "pupils", "salutation")

    def __init__(self, origin: str, surname: str, address: dict, house: int):
        self.origin, self.surname, self.address, self.house = origin, surname, address, house
        self.pupils: list[Pupil] = []
        self.salutation: str | None = None  # "Mr and Mrs Smith", once the guardians are known


class Pupil:
    """Working state for one pupil before it becomes an Xporter row."""

    __slots__ = (
        "year", "gender", "forename", "legal_forename", "middle", "surname", "legal_surname",
        "dob", "entry", "household", "form", "twin", "leaving", "gone", "id", "admission_no",
        "upn", "former_upn", "row", "sort_key",
    )  # fmt: skip

    def __init__(self, year: int, household: Household):
        self.year, self.household = year, household
        self.form: Form | None = None
        self.twin: Pupil | None = None
        self.leaving: date | None = None  # a leaver still in the export (includeLeavers)
        self.gone = False  # left before the includeLeavers window: only the library remembers them
        self.former_upn = None
        self.row: dict | None = None


class Form:
    """A tutor (registration) group."""

    __slots__ = ("year", "index", "code", "group_id", "tutor", "members")

    def __init__(self, year: int, index: int, group_id: str):
        self.year, self.index, self.group_id = year, index, group_id
        self.code = ""
        self.tutor: dict | None = None  # a Staff row
        self.members: list[Pupil] = []


# --------------------------------------------------------------------------- forms


def cohort_sizes(n_students: int) -> dict[int, int]:
    total = sum(COHORT_WEIGHT.values())
    sizes = {y: int(n_students * COHORT_WEIGHT[y] / total) for y in YEARS}
    for y in YEARS[: n_students - sum(sizes.values())]:
        sizes[y] += 1
    return sizes


def make_forms(rng: random.Random, cohort: dict[int, int], staff: list[dict]) -> dict[int, list[Form]]:
    """Tutor groups per year, each with a tutor from ``staff`` (whose RegGroup is filled in)."""
    forms: dict[int, list[Form]] = {}
    group_id = 180
    for year in YEARS:
        count = max(1, round(cohort[year] / FORM_SIZE[year])) if cohort[year] else 0
        forms[year] = [Form(year, i, str(group_id + i)) for i in range(count)]
        group_id += count + 2  # the MIS numbers groups with gaps (deleted/teaching groups)
    _assign_tutors(rng, [f for year in YEARS for f in forms[year]], staff)
    return forms


def _assign_tutors(rng: random.Random, forms: list[Form], staff: list[dict]) -> None:
    teachers = [s for s in staff if s["IsTeacher"] and s["Roles"] != "Headteacher"] or staff
    teachers = rng.sample(teachers, len(teachers))
    if teachers and len(teachers) >= len(forms) - 1 and len(forms) >= 2:
        # One tutor shares two small sixth-form groups, so one Staff.RegGroup is a list.
        tutors = teachers[: len(forms) - 1] + [teachers[len(forms) - 2]]
    else:
        tutors = [teachers[i % len(teachers)] for i in range(len(forms))] if teachers else [None] * len(forms)
    taken: set[str] = set()
    for form, tutor in zip(forms, tutors):
        form.tutor = tutor
        # KS4 groups are named after their tutor ("10HJ"), the rest by letter ("7A", "12B").
        code = f"{form.year}{tutor['StaffCode']}" if tutor and form.year in (10, 11) else ""
        if not code or code in taken:
            code = f"{form.year}{form_letters(form.index)}"
        while code in taken:  # a letter code that happens to equal a tutor's initials
            code += "X"
        taken.add(code)
        form.code = code
        if tutor is not None:
            tutor["RegGroup"] = f"{tutor['RegGroup']},{code}" if tutor["RegGroup"] else code


def form_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: suffixes for tutor groups."""
    text = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        text = chr(65 + rem) + text
    return text


# --------------------------------------------------------------------------- pupils


def make_pupils(
    rng: random.Random,
    cohort: dict[int, int],
    n_students: int,
    catchment: names.Catchment,
    academic_year: int = ACADEMIC_YEAR,
) -> tuple[list[Pupil], list[Household], list[tuple[Pupil, Pupil]]]:
    """``cohort[year]`` pupils in each year group of ``academic_year`` (2026 is 2026/27)."""
    twin_pairs = round(n_students / 180) if n_students >= 60 else 0
    # Spread twins over the years; most pairs fall in Years 8-13, so the library knows them.
    twin_years = Counter((7, 9, 11, 8, 10, 12, 13)[i % 7] for i in range(twin_pairs))
    households: list[Household] = []
    pupils: list[Pupil] = []
    twins: list[tuple[Pupil, Pupil]] = []
    for year in reversed(YEARS):  # oldest first, so younger siblings can join their families
        pairs = min(twin_years[year], cohort[year] // 2)
        for _ in range(pairs):
            household = _new_household(rng, catchment)
            households.append(household)
            first = _new_pupil(rng, household, year, academic_year=academic_year)
            second = _new_pupil(rng, household, year, twin_of=first, academic_year=academic_year)
            pupils += (first, second)
            twins.append((first, second))
        for _ in range(cohort[year] - 2 * pairs):
            pupil = _sibling(rng, households, year, academic_year) if rng.random() < 0.2 else None
            if pupil is None:
                household = _new_household(rng, catchment)
                households.append(household)
                pupil = _new_pupil(rng, household, year, academic_year=academic_year)
            pupils.append(pupil)
    return pupils, households, twins


def _new_household(rng: random.Random, catchment: names.Catchment) -> Household:
    origin = names.family_origin(rng)
    surname = names.surname(rng, origin)
    if rng.random() < 0.04:
        second = names.surname(rng, origin)
        if second != surname and " " not in second + surname:
            surname = f"{surname}-{second}"  # Smith-Jones
    return Household(origin, surname, catchment.address(rng), rng.randrange(len(HOUSES)))


def _sibling(rng: random.Random, households: list[Household], year: int, academic_year: int) -> Pupil | None:
    """A younger brother or sister for an existing family, if one fits."""
    for _ in range(3):
        if not households:
            return None
        household = households[rng.randrange(len(households))]
        if len(household.pupils) >= 3 or any(p.year == year for p in household.pupils):
            continue
        pupil = _new_pupil(rng, household, year, academic_year=academic_year)
        # Siblings who are not twins are born at least ten months apart.
        if all(abs((pupil.dob - p.dob).days) > 300 for p in household.pupils[:-1]):
            return pupil
        household.pupils.pop()
    return None


def _new_pupil(
    rng: random.Random,
    household: Household,
    year: int,
    twin_of: Pupil | None = None,
    academic_year: int = ACADEMIC_YEAR,
) -> Pupil:
    pupil = Pupil(year, household)
    origin = household.origin
    pupil.gender = "F" if rng.random() < 0.5 else "M"
    legal, preferred = names.preferred_forename(rng, origin, pupil.gender, rate=0.08)
    while twin_of is not None and {legal, preferred} & {twin_of.legal_forename, twin_of.forename}:
        legal, preferred = names.preferred_forename(rng, origin, pupil.gender, rate=0.08)
    pupil.legal_forename, pupil.forename = legal, preferred
    pupil.middle = names.middle_name(rng, origin, pupil.gender)
    pupil.legal_surname = household.surname
    if household.pupils and twin_of is None and rng.random() < 0.1:
        pupil.legal_surname = names.surname(rng, origin)  # a half-brother or half-sister
    pupil.surname = pupil.legal_surname
    if rng.random() < 0.012:
        # Known at school by a step-parent's surname, or both parents' names.
        other = names.surname(rng, origin)
        if other != pupil.legal_surname:
            pupil.surname = other if rng.random() < 0.5 else f"{pupil.legal_surname}-{other}"
    if twin_of is not None:
        pupil.dob, pupil.entry, pupil.twin = twin_of.dob, twin_of.entry, twin_of
        twin_of.twin = pupil
    else:
        earliest, latest = birth_window(year, academic_year)
        pupil.dob = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
        pupil.entry = _entry_date(rng, year, academic_year)
    pupil.sort_key = rng.random()
    household.pupils.append(pupil)
    return pupil


def _entry_date(rng: random.Random, year: int, academic_year: int = ACADEMIC_YEAR) -> date:
    year7_intake = first_school_day(academic_year - (year - 7))
    if year >= 12 and rng.random() < 0.25:
        return first_school_day(academic_year - (year - 12))  # joined the sixth form
    if 8 <= year <= 11 and rng.random() < 0.04:
        # In-year admission, some time after their Year 7 intake and before last summer.
        last_summer = LAST_SUMMER_TERM_END.replace(year=LAST_SUMMER_TERM_END.year - (ACADEMIC_YEAR - academic_year))
        span = (last_summer - year7_intake).days
        return school_day(year7_intake + timedelta(days=rng.randrange(30, span)))
    return year7_intake


def make_gone_leavers(rng: random.Random, n_students: int, catchment: names.Catchment) -> list[Pupil]:
    """Pupils who left in July 2025 or before: outside includeLeavers (current and previous
    academic year), so not in the export, but their borrower records were never removed."""
    gone = []
    for _ in range(round(n_students / 75)):
        then_year = pick(rng, (11, 11, 13, 13, 13, 9))  # the year group they left from, 2024/25
        household = _new_household(rng, catchment)
        pupil = _new_pupil(rng, household, then_year)
        earliest, latest = birth_window(then_year, ACADEMIC_YEAR - 2)
        pupil.dob = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
        pupil.entry = first_school_day(ACADEMIC_YEAR - 2 - (then_year - 7))
        pupil.leaving = date(2025, 7, 18)
        pupil.gone = True
        pupil.form = Form(then_year, rng.randrange(5), "")
        pupil.form.code = f"{then_year}{form_letters(pupil.form.index)}"
        gone.append(pupil)
    return gone


def number_pupils(rng: random.Random, pupils: list[Pupil], first_id: int = 1, first_admission: int = 1001) -> None:
    # The MIS hands out Ids and admission numbers in order of arrival.
    next_id, admission = first_id, first_admission
    for pupil in sorted(pupils, key=lambda p: (p.entry, p.sort_key)):
        pupil.id = str(next_id)
        pupil.admission_no = f"{admission:06d}"
        next_id += pick(rng, (1, 1, 2, 2, 3, 4))
        admission += pick(rng, (1, 1, 1, 1, 2))


def place_in_forms(rng: random.Random, pupils: list[Pupil], forms: dict[int, list[Form]]) -> None:
    for year in YEARS:
        cohort = sorted((p for p in pupils if p.year == year), key=lambda p: p.sort_key)
        year_forms = forms[year]
        for position, pupil in enumerate(cohort):
            pupil.form = year_forms[position % len(year_forms)]
        for pupil in cohort:
            twin = pupil.twin
            if twin is not None and int(pupil.id) < int(twin.id) and len(year_forms) > 1:
                # Twins are often, not always, in the same tutor group.
                if rng.random() < 0.7:
                    twin.form = pupil.form
                elif twin.form is pupil.form:
                    twin.form = year_forms[(pupil.form.index + 1) % len(year_forms)]


def make_leavers(rng: random.Random, n_students: int, pupils: list[Pupil], forms: dict[int, list[Form]]) -> None:
    """Mark a few known pupils as leavers (the export was taken with includeLeavers)."""
    count = round(n_students / 150) if n_students >= 150 else 0
    candidates = [p for p in pupils if p.year >= 8 and p.twin is None and p.entry < TERM_START]
    for pupil in rng.sample(candidates, min(count, len(candidates))):
        if rng.random() < 0.5:
            # Left at the end of last year: the MIS keeps the group they left from.
            pupil.leaving = LAST_SUMMER_TERM_END
            last_year = forms[pupil.year - 1]
            pupil.form = last_year[pupil.form.index % len(last_year)]
        else:
            pupil.leaving = school_day(TERM_START + timedelta(days=rng.randrange(1, 9)))
    for pupil in pupils:
        if pupil.leaving is None:
            pupil.form.members.append(pupil)


def assign_upns(rng: random.Random, n_students: int, pupils: list[Pupil], taken: Iterable[str] = ()) -> None:
    """A UPN for each pupil, none of them one of ``taken`` (UPNs already handed out)."""
    feeders = _feeder_schools(rng, n_students)
    used = {upn[1:] for upn in taken}
    for pupil in pupils:
        cohort_start = pupil.dob.year if pupil.dob.month >= 9 else pupil.dob.year - 1
        issued = f"{(cohort_start + 5) % 100:02d}"  # allocated on entry to Reception
        while True:
            la, estab = pick(rng, feeders)
            body = f"{la}{estab}{issued}{rng.randint(1, 999):03d}"
            if body not in used:
                used.add(body)
                break
        pupil.upn = check_letter(body) + body
        if rng.random() < 0.012:
            # A temporary UPN (two-digit serial and a letter) replaced by the permanent one.
            temporary = f"{la}{estab}{issued}{rng.randint(10, 99)}{pick(rng, UPN_ALPHABET)}"
            pupil.former_upn = check_letter(temporary) + temporary


def _feeder_schools(rng: random.Random, n_students: int) -> tuple[tuple[str, str], ...]:
    """Primary schools (LA, estab) whose UPNs our pupils carry; most are in Norfolk."""
    count = max(12, n_students // 250)
    other_las = ("935", "873", "881", "925", "202", "330")
    feeders = set()
    while len(feeders) < count:
        la = LA_CODE if rng.random() < 0.82 else pick(rng, other_las)
        feeders.add((la, f"{rng.randint(2000, 3999)}"))
    return tuple(sorted(feeders))


# --------------------------------------------------------------------------- student rows


def student_row(pupil: Pupil, ids: Ids) -> dict:
    """The pupil's Students row, also kept as ``pupil.row``; draws from the ids stream."""
    rng = ids.rng
    form, household = pupil.form, pupil.household
    year = form.year  # a leaver keeps the year group they left from
    email = None
    if rng.random() < 0.45:
        intake = (ACADEMIC_YEAR - (pupil.year - 7)) % 100
        local = f"{intake:02d}{names.as_ascii(pupil.surname)}{names.as_ascii(pupil.forename)[:1]}"
        email = ids.email(local, SCHOOL_DOMAIN)
    uln = None
    if pupil.year >= 10 and rng.random() < 0.9:
        while uln is None:
            first9 = f"{rng.randint(1, 9)}{rng.randrange(10**8):08d}"
            check = _uln_check_digit(first9)
            uln = None if check is None else f"{first9}{check}"
    leaving = pupil.leaving
    row = {
        "Id": pupil.id,
        "XID": ids.xid(),
        "ExternalId": ids.guid(),
        "IdaasId": f"PL-{pupil.id}",
        "Forename": pupil.forename,
        "Surname": pupil.surname,
        "DisplayName": f"{pupil.forename} {pupil.surname}",
        "AdmissionNo": pupil.admission_no,
        "Gender": pupil.gender,
        "RegGroupId": form.group_id,
        "RegGroup": form.code,
        "YearGroupId": year_group_id(year),
        "YearGroup": year_label(year),
        "HouseGroupId": house_group_id(household.house),
        "HouseGroup": HOUSES[household.house][1],
        "WorkEmail": email,
        "IdaasEmail": email if email and rng.random() < 0.5 else None,
        "DateofBirth": pupil.dob.isoformat(),
        "UniqueLearnerNumber": uln,
        "MiddleName": pupil.middle,
        "EnrolmentStatus": "C",
        "Boarder": 0,
        "LegalForename": pupil.legal_forename,
        "LegalSurname": pupil.legal_surname,
        "EntryDate": pupil.entry.isoformat(),
        **_leaving_fields(rng, leaving),
        "UPN": pupil.upn,
        "FormerUPN": pupil.former_upn,
        "ParentalSalutation": household.salutation,
        **household.address,
        "StudentStatus": "Leaver" if leaving else "OnRoll",
        "LastUpdated": stamp(rng, datetime(2026, 6, 1)),
    }
    row["RowHash"] = row_hash(row)
    pupil.row = row
    return row


def _uln_check_digit(first9: str) -> int | None:
    """The ULN check digit (weights 10..2, 10 - sum mod 11); None when no valid digit exists."""
    check = 10 - sum(w * int(d) for w, d in zip(range(10, 1, -1), first9)) % 11
    return None if check == 10 else check


def _leaving_fields(rng: random.Random, leaving: date | None) -> dict:
    if leaving is None:
        return {"LeavingDate": None, "Destination": None, "DestinationStartDate": None, "ReasonForLeaving": None}
    return {
        "LeavingDate": leaving.isoformat(),
        "Destination": pick(rng, ("Other school in England", "Further education college", "Moved abroad")),
        "DestinationStartDate": school_day(leaving + timedelta(days=3)).isoformat(),
        "ReasonForLeaving": pick(rng, LEAVING_REASONS),
    }
