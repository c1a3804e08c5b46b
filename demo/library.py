"""The library's borrower list as a librarian has typed it over the years, with its typos.

``LibraryBuilder`` draws it from the people the school builder made; ``Truth`` says who
each row really is and why it looks the way it does.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Iterator, NamedTuple

from demo import names
from demo.dates import TERM_START
from demo.names import pick, strip_accents
from demo.pupils import Form, Pupil

CSV_COLUMNS = (
    "ManagementSystemID", "Forename", "Surname", "DateOfBirth", "Gender", "TutorGroup",
    "YearGroup", "Barcode", "Type", "UPN", "AdmissionNo",
)  # fmt: skip


class Truth(NamedTuple):
    """Who a borrower CSV row really is, and why it is in the CSV the way it is.

    Categories (pupils are Years 8-13 who were here last year):
      id                 ManagementSystemID = Xporter Id (names may be legal, unaccented, capitals)
      name_dob           no ids; preferred forename, surname and DOB exactly as in the export
      name_dob_legal     no ids; legal forename/surname (which differ from the preferred) and DOB
      upn                no ManagementSystemID, only the UPN; half also have no DOB
      typo_name          no ids; one letter wrong in the forename or the surname
      typo_swap          no ids; forename and surname swapped
      typo_dob_digit     no ids; one digit of the DOB wrong
      typo_dob_daymonth  no ids; DOB typed month first
      twin_exact         a twin, no ids, names and DOB exact: only the forename tells the pair apart
      twin_typo          the other twin of every second pair, forename mistyped by one letter
      leaver_in_export   ManagementSystemID of a pupil the export lists as a Leaver
      leaver_gone        ManagementSystemID of a pupil who left before the export's window
      staff              ManagementSystemID = Staff Id (these numbers overlap pupil Ids)
      staff_gone         a colleague who has left, not in the export
    """

    person_type: str  # "Student" or "Staff", as in Xporter's PersonType
    person_id: str | None  # the Xporter Id; None when the person is not in the export
    category: str  # see above
    stale: bool  # TutorGroup/YearGroup are last year's


class LibraryBuilder:
    """The borrower list as the library holds it before the first sync.

    Pupils from Years 8-13 who were here last year are borrowers, recorded in one of
    several ways (with their MIS id, by name and date of birth, by UPN, with a typo);
    a few are missing.  Year 7 and this term's joiners are not borrowers yet.
    """

    def __init__(
        self,
        rng: random.Random,
        pupils: list[Pupil],
        gone: list[Pupil],
        staff: list[dict],
        forms: dict[int, list[Form]],
        twins: list[tuple[Pupil, Pupil]],
    ):
        self.rng = rng
        self.forms = forms
        self.rows: list[dict[str, str]] = []
        self.truth: dict[str, Truth] = {}
        self.not_in_library: dict[str, str] = {}
        self._barcodes: set[str] = set()
        self._next_s_barcode = 1234
        self._add_pupils(pupils, twins)
        self._add_gone_leavers(gone)
        self._add_staff(staff)
        self.rows.sort(key=lambda r: (r["Surname"].casefold(), r["Forename"].casefold(), r["Barcode"]))

    # ------------------------------------------------------------ pupils

    def _add_pupils(self, pupils: list[Pupil], twins: list[tuple[Pupil, Pupil]]) -> None:
        rng = self.rng
        known = []
        for pupil in pupils:
            if pupil.entry >= TERM_START:
                self.not_in_library[pupil.id] = "new"  # Year 7 and this term's joiners go to Intake
            elif pupil.leaving is not None:
                self._add_pupil(pupil, "leaver_in_export")
            elif pupil.twin is None:
                known.append(pupil)
        rng.shuffle(known)
        shares = {"name_dob": 0.15, "upn": 0.05, "typo": 0.04, "missing": 0.03}  # the rest: "id"
        chunks, start = {}, 0
        for category, share in shares.items():
            chunks[category] = known[start : start + round(share * len(known))]
            start += len(chunks[category])
        for pupil in chunks["name_dob"]:
            self._add_pupil(pupil, "name_dob")
        for pupil in chunks["upn"]:
            self._add_pupil(pupil, "upn")
        for pupil, kind in _typo_kinds(chunks["typo"]):
            self._add_pupil(pupil, kind)
        for pupil in chunks["missing"]:
            self.not_in_library[pupil.id] = "missing"
        for pupil in known[start:]:
            self._add_pupil(pupil, "id")
        for pair_index, (first, second) in enumerate(twins):
            if first.entry >= TERM_START:
                continue  # Year 7 twins are already "new"
            # Every other pair has one twin's forename mistyped.
            self._add_pupil(first, "twin_exact")
            self._add_pupil(second, "twin_exact" if pair_index % 2 == 0 else "twin_typo")

    def _add_pupil(self, pupil: Pupil, category: str) -> None:
        rng = self.rng
        has_msid = category in ("id", "leaver_in_export")
        category, forename, surname, dob = self._identity_as_typed(pupil, category)
        stale = category != "leaver_in_export" and rng.random() < 0.25
        year, tutor_group = self._groups_as_recorded(pupil, stale)
        entry = {
            "ManagementSystemID": pupil.id if has_msid else "",
            "Forename": forename,
            "Surname": surname,
            # Half the UPN-only rows have no date of birth either: only the UPN can match them.
            "DateOfBirth": "" if category == "upn" and rng.random() < 0.5 else dob,
            "Gender": _gender_as_typed(rng, pupil.gender),
            "TutorGroup": tutor_group,
            "YearGroup": _year_as_typed(rng, year),
            "Barcode": self._pupil_barcode(pupil, has_msid),
            "Type": "student" if rng.random() < 0.7 else "",
            "UPN": pupil.upn if category == "upn" or (has_msid and rng.random() < 0.3) else "",
            "AdmissionNo": pupil.admission_no if has_msid and rng.random() < 0.4 else "",
        }
        if category == "id" and rng.random() < 0.05:
            entry[pick(rng, ("DateOfBirth", "Gender", "TutorGroup", "YearGroup"))] = ""
        self._add(entry, Truth("Student", pupil.id, category, stale))

    def _identity_as_typed(self, pupil: Pupil, category: str) -> tuple[str, str, str, str]:
        """(category, forename, surname, DD/MM/YYYY) as the librarian typed them."""
        rng, row = self.rng, pupil.row
        forename, surname, dob = row["Forename"], row["Surname"], _dmy(row["DateofBirth"])
        legal = (row["LegalForename"], row["LegalSurname"])
        if category == "name_dob" and legal != (forename, surname) and rng.random() < 0.8:
            # Typed from the admission form, which has the legal name.
            return "name_dob_legal", *legal, dob
        if category in ("id", "leaver_in_export"):
            forename, surname = self._as_typed(forename, surname, row)
        elif category == "twin_typo":
            forename = _one_letter_typo(rng, forename)
        elif category == "typo_name":
            if rng.random() < 0.5:
                forename = _one_letter_typo(rng, forename)
            else:
                surname = _one_letter_typo(rng, surname)
        elif category == "typo_swap":
            forename, surname = surname, forename
        elif category == "typo_dob_digit":
            dob = _dob_digit_typo(rng, pupil.dob)
        elif category == "typo_dob_daymonth":
            dob = pupil.dob.strftime("%m/%d/%Y")
        return category, forename, surname, dob

    def _as_typed(self, forename: str, surname: str, row: dict) -> tuple[str, str]:
        """Rows matched by id may differ harmlessly: legal name, no accents, capitals."""
        rng = self.rng
        if row["LegalForename"] != forename and rng.random() < 0.3:
            forename = row["LegalForename"]
        if rng.random() < 0.3:
            forename, surname = strip_accents(forename), strip_accents(surname)
        if rng.random() < 0.03:
            surname = surname.upper()
        return forename, surname

    def _groups_as_recorded(self, pupil: Pupil, stale: bool) -> tuple[int, str]:
        """The year and tutor group on the borrower record: this year's, or last year's."""
        form = pupil.form
        if not stale or form.year <= 7:
            return form.year, form.code
        last_year = self.forms[form.year - 1]
        return form.year - 1, last_year[form.index % len(last_year)].code

    def _pupil_barcode(self, pupil: Pupil, has_msid: bool) -> str:
        # Old numeric barcodes from the previous system; then a spell when MLS set the barcode
        # to the Management ID on transfer; lately "S0001234".
        if pupil.entry.year <= 2021 or pupil.gone:
            return self._numeric_barcode()
        if pupil.entry.year <= 2023 and has_msid and pupil.id not in self._barcodes:
            return pupil.id
        return self._s_barcode()

    def _numeric_barcode(self) -> str:
        while True:
            barcode = str(self.rng.randint(100000, 999999))
            if barcode not in self._barcodes:
                return barcode

    def _s_barcode(self) -> str:
        while f"S{self._next_s_barcode:07d}" in self._barcodes:
            self._next_s_barcode += 1
        barcode = f"S{self._next_s_barcode:07d}"
        self._next_s_barcode += self.rng.randint(1, 3)
        return barcode

    def _add(self, entry: dict[str, str], who: Truth) -> None:
        self._barcodes.add(entry["Barcode"])
        self.rows.append(entry)
        self.truth[entry["Barcode"]] = who

    # ------------------------------------------------------------ leavers and staff

    def _add_gone_leavers(self, gone: list[Pupil]) -> None:
        for pupil in gone:
            self._add(
                {
                    "ManagementSystemID": pupil.id,
                    "Forename": pupil.forename,
                    "Surname": pupil.surname,
                    "DateOfBirth": pupil.dob.strftime("%d/%m/%Y"),
                    "Gender": _gender_as_typed(self.rng, pupil.gender),
                    "TutorGroup": pupil.form.code,
                    "YearGroup": _year_as_typed(self.rng, pupil.form.year),
                    "Barcode": self._numeric_barcode(),
                    "Type": "student" if self.rng.random() < 0.7 else "",
                    "UPN": pupil.upn if self.rng.random() < 0.3 else "",
                    "AdmissionNo": "",
                },
                Truth("Student", None, "leaver_gone", False),
            )

    def _add_staff(self, staff: list[dict]) -> None:
        rng = self.rng
        for person in rng.sample(staff, round(len(staff) * 0.75)):
            self._add(self._staff_entry(person), Truth("Staff", person["Id"], "staff", False))
        # Two colleagues who have left: their Ids sit in the gaps of the current numbering.
        current = {int(s["Id"]) for s in staff}
        gaps = [n for n in range(1, max(current, default=0)) if n not in current]
        for staff_id in rng.sample(gaps, min(2, len(gaps))):
            gender = pick(rng, "FM")
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(13000))
            person = {
                "Id": str(staff_id),
                "Forename": names.forename(rng, "british", gender, adult=True),
                "LegalForename": None,
                "Surname": names.surname(rng, "british"),
                "Gender": gender,
                "DateOfBirth": born.isoformat(),
                "RegGroup": None,
            }
            self._add(self._staff_entry(person), Truth("Staff", None, "staff_gone", False))

    def _staff_entry(self, person: dict) -> dict[str, str]:
        rng = self.rng
        tutor_group = (person["RegGroup"] or "").split(",")[0]
        year = "".join(c for c in tutor_group[:2] if c.isdigit())
        forename = person["Forename"]
        if person["LegalForename"] and rng.random() < 0.1:
            forename = person["LegalForename"]
        return {
            "ManagementSystemID": person["Id"],
            "Forename": forename,
            "Surname": person["Surname"],
            "DateOfBirth": _dmy(person["DateOfBirth"]) if rng.random() < 0.5 else "",
            "Gender": _gender_as_typed(rng, person["Gender"]),
            "TutorGroup": tutor_group or ("Staff" if rng.random() < 0.3 else ""),
            "YearGroup": _year_as_typed(rng, int(year)) if year else "",
            "Barcode": self._staff_barcode(),
            "Type": "staff",
            "UPN": "",
            "AdmissionNo": "",
        }

    def _staff_barcode(self) -> str:
        if self.rng.random() < 0.4:
            return self._numeric_barcode()
        while True:
            barcode = f"T{self.rng.randint(1, 9999):04d}"
            if barcode not in self._barcodes:
                return barcode


def _typo_kinds(pupils: list[Pupil]) -> Iterator[tuple[Pupil, str]]:
    """A quarter each of name typos, swapped names, a wrong digit and a day/month swap (the
    last only for dates where the swap is itself a valid, different date)."""
    quarter = len(pupils) // 4
    swappable = [p for p in pupils if p.dob.day <= 12 and p.dob.day != p.dob.month][:quarter]
    for pupil in swappable:
        yield pupil, "typo_dob_daymonth"
    chosen = set(swappable)
    others = [p for p in pupils if p not in chosen]
    for index, pupil in enumerate(others):
        yield pupil, ("typo_name", "typo_swap", "typo_dob_digit")[index % 3]


def _gender_as_typed(rng: random.Random, gender: str) -> str:
    return pick(rng, (gender, gender, gender, "Male" if gender == "M" else "Female"))


def _year_as_typed(rng: random.Random, year: int) -> str:
    return str(year) if rng.random() < 0.6 else f"Year {year}"


_NEIGHBOUR_KEYS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}  # fmt: skip


def _one_letter_typo(rng: random.Random, name: str) -> str:
    """One slip of the finger: a neighbouring key, a dropped, doubled or transposed letter."""
    positions = [i for i, c in enumerate(name) if c.isascii() and c.isalpha()]
    while True:
        i = pick(rng, positions[1:] or positions)  # people rarely mistype the first letter
        kind = rng.randrange(4)
        if kind == 0:
            swap = pick(rng, _NEIGHBOUR_KEYS[name[i].lower()])
            typo = name[:i] + (swap.upper() if name[i].isupper() else swap) + name[i + 1 :]
        elif kind == 1 and len(name) > 3:
            typo = name[:i] + name[i + 1 :]
        elif kind == 2:
            typo = name[:i] + name[i] + name[i:]
        else:
            typo = name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :] if i > 0 else name
        if typo != name:
            return typo


def _dob_digit_typo(rng: random.Random, dob: date) -> str:
    """DD/MM/YYYY with one digit wrong (day, month or the last digit of the year), still a real date."""
    text = dob.strftime("%d/%m/%Y")
    while True:
        position = pick(rng, (0, 1, 3, 4, 9))
        digit = str((int(text[position]) + rng.randint(1, 9)) % 10)
        candidate = text[:position] + digit + text[position + 1 :]
        try:
            datetime.strptime(candidate, "%d/%m/%Y")
        except ValueError:
            continue
        return candidate




def _dmy(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
