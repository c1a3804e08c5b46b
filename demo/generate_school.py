"""A deterministic demo secondary school, as Groupcall Xporter would export it.

mislink's demo, tests and benchmarks sync from this school.  It has two halves:

* ``demo/school/<Endpoint>.json`` (or ``.xml``): one Xporter response per
  endpoint (Students, Staff, Contacts, StudentContacts, PersonComms, Photos,
  Groups, SchoolInfo) in exactly the shape Xporter returns them: every id a
  string, flags 0/1, ``null`` for empty values, ``meta`` and ``__pagination__``,
  ``DateofBirth`` with a small o for pupils and ``"Year  7"`` with two spaces.
* ``demo/borrowers.csv``: the library's existing borrowers as a librarian has
  typed them over the years, in the columns of MLS's CSV import.  It holds the
  traps a real sync meets: missing ids, legal instead of preferred names,
  typos, twins, last year's tutor groups, leavers, and staff whose ids collide
  with pupils' ids.

The school is "Hollowfield Academy" (estab 926/2001, Norfolk) two weeks into
the 2026/27 autumn term, so Year 7 are new and not yet library borrowers.
Rows carry the fields of the scopes a library app would be granted (Student,
StudentExtended, UPN, Address, Contact, Staff, Photos, SchoolLite); SEN,
ethnicity, religion, funding and the like are left out, as they would be.

Contract: the same arguments give byte-identical files.  Every random choice
comes from a ``random.Random`` stream seeded from ``seed`` and a purpose, and
nothing reads the clock (the photos also assume the same Pillow JPEG encoder).
``truth(school)`` says who each CSV row really is.

    python -m demo.generate_school            # regenerate demo/school/ and demo/borrowers.csv
    python -m demo.generate_school --students 95000 --staff 5000 --out /tmp/big --csv /tmp/big.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import sys
import unicodedata
from base64 import b64encode
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

from engine.export.files import RESULT_SETS
from engine.upn import UPN_ALPHABET, check_letter

__all__ = [
    "CSV_COLUMNS",
    "School",
    "Truth",
    "build_school",
    "main",
    "render_xml",
    "summary",
    "truth",
    "write_borrowers_csv",
    "write_export",
]

DEMO_DIR = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- the school

SCHOOL_NAME = "HOLLOWFIELD ACADEMY"
SCHOOL_DOMAIN = "hollowfield.example"  # .example is reserved (RFC 2606): no real mailbox
LA_CODE = "926"  # Norfolk
ESTAB_ID = "9262001"
ACADEMIC_YEAR = 2026  # 2026/27
TERM_START = date(2026, 9, 2)  # first weekday on or after 2 September: see _first_school_day
LAST_SUMMER_TERM_END = date(2026, 7, 17)
EXPORT_TIME = datetime(2026, 9, 14, 6, 31, 8, 417000)  # a Monday morning, two weeks into term
YEARS = tuple(range(7, 14))
# Sixth-form cohorts are smaller: many pupils leave for college after Year 11.
COHORT_WEIGHT = {7: 1.0, 8: 1.0, 9: 1.0, 10: 1.0, 11: 1.0, 12: 0.55, 13: 0.5}
FORM_SIZE = {7: 30, 8: 30, 9: 30, 10: 30, 11: 30, 12: 16, 13: 16}
HOUSES = (("BRU", "Brunel"), ("CUR", "Curie"), ("SEA", "Seacole"), ("TUR", "Turing"))
LEAVING_REASONS = ("Transferred to another school", "Moved out of area", "Elective home education")
SUPPORT_ROLES = (
    "Teaching Assistant", "Teaching Assistant", "Administrator / Clerk", "Cover Supervisor",
    "Technician", "Site Manager", "Other Catering Staff", "Exams Officer", "Receptionist",
)  # fmt: skip

# Result set -> XML element for one record; anything else (meta, __pagination__) is <Row>.
RECORD_TAGS = {
    "Students": "Student",
    "StudentSiblings": "StudentSibling",
    "Staff": "StaffMember",
    "Contacts": "Contact",
    "StudentContacts": "StudentContact",
    "PersonComms": "PersonComm",
    "Photos": "Photo",
    "Group": "Group",
    "StaffMembers": "StaffMember",
    "StudentMembers": "StudentMember",
    "GroupTypes": "GroupType",
    "SchoolInfo": "SchoolInfo",
}
CSV_COLUMNS = (
    "ManagementSystemID", "Forename", "Surname", "DateOfBirth", "Gender", "TutorGroup",
    "YearGroup", "Barcode", "Type", "UPN", "AdmissionNo",
)  # fmt: skip
PHOTO_COUNT = 20
STAFF_PHOTOS = 4

# --------------------------------------------------------------------------- names

# origin: (share of households, girls, boys, surnames), each pool "Name:weight" (weight 1 if
# omitted).  Names keep their accents, apostrophes, hyphens and spaces: that is what a sync
# has to cope with.  Origins keep forenames and surnames plausible together.
NAME_POOLS = {
    "british": (
        60,
        "Olivia:10 Amelia:9 Isla:6 Ava:7 Mia:5 Ivy:4 Lily:6 Isabella:4 Sophia:4 Grace:6 Freya:5 "
        "Emily:6 Poppy:5 Ella:5 Evie:5 Charlotte:4 Jessica:4 Sophie:5 Chloe:4 Chloë:3 Zoe:2 Zoë:3 "
        "Eleanor:4 Katherine:3 Elizabeth:3 Rebecca:2 Abigail:3 Harriet:2 Matilda:3 Daisy:3 Rosie:3 "
        "Florence:3 Millie:4 Holly:3 Megan:3 Lucy:4 Hannah:4 Ruby:4 Alice:3 Phoebe:3 Imogen:2 "
        "Scarlett:3 Willow:2 Siân:3 Ffion Cerys Bethany:2 Jasmine:2 Layla:2 Victoria:2 Margaret "
        "Alexandra:2 Gabriella Renée:2",
        "Oliver:10 George:8 Harry:7 Noah:6 Jack:7 Leo:5 Arthur:5 Oscar:5 Charlie:6 Jacob:5 Thomas:6 "
        "William:6 James:6 Alfred:3 Frederick:3 Alexander:4 Samuel:4 Benjamin:4 Joshua:4 Daniel:4 "
        "Matthew:3 Edward:3 Henry:4 Archie:4 Theo:4 Lucas:4 Ethan:5 Mason:3 Max:3 Finley:3 Riley:3 "
        "Isaac:3 Dylan:3 Logan:2 Toby:3 Reuben:2 Rhys:2 Dafydd Callum:2 Kieran:2 Aidan:2 Aiden:2 "
        "Christopher:2 Nathaniel Tyler:2 Kai:2 Elijah:2",
        "Smith:20 Jones:12 Williams:10 Taylor:9 Brown:9 Davies:7 Evans:6 Wilson:7 Thomas:6 Johnson:6 "
        "Roberts:5 Robinson:5 Thompson:5 Wright:5 Walker:5 White:4 Edwards:4 Hughes:4 Green:4 Hall:4 "
        "Lewis:4 Harris:4 Clarke:4 Jackson:3 Wood:3 Turner:3 Martin:3 Cooper:3 Hill:3 Ward:3 Morris:3 "
        "Moore:3 Clark:3 Lee:3 King:3 Baker:3 Harrison:3 Morgan:3 Allen:2 James:2 Scott:2 Phillips:2 "
        "Watson:2 Davis:2 Parker:2 Price:2 Bennett:2 Young:2 Griffiths:2 Mitchell:2 Cook:2 Carter:2 "
        "Richardson:2 Bailey:2 Collins:2 Bell:2 Shaw:2 Miller:2 Cox:2 Richards:2 MacDonald:2 "
        "McKenzie:2 Fletcher:2 Barker:2 Howard:2 Chapman:2 Ellis:2 Webb:2 Gray:2 Holmes:2 Marshall:2 "
        "Gibson:2 Saunders:2 Knight:2 Pearce:2 Dixon:2 Campbell:2 Francis:2 Grant:2 Ramsay Goodwin "
        "Lorrin Cloves Fairweather Blackwood Ashworth",
    ),
    "irish": (
        4,
        "Niamh:3 Aoife:3 Siobhán:2 Saoirse:2 Róisín:2 Ciara:2 Orla:2 Caoimhe",
        "Seán:4 Oisín:2 Cian:2 Conor:3 Declan:2 Patrick:2 Eoin:2 Ciarán:2",
        "O'Brien:4 O'Connor:3 O'Sullivan:2 Murphy:4 Kelly:3 Byrne:2 Ryan:2 Walsh:2 McCarthy:2 "
        "Doyle:2 Gallagher:2 O'Neill:3 Quinn:2",
    ),
    "south_asian_muslim": (
        10,
        "Aisha:5 Fatima:5 Maryam:5 Zainab:4 Hafsa:3 Inaya:3 Amira:3 Safa:2 Anaya:2 Noor:2 Aleena:2 "
        "Hana:2 Khadija:3 Sumaya:2",
        "Mohammed:12 Muhammad:10 Mohammad:4 Yusuf:5 Ibrahim:5 Ayaan:4 Zayn:4 Hamza:4 Ali:3 Adam:4 "
        "Omar:3 Bilal:2 Rayyan:3 Zakariya:2 Ismail:2",
        "Khan:12 Ahmed:8 Ali:7 Hussain:8 Begum:3 Rahman:4 Iqbal:3 Akhtar:3 Mahmood:3 Shah:3 "
        "Chowdhury:3 Uddin:3 Islam:3 Malik:3 Butt:2 Raza:2 Siddiqui:2",
    ),
    "south_asian": (
        6,
        "Priya:4 Anaya:3 Simran:3 Harleen:2 Gurleen:2 Aarna:2 Diya:3 Kavya:2 Ishani:2 Meera:2",
        "Arjun:4 Aarav:4 Vihaan:2 Rohan:3 Harjot:2 Gurpreet:2 Jaskaran:2 Krish:3 Dev:2 Ravi:2 Aryan:3",
        "Patel:12 Singh:10 Kaur:4 Sharma:4 Gill:3 Sandhu:3 Kumar:3 Shah:3 Mistry:2 Dhillon:2 "
        "Sidhu:2 Chauhan:2 Joshi:2 Parmar:2",
    ),
    "eastern_european": (
        7,
        "Zofia:3 Wiktoria:3 Julia:3 Maja:3 Zuzanna:3 Oliwia:2 Natalia:2 Alicja:2 Daria:2 Anastasia",
        "Łukasz:5 Jakub:4 Szymon:3 Kacper:3 Filip:3 Mateusz:3 Tomasz:2 Antoni:2 Wojciech Andrei:2 "
        "Mihai",
        "Nowak:4 Kowalski:3 Wiśniewski:2 Wójcik:2 Kowalczyk:2 Kamiński:2 Lewandowski:2 Zieliński "
        "Szymański Popescu:2 Ionescu Kovács Petrov",
    ),
    "west_african": (
        5,
        "Adaeze:2 Chiamaka:2 Amara:3 Ama:2 Abena:2 Ifeoma:2 Esther:3 Blessing:2 Precious:2 Favour:2 "
        "Temitope:2",
        "Chidi:2 Kwame:3 Kofi:2 Tobi:3 Emmanuel:4 David:3 Samuel:3 Oluwaseun:2 Ayodele:2 Chinedu:2",
        "Okafor:3 Adeyemi:3 Mensah:3 Osei:3 Okonkwo:2 Boateng:3 Asante:2 Adebayo:3 Eze:2 Nwosu:2 "
        "Owusu:3 Bello:2 Ogunleye",
    ),
    "east_asian": (
        3,
        "Mei:3 Xinyi:2 Linh:2 Anh:2 Jia:2 Min-ji Yuki",
        "Wei:3 Jiahao:2 Hao:2 Minh:2 Jun:2 Haoran Kenji",
        "Chen:4 Wang:4 Li:4 Zhang:3 Liu:3 Nguyen:4 Tran:3 Le:2 Pham:2 Huang:2 Wong:3 Lam:2 Kim:2",
    ),
    "southern_european": (
        5,
        "Lucía:2 María:2 Inês:2 Giulia:2 Chiara:2 Renée:3 Amélie:2 Léa:2 Beatriz Sofía",
        "José:5 Mateo:2 Luca:3 Tiago:2 João:2 Hugo:2 Matteo:2 Gabriel:2 Raphaël Santiago",
        "García:2 Fernández:2 Rodríguez:2 Da Silva:3 Santos:3 Pereira:2 Rossi:2 Ferreira:2 Costa:2 "
        "Dubois:2 Lefèvre D'Angelo De Souza",
    ),
}
# Parents and staff of British origin have their generation's names, not their children's.
ADULT_BRITISH_FORENAMES = (
    "Sarah:6 Emma:5 Claire:5 Helen:5 Rebecca:4 Laura:5 Rachel:4 Lisa:4 Nicola:4 Joanne:3 Louise:4 "
    "Gemma:4 Kelly:3 Victoria:3 Katherine:3 Karen:3 Michelle:3 Amanda:3 Samantha:3 Jennifer:3 "
    "Hayley:3 Donna:2 Kirsty:2 Valerie Gillian:2 Susan:2 Alison:2 Catherine:3 Dawn:2 Julie:2",
    "David:6 Paul:5 Mark:5 Richard:4 Andrew:5 Stephen:4 Ian:3 Christopher:4 James:5 Daniel:4 "
    "Matthew:4 Michael:5 Robert:3 Simon:3 Jonathan:3 Gareth:2 Neil:3 Craig:3 Lee:3 Darren:2 "
    "Stuart:2 Wayne:2 Gary:2 Martin:3 Peter:3 John:4 Steven:3 Carl:2 Adam:3 William:2 Alfred",
)
# Legal forename -> the name the person actually goes by (the MIS "preferred" forename).
NICKNAMES = {
    "Alfred": "Alfie", "Frederick": "Freddie", "William": "Bill", "Mohammed": "Mo",
    "Muhammad": "Mo", "Thomas": "Tom", "Alexander": "Alex", "Samuel": "Sam", "Benjamin": "Ben",
    "Joshua": "Josh", "Daniel": "Danny", "Matthew": "Matty", "Edward": "Ted", "Henry": "Harry",
    "Christopher": "Chris", "Nathaniel": "Nate", "Zakariya": "Zak", "Jakub": "Kuba",
    "Łukasz": "Luke", "Oluwaseun": "Seun", "Ayodele": "Ayo", "Jiahao": "Jack",
    "Eleanor": "Ellie", "Isabella": "Izzy", "Katherine": "Kate", "Elizabeth": "Lizzie",
    "Rebecca": "Becky", "Abigail": "Abbie", "Charlotte": "Lottie", "Jessica": "Jess",
    "Victoria": "Tori", "Margaret": "Maggie", "Alexandra": "Lexi", "Gabriella": "Gabby",
    "Xinyi": "Cindy", "Temitope": "Temi", "Wiktoria": "Vicky", "Stephen": "Steve",
    "Jennifer": "Jenny", "Michael": "Mike", "Robert": "Rob", "Catherine": "Cathy",
}  # fmt: skip
# --------------------------------------------------------------------------- places

# (town, district, postcode districts, share).  Postcodes are made up but well formed.
TOWNS = (
    ("Norwich", None, ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6", "NR7"), 45),
    ("Norwich", "Costessey", ("NR8",), 8),
    ("Norwich", "Taverham", ("NR8",), 5),
    ("Norwich", "Hethersett", ("NR9",), 5),
    ("Wymondham", None, ("NR18",), 10),
    ("Attleborough", None, ("NR17",), 6),
    ("Dereham", None, ("NR19", "NR20"), 6),
    ("Norwich", "Sprowston", ("NR7",), 8),
    ("Norwich", "Poringland", ("NR14",), 4),
)
STREETS = (
    "Penrith Grove", "Hill Rise", "Windsor Road", "Sultan Road", "Unthank Road", "Earlham Road",
    "Dereham Road", "Newmarket Road", "Ipswich Road", "Bluebell Road", "Colney Lane", "Hall Road",
    "Church Lane", "Mill Lane", "Station Road", "The Avenue", "St Stephen's Road", "Queen's Road",
    "King Street", "Rosary Road", "Magdalen Street", "Aylsham Road", "Drayton High Road",
    "Mile Cross Road", "Plumstead Road", "Thorpe Road", "Yarmouth Road", "Harvey Lane",
    "Gurney Road", "Constitution Hill", "Spixworth Road", "Sprowston Road", "Wroxham Road",
    "Salhouse Road", "Cecil Road", "College Road", "Christchurch Road", "Bowthorpe Road",
    "Larkman Lane", "Beecheno Road", "Marl Pit Lane", "Waterworks Road", "Heigham Street",
    "Oak Street", "Silver Road", "Rupert Street", "Trinity Street", "Orchard Close", "Meadow Way",
    "Willow Crescent", "Beech Drive", "Chestnut Avenue", "Elm Grove", "Cherry Tree Close",
    "Poppy Way", "Blackthorn Road", "Hawthorn Close", "Lavender Close", "Foxglove Road",
    "Kestrel Avenue", "Heron Way", "Swallow Close", "Lime Tree Road", "Park Lane", "School Lane",
    "Norwich Road", "London Road", "Fairland Street", "Market Street", "Bridge Street",
    "Greenway Lane", "Brock Road", "Priory Road", "Abbey Road", "St Mary's Close", "Jubilee Way",
    "Coronation Road", "Victoria Street", "Albert Terrace",
)  # fmt: skip
HOUSE_NAMES = (
    "Rose Cottage", "The Old Rectory", "Orchard House", "Willow Barn", "Holly Lodge",
    "The Granary", "Meadow View", "Ivy Cottage",
)
APARTMENT_BLOCKS = ("Jubilee Court", "Wensum House", "Riverside Mews", "St Anne's Court")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code

# --------------------------------------------------------------------------- codes


def _uln_check_digit(first9: str) -> int | None:
    """The ULN check digit (weights 10..2, 10 - sum mod 11); None when no valid digit exists."""
    check = 10 - sum(w * int(d) for w, d in zip(range(10, 1, -1), first9)) % 11
    return None if check == 10 else check


# Version 4 and the RFC 4122 variant, as uuid.UUID(version=4) sets them.
_GUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_GUID_SET = (4 << 76) | (0x8000 << 48)

_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Đ": "D", "đ": "d"})


@lru_cache(maxsize=None)
def _ascii(text: str) -> str:
    """Letters and digits only, accents folded (Zoë -> Zoe, Łukasz -> Lukasz): for emails and codes."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isalnum())


@lru_cache(maxsize=None)
def _strip_accents(text: str) -> str:
    """Zoë -> Zoe but O'Brien stays O'Brien: how a name looks typed on a UK keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _row_hash(row: dict) -> str:
    """40 upper-case hex characters derived from the row, like Xporter's RowHash."""
    return hashlib.sha1(repr(list(row.values())).encode()).hexdigest().upper()


def _pool(spec: str) -> tuple[str, ...]:
    """Expand "Olivia:10 Zoë:3 Ffion" into a tuple where each name appears weight times."""
    names: list[str] = []
    for item in spec.split():
        name, _, weight = item.partition(":")
        names.extend([name] * int(weight or 1))
    return tuple(names)


def _pick(rng: random.Random, pool: tuple):
    return pool[int(rng.random() * len(pool))]


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: suffixes for tutor groups."""
    text = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        text = chr(65 + rem) + text
    return text


def _first_school_day(year: int) -> date:
    """First weekday on or after 2 September (the 1st is usually an INSET day)."""
    day = date(year, 9, 2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _school_day(day: date) -> date:
    """Move a weekend date to the following Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _birth_window(year_group: int, academic_year: int = ACADEMIC_YEAR) -> tuple[date, date]:
    """Children in Year N in academic year A were born between 1 Sep (A-N-5) and 31 Aug (A-N-4)."""
    return date(academic_year - year_group - 5, 9, 1), date(academic_year - year_group - 4, 8, 31)


def _stamp(rng: random.Random, earliest: datetime, latest: datetime = EXPORT_TIME) -> str:
    """A LastUpdated value: no time zone, trailing zeros of the fraction dropped (as .NET does)."""
    # Hot path (several rows per person): isoformat and random() are much cheaper than
    # strftime and randrange.  ``earliest`` has no microseconds, so isoformat has no fraction.
    moment = earliest + timedelta(seconds=int(rng.random() * (latest - earliest).total_seconds()))
    fraction = f"{int(rng.random() * 1000):03d}".rstrip("0")
    return moment.isoformat() + (f".{fraction}" if fraction else "")


@lru_cache(maxsize=None)  # one shared string per year, not one per pupil row
def _year_label(year_group: int) -> str:
    # SIMS puts two spaces after "Year" ("Year  4", "Year  N2" in the recorded samples).
    return f"Year  {year_group}"


def _dmy(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


# --------------------------------------------------------------------------- public API


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


def truth(school: School) -> dict[str, tuple[str, str] | None]:
    """Borrower Barcode -> (PersonType, Id) of the person the row really is; None for
    borrowers who are not in the export at all (left before the includeLeavers window)."""
    return {
        barcode: (t.person_type, t.person_id) if t.person_id is not None else None
        for barcode, t in school.borrower_truth.items()
    }


def summary(school: School) -> dict[str, object]:
    """Counts worth reporting: people per endpoint, leavers, twins, CSV rows per category."""
    students = school.rows("Students")
    return {
        "students": len(students),
        "on_roll": sum(s["StudentStatus"] == "OnRoll" for s in students),
        "leavers_in_export": sum(s["StudentStatus"] == "Leaver" for s in students),
        "per_year": dict(sorted(Counter(s["YearGroup"] for s in students).items(), key=lambda kv: int(kv[0][4:]))),
        "staff": len(school.rows("Staff")),
        "contacts": len(school.rows("Contacts")),
        "student_contacts": len(school.rows("StudentContacts")),
        "person_comms": len(school.rows("PersonComms")),
        "photos": len(school.rows("Photos")),
        "groups": len(school.rows("Groups")),
        "twin_pairs": len(school.twins),
        "borrowers": len(school.borrowers),
        "borrower_categories": dict(sorted(Counter(t.category for t in school.borrower_truth.values()).items())),
        "stale_groups": sum(t.stale for t in school.borrower_truth.values()),
        "not_in_library": dict(sorted(Counter(school.not_in_library.values()).items())),
    }


# --------------------------------------------------------------------------- writing


def write_export(school: School, out_dir: Path, fmt: str = "json") -> None:
    """Write one file per endpoint (Students.json, Groups.json, ...) into ``out_dir``.

    JSON is compact, UTF-8, not ASCII-escaped, byte-identical to
    ``json.dumps(response, ensure_ascii=False, separators=(",", ":"))`` but streamed in
    batches so a 100,000-row export never exists twice in memory.
    """
    if fmt not in ("json", "xml"):
        raise ValueError(f"unknown format {fmt!r}: use 'json' or 'xml'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for endpoint, response in school.responses.items():
        chunks = _iter_json(response) if fmt == "json" else _iter_xml(response, RESULT_SETS[endpoint])
        with open(out_dir / f"{endpoint}.{fmt}", "w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)


def write_borrowers_csv(school: School, path: Path) -> None:
    """The library's borrower list, CRLF line ends as Excel saves it, no byte-order mark."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(school.borrowers)


def render_xml(response: dict, result_set_key: str) -> str:
    """An Xporter response as XML: <Response>, one child per top-level key (the result set
    first), one element per record, one child per field, an empty element for null."""
    return "".join(_iter_xml(response, result_set_key))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_BATCH = 2000


def _iter_json(response: dict) -> Iterator[str]:
    yield "{"
    for position, (key, value) in enumerate(response.items()):
        yield ("," if position else "") + _JSON.encode(key) + ":"
        if isinstance(value, list) and len(value) > _BATCH:
            yield "["
            for start in range(0, len(value), _BATCH):
                # Encoding a slice and dropping its brackets gives exactly the one-shot bytes.
                yield ("," if start else "") + _JSON.encode(value[start : start + _BATCH])[1:-1]
            yield "]"
        else:
            yield _JSON.encode(value)
    yield "}"


def _iter_xml(response: dict, result_set_key: str) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="utf-8"?>\n<Response>\n'
    keys = [result_set_key, *(key for key in response if key != result_set_key)]
    for key in keys:
        records = response[key]
        if records is None or records == []:
            yield f"  <{key}/>\n"
            continue
        if not isinstance(records, (list, dict)):  # e.g. an error envelope's ExceptionMessage
            yield f"  <{key}>{_xml_text(records)}</{key}>\n"
            continue
        if isinstance(records, dict):
            records = [records]
        tag = RECORD_TAGS.get(key, "Row")
        yield f"  <{key}>\n"
        for start in range(0, len(records), _BATCH):
            yield "".join(f"    {_xml_record(tag, record)}\n" for record in records[start : start + _BATCH])
        yield f"  </{key}>\n"
    yield "</Response>\n"


def _xml_record(tag: str, record: dict) -> str:
    fields = "".join(
        f"<{name}/>" if value is None else f"<{name}>{_xml_text(value)}</{name}>"
        for name, value in record.items()
    )
    return f"<{tag}>{fields}</{tag}>"


def _xml_text(value) -> str:
    if isinstance(value, str):
        # Text content keeps spaces and newlines; only \r would be normalised away by a parser.
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as an XML field value")


# --------------------------------------------------------------------------- the builder


class _Household:
    """A family home: pupils who share it are siblings and share their guardians."""

    __slots__ = ("origin", "surname", "address", "house", "pupils", "salutation")

    def __init__(self, origin: str, surname: str, address: dict, house: int):
        self.origin, self.surname, self.address, self.house = origin, surname, address, house
        self.pupils: list[_Pupil] = []
        self.salutation: str | None = None  # "Mr and Mrs Smith", once the guardians are known


class _Pupil:
    """Working state for one pupil before it becomes an Xporter row."""

    __slots__ = (
        "year", "gender", "forename", "legal_forename", "middle", "surname", "legal_surname",
        "dob", "entry", "household", "form", "twin", "leaving", "gone", "id", "admission_no",
        "upn", "former_upn", "row", "sort_key",
    )  # fmt: skip

    def __init__(self, year: int, household: _Household):
        self.year, self.household = year, household
        self.form: _Form | None = None
        self.twin: _Pupil | None = None
        self.leaving: date | None = None  # a leaver still in the export (includeLeavers)
        self.gone = False  # left before the includeLeavers window: only the library remembers them
        self.former_upn = None
        self.row: dict | None = None


class _Form:
    """A tutor (registration) group."""

    __slots__ = ("year", "index", "code", "group_id", "tutor", "members")

    def __init__(self, year: int, index: int, group_id: str):
        self.year, self.index, self.group_id = year, index, group_id
        self.code = ""
        self.tutor: dict | None = None  # a Staff row
        self.members: list[_Pupil] = []


class _SchoolBuilder:
    """Builds the Xporter responses, then hands the people to _LibraryBuilder for the CSV."""

    def __init__(self, students: int, staff: int, seed: int):
        self.n_students, self.n_staff, self.seed = students, staff, seed
        self.id_rng = self._rng("ids")
        self._xids: set[str] = set()
        self._postcodes: dict[tuple, str] = {}
        self._emails: dict[str, int] = {}  # local@domain -> how many people have it
        self._comms_id = 13000
        self._pools = {
            origin: (share, _pool(girls), _pool(boys), _pool(surnames))
            for origin, (share, girls, boys, surnames) in NAME_POOLS.items()
        }
        self._origins = _pool(" ".join(f"{origin}:{spec[0]}" for origin, spec in NAME_POOLS.items()))
        self._adult_british = (_pool(ADULT_BRITISH_FORENAMES[0]), _pool(ADULT_BRITISH_FORENAMES[1]))
        self._towns = _pool(" ".join(f"{i}:{town[3]}" for i, town in enumerate(TOWNS)))
        # Legal names that have a well-known short form, per origin and gender, keeping their weights.
        self._formal = {
            (origin, gender): tuple(n for n in pool if n in NICKNAMES)
            for origin, (_, girls, boys, _s) in self._pools.items()
            for gender, pool in (("F", girls), ("M", boys))
        }

    def _rng(self, purpose: str) -> random.Random:
        # One stream per purpose, so a change in one part (say the staff count) leaves the others be.
        return random.Random(f"mislink-demo:{self.seed}:{purpose}")

    # ------------------------------------------------------------ ids

    def _xid(self) -> str:
        while True:
            xid = "x" + "".join(self.id_rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=6))
            if xid not in self._xids:
                self._xids.add(xid)
                return xid

    def _guid(self) -> str:
        """A version-4 GUID from the seeded stream: the text of uuid.UUID(int=bits, version=4),
        formatted directly because UUID objects cost a noticeable share of a big build."""
        bits = self.id_rng.getrandbits(128) & _GUID_KEEP | _GUID_SET
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def _email(self, local: str, domain: str) -> str:
        """A unique address: sarah.smith@, then sarah.smith2@, sarah.smith3@..."""
        key = f"{local.lower()}@{domain}"
        n = self._emails[key] = self._emails.get(key, 0) + 1
        return key if n == 1 else key.replace("@", f"{n}@", 1)

    # ------------------------------------------------------------ build

    def build(self) -> School:
        staff = self._make_staff()
        cohort = self._cohort_sizes()
        forms = self._make_forms(cohort, staff)
        for row in staff:
            row["RowHash"] = _row_hash(row)
        pupils, households, twins = self._make_pupils(cohort)
        gone = self._make_gone_leavers()
        self._number_pupils(pupils + gone)
        self._place_in_forms(pupils, forms)
        self._make_leavers(pupils, forms)
        self._assign_upns(pupils + gone)
        contacts, links = self._make_contacts(households)
        students = [self._student_row(p) for p in sorted(pupils, key=lambda p: int(p.id))]
        comms = self._make_comms(pupils, staff, contacts)
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
        library = _LibraryBuilder(self._rng("library"), pupils, gone, staff, forms, twins)
        return School(
            seed=self.seed,
            responses=responses,
            borrowers=library.rows,
            borrower_truth=library.truth,
            not_in_library=library.not_in_library,
            twins=[(a.id, b.id) for a, b in twins],
        )

    def _meta(self) -> list[dict]:
        stamp = EXPORT_TIME.isoformat(timespec="milliseconds")
        return [{"Id": 1, "MIS": "simsnet", "Version": "4", "DateTime": stamp}]

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

    # ------------------------------------------------------------ names and places

    def _origin(self, rng: random.Random) -> str:
        return _pick(rng, self._origins)

    def _forename(self, rng: random.Random, origin: str, gender: str, adult: bool = False) -> str:
        if adult and origin == "british":
            return _pick(rng, self._adult_british[gender == "M"])
        # A child of any family may have a name from the majority pool.
        if origin != "british" and rng.random() < 0.12:
            origin = "british"
        _, girls, boys, _ = self._pools[origin]
        return _pick(rng, boys if gender == "M" else girls)

    def _surname(self, rng: random.Random, origin: str) -> str:
        return _pick(rng, self._pools[origin][3])

    def _preferred_forename(self, rng: random.Random, origin: str, gender: str, rate: float) -> tuple[str, str]:
        """(legal, preferred): for ``rate`` of people a formal legal name and its short form."""
        if rng.random() < rate:
            formal = self._formal[(origin, gender)] or self._formal[("british", gender)]
            legal = _pick(rng, formal)
            return legal, NICKNAMES[legal]
        name = self._forename(rng, origin, gender)
        return name, name

    def _address(self, rng: random.Random) -> dict:
        town, district, outcodes, _ = TOWNS[int(_pick(rng, self._towns))]
        street = _pick(rng, STREETS)
        number = rng.randint(1, 140)
        house_no: str | None = str(number)
        house_name = apartment = None
        kind = rng.random()
        if kind < 0.06:
            house_no, house_name = None, _pick(rng, HOUSE_NAMES)
        elif kind < 0.15:
            apartment, house_name = f"Flat {rng.randint(1, 24)}", _pick(rng, APARTMENT_BLOCKS)
        # Neighbours share a postcode: one per stretch of about twenty doors.
        block = (town, district, street, number // 20)
        postcode = self._postcodes.get(block)
        if postcode is None:
            postcode = (
                f"{_pick(rng, outcodes)} {rng.randint(1, 9)}"
                f"{_pick(rng, POSTCODE_LETTERS)}{_pick(rng, POSTCODE_LETTERS)}"
            )
            self._postcodes[block] = postcode
        county = "Norfolk" if rng.random() < 0.4 else None
        first_line = f"{house_no} {street}" if house_no else street
        lines = [apartment, house_name, first_line, district, town, county, postcode, "United Kingdom"]
        return {
            "AddressBlock": "\n".join(line for line in lines if line),
            "HouseNo": house_no,
            "HouseName": house_name,
            "Apartment": apartment,
            "Street": street,
            "District": district,
            "TownOrCity": town,
            "County": county,
            "PostCode": postcode,
            "Country": "United Kingdom",
        }

    @staticmethod
    def _phone(rng: random.Random, mobile: bool) -> str:
        # Ofcom's drama ranges: numbers that will never ring anyone.
        number = int(rng.random() * 1000)
        return f"07700 900{number:03d}" if mobile else f"01632 960{number:03d}"

    # ------------------------------------------------------------ staff

    def _make_staff(self) -> list[dict]:
        rng = self._rng("staff")
        rows: list[dict] = []
        codes: set[str] = set()
        next_id = 1  # staff Ids deliberately share the numbers pupils use: key on (PersonType, Id)
        for index in range(self.n_staff):
            rows.append(self._staff_row(rng, index, str(next_id), codes))
            next_id += _pick(rng, (1, 1, 1, 2, 3, 5))  # gaps: colleagues who have left
        return rows

    def _staff_role(self, rng: random.Random, index: int) -> tuple[str, bool]:
        fixed = {0: "Headteacher", 1: "Deputy Headteacher", 2: "Deputy Headteacher", 5: "Librarian"}
        if index in fixed:
            return fixed[index], fixed[index] != "Librarian"
        if rng.random() < 0.62:
            return ("Head of Department" if rng.random() < 0.12 else "Teacher"), True
        return _pick(rng, SUPPORT_ROLES), False

    def _staff_row(self, rng: random.Random, index: int, staff_id: str, codes: set[str]) -> dict:
        role, is_teacher = self._staff_role(rng, index)
        origin = "british" if rng.random() < 0.72 else self._origin(rng)
        gender = "F" if rng.random() < 0.66 else "M"
        legal_forename = self._forename(rng, origin, gender, adult=True)
        forename = legal_forename
        if legal_forename in NICKNAMES and rng.random() < 0.25:
            forename = NICKNAMES[legal_forename]  # Mr W Smith who signs his emails "Bill"
        legal_surname = self._surname(rng, origin)
        # Some teachers keep their maiden name at work: the MIS holds both.
        surname = self._surname(rng, origin) if gender == "F" and rng.random() < 0.06 else legal_surname
        title = self._title(rng, gender)
        dob = date(1961, 1, 1) + timedelta(days=rng.randrange(15600))
        start = _school_day(date(max(dob.year + 22, 1992), 9, 1) + timedelta(days=rng.randrange(3000)))
        start = min(start, TERM_START)
        code = self._staff_code(forename, surname, codes)
        work_email = self._email(f"{_ascii(forename)[:1]}.{_ascii(surname)}", SCHOOL_DOMAIN)
        home_email = None
        if rng.random() < 0.4:
            home_email = self._email(f"{_ascii(forename)}.{_ascii(surname)}", "example.com")
        row = {
            "Id": staff_id,
            "XID": self._xid(),
            "IdaasId": f"PWT-{staff_id}",
            "ExternalId": self._guid(),
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
            "MiddleName": self._forename(rng, origin, gender) if rng.random() < 0.3 else None,
            "LegalForename": legal_forename,
            "LegalSurname": legal_surname,
            "DateOfBirth": dob.isoformat(),
            "EmploymentStart": start.isoformat(),
            "EmploymentEnd": "2026-12-31" if rng.random() < 0.03 else None,
            "Roles": role,
            "HomeEmail": home_email,
            "HomePhone": self._phone(rng, mobile=False) if rng.random() < 0.4 else None,
            "MobilePhone": self._phone(rng, mobile=True) if rng.random() < 0.6 else None,
            **self._address(rng),
            "IsTeacher": int(is_teacher),
            "IsSupport": int(not is_teacher),
            "RegGroup": None,  # filled in when tutor groups are made
            "LastUpdated": _stamp(rng, datetime(2026, 6, 1)),
        }  # RowHash is added once RegGroup is known
        return row

    @staticmethod
    def _title(rng: random.Random, gender: str) -> str:
        draw = rng.random()
        if draw < 0.04:
            return "Dr"
        if gender == "M":
            return "Mr"
        return "Mrs" if draw < 0.55 else ("Ms" if draw < 0.8 else "Miss")

    @staticmethod
    def _staff_code(forename: str, surname: str, taken: set[str]) -> str:
        first, last = _ascii(forename).upper() or "X", _ascii(surname).upper() or "X"
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

    # ------------------------------------------------------------ forms

    def _cohort_sizes(self) -> dict[int, int]:
        total = sum(COHORT_WEIGHT.values())
        sizes = {y: int(self.n_students * COHORT_WEIGHT[y] / total) for y in YEARS}
        for y in YEARS[: self.n_students - sum(sizes.values())]:
            sizes[y] += 1
        return sizes

    def _make_forms(self, cohort: dict[int, int], staff: list[dict]) -> dict[int, list[_Form]]:
        forms: dict[int, list[_Form]] = {}
        group_id = 180
        for year in YEARS:
            count = max(1, round(cohort[year] / FORM_SIZE[year])) if cohort[year] else 0
            forms[year] = [_Form(year, i, str(group_id + i)) for i in range(count)]
            group_id += count + 2  # the MIS numbers groups with gaps (deleted/teaching groups)
        self._assign_tutors([f for year in YEARS for f in forms[year]], staff)
        return forms

    def _assign_tutors(self, forms: list[_Form], staff: list[dict]) -> None:
        rng = self._rng("tutors")
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
                code = f"{form.year}{_letters(form.index)}"
            while code in taken:  # a letter code that happens to equal a tutor's initials
                code += "X"
            taken.add(code)
            form.code = code
            if tutor is not None:
                tutor["RegGroup"] = f"{tutor['RegGroup']},{code}" if tutor["RegGroup"] else code

    # ------------------------------------------------------------ pupils

    def _make_pupils(self, cohort: dict[int, int]) -> tuple[list[_Pupil], list[_Household], list[tuple]]:
        rng = self._rng("pupils")
        twin_pairs = round(self.n_students / 180) if self.n_students >= 60 else 0
        # Spread twins over the years; most pairs fall in Years 8-13, so the library knows them.
        twin_years = Counter((7, 9, 11, 8, 10, 12, 13)[i % 7] for i in range(twin_pairs))
        households: list[_Household] = []
        pupils: list[_Pupil] = []
        twins: list[tuple[_Pupil, _Pupil]] = []
        for year in reversed(YEARS):  # oldest first, so younger siblings can join their families
            pairs = min(twin_years[year], cohort[year] // 2)
            for _ in range(pairs):
                household = self._new_household(rng)
                households.append(household)
                first = self._new_pupil(rng, household, year)
                second = self._new_pupil(rng, household, year, twin_of=first)
                pupils += (first, second)
                twins.append((first, second))
            for _ in range(cohort[year] - 2 * pairs):
                pupil = self._sibling(rng, households, year) if rng.random() < 0.2 else None
                if pupil is None:
                    household = self._new_household(rng)
                    households.append(household)
                    pupil = self._new_pupil(rng, household, year)
                pupils.append(pupil)
        return pupils, households, twins

    def _new_household(self, rng: random.Random) -> _Household:
        origin = self._origin(rng)
        surname = self._surname(rng, origin)
        if rng.random() < 0.04:
            second = self._surname(rng, origin)
            if second != surname and " " not in second + surname:
                surname = f"{surname}-{second}"  # Smith-Jones
        return _Household(origin, surname, self._address(rng), rng.randrange(len(HOUSES)))

    def _sibling(self, rng: random.Random, households: list[_Household], year: int) -> _Pupil | None:
        """A younger brother or sister for an existing family, if one fits."""
        for _ in range(3):
            if not households:
                return None
            household = households[rng.randrange(len(households))]
            if len(household.pupils) >= 3 or any(p.year == year for p in household.pupils):
                continue
            pupil = self._new_pupil(rng, household, year)
            # Siblings who are not twins are born at least ten months apart.
            if all(abs((pupil.dob - p.dob).days) > 300 for p in household.pupils[:-1]):
                return pupil
            household.pupils.pop()
        return None

    def _new_pupil(
        self, rng: random.Random, household: _Household, year: int, twin_of: _Pupil | None = None
    ) -> _Pupil:
        pupil = _Pupil(year, household)
        origin = household.origin
        pupil.gender = "F" if rng.random() < 0.5 else "M"
        legal, preferred = self._preferred_forename(rng, origin, pupil.gender, rate=0.08)
        while twin_of is not None and {legal, preferred} & {twin_of.legal_forename, twin_of.forename}:
            legal, preferred = self._preferred_forename(rng, origin, pupil.gender, rate=0.08)
        pupil.legal_forename, pupil.forename = legal, preferred
        pupil.middle = self._middle_name(rng, origin, pupil.gender)
        pupil.legal_surname = household.surname
        if household.pupils and twin_of is None and rng.random() < 0.1:
            pupil.legal_surname = self._surname(rng, origin)  # a half-brother or half-sister
        pupil.surname = pupil.legal_surname
        if rng.random() < 0.012:
            # Known at school by a step-parent's surname, or both parents' names.
            other = self._surname(rng, origin)
            if other != pupil.legal_surname:
                pupil.surname = other if rng.random() < 0.5 else f"{pupil.legal_surname}-{other}"
        if twin_of is not None:
            pupil.dob, pupil.entry, pupil.twin = twin_of.dob, twin_of.entry, twin_of
            twin_of.twin = pupil
        else:
            earliest, latest = _birth_window(year)
            pupil.dob = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
            pupil.entry = self._entry_date(rng, year)
        pupil.sort_key = rng.random()
        household.pupils.append(pupil)
        return pupil

    def _middle_name(self, rng: random.Random, origin: str, gender: str) -> str | None:
        draw = rng.random()
        if draw < 0.3:
            return self._forename(rng, origin, gender)
        if draw < 0.35:
            return f"{self._forename(rng, origin, gender)} {self._forename(rng, 'british', gender)}"
        return None

    @staticmethod
    def _entry_date(rng: random.Random, year: int) -> date:
        year7_intake = _first_school_day(ACADEMIC_YEAR - (year - 7))
        if year >= 12 and rng.random() < 0.25:
            return _first_school_day(ACADEMIC_YEAR - (year - 12))  # joined the sixth form
        if 8 <= year <= 11 and rng.random() < 0.04:
            # In-year admission, some time after their Year 7 intake and before last summer.
            span = (LAST_SUMMER_TERM_END - year7_intake).days
            return _school_day(year7_intake + timedelta(days=rng.randrange(30, span)))
        return year7_intake

    def _make_gone_leavers(self) -> list[_Pupil]:
        """Pupils who left in July 2025 or before: outside includeLeavers (current and previous
        academic year), so not in the export, but their borrower records were never removed."""
        rng = self._rng("gone")
        gone = []
        for _ in range(round(self.n_students / 75)):
            then_year = _pick(rng, (11, 11, 13, 13, 13, 9))  # the year group they left from, 2024/25
            household = self._new_household(rng)
            pupil = self._new_pupil(rng, household, then_year)
            earliest, latest = _birth_window(then_year, ACADEMIC_YEAR - 2)
            pupil.dob = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
            pupil.entry = _first_school_day(ACADEMIC_YEAR - 2 - (then_year - 7))
            pupil.leaving = date(2025, 7, 18)
            pupil.gone = True
            pupil.form = _Form(then_year, rng.randrange(5), "")
            pupil.form.code = f"{then_year}{_letters(pupil.form.index)}"
            gone.append(pupil)
        return gone

    def _number_pupils(self, pupils: list[_Pupil]) -> None:
        # The MIS hands out Ids and admission numbers in order of arrival.
        next_id, admission = 1, 1001
        for pupil in sorted(pupils, key=lambda p: (p.entry, p.sort_key)):
            pupil.id = str(next_id)
            pupil.admission_no = f"{admission:06d}"
            next_id += _pick(self.id_rng, (1, 1, 2, 2, 3, 4))
            admission += _pick(self.id_rng, (1, 1, 1, 1, 2))

    def _place_in_forms(self, pupils: list[_Pupil], forms: dict[int, list[_Form]]) -> None:
        rng = self._rng("forms")
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

    def _make_leavers(self, pupils: list[_Pupil], forms: dict[int, list[_Form]]) -> None:
        """Mark a few known pupils as leavers (the export was taken with includeLeavers)."""
        rng = self._rng("leavers")
        count = round(self.n_students / 150) if self.n_students >= 150 else 0
        candidates = [p for p in pupils if p.year >= 8 and p.twin is None and p.entry < TERM_START]
        for pupil in rng.sample(candidates, min(count, len(candidates))):
            if rng.random() < 0.5:
                # Left at the end of last year: the MIS keeps the group they left from.
                pupil.leaving = LAST_SUMMER_TERM_END
                last_year = forms[pupil.year - 1]
                pupil.form = last_year[pupil.form.index % len(last_year)]
            else:
                pupil.leaving = _school_day(TERM_START + timedelta(days=rng.randrange(1, 9)))
        for pupil in pupils:
            if pupil.leaving is None:
                pupil.form.members.append(pupil)

    def _assign_upns(self, pupils: list[_Pupil]) -> None:
        rng = self._rng("upns")
        feeders = self._feeder_schools(rng)
        used: set[str] = set()
        for pupil in pupils:
            cohort_start = pupil.dob.year if pupil.dob.month >= 9 else pupil.dob.year - 1
            issued = f"{(cohort_start + 5) % 100:02d}"  # allocated on entry to Reception
            while True:
                la, estab = _pick(rng, feeders)
                body = f"{la}{estab}{issued}{rng.randint(1, 999):03d}"
                if body not in used:
                    used.add(body)
                    break
            pupil.upn = check_letter(body) + body
            if rng.random() < 0.012:
                # A temporary UPN (two-digit serial and a letter) replaced by the permanent one.
                temporary = f"{la}{estab}{issued}{rng.randint(10, 99)}{_pick(rng, UPN_ALPHABET)}"
                pupil.former_upn = check_letter(temporary) + temporary

    def _feeder_schools(self, rng: random.Random) -> tuple[tuple[str, str], ...]:
        """Primary schools (LA, estab) whose UPNs our pupils carry; most are in Norfolk."""
        count = max(12, self.n_students // 250)
        other_las = ("935", "873", "881", "925", "202", "330")
        feeders = set()
        while len(feeders) < count:
            la = LA_CODE if rng.random() < 0.82 else _pick(rng, other_las)
            feeders.add((la, f"{rng.randint(2000, 3999)}"))
        return tuple(sorted(feeders))

    # ------------------------------------------------------------ contacts

    def _make_contacts(self, households: list[_Household]) -> tuple[list[dict], list[dict]]:
        """Guardians of pupils on roll (Xporter leaves out contacts of leavers), and the links."""
        rng = self._rng("contacts")
        contacts: list[dict] = []
        links: list[dict] = []
        next_id = 1000  # contact Ids overlap pupil and staff Ids too
        for household in households:
            on_roll = sorted((p for p in household.pupils if p.leaving is None), key=lambda p: int(p.id))
            if not on_roll:
                continue
            parents = []
            guardians = self._guardians(rng, household)
            for priority, (relationship, gender, surname, parresp, address) in enumerate(guardians, 1):
                row = self._contact_row(rng, str(next_id), household.origin, gender, surname, address)
                next_id += _pick(rng, (1, 1, 2, 3))
                contacts.append(row)
                if parresp:
                    parents.append(row)
                for pupil in on_roll:
                    links.append(self._link(pupil, row, relationship, priority, parresp))
            household.salutation = _salutation(parents[:2])
        return contacts, links

    def _guardians(self, rng: random.Random, household: _Household) -> list[tuple[str, str, str, int, dict]]:
        """(relationship, gender, surname, parental responsibility, address), main contact first."""
        origin, family = household.origin, household.surname
        father_surname = family.split("-")[0]
        mother_surname = family if rng.random() < 0.7 else family.split("-")[-1]
        if mother_surname == family and rng.random() < 0.15:
            mother_surname = self._surname(rng, origin)  # kept her own name
        shape = rng.random()
        if shape < 0.62:
            people = [("Mother", "F", mother_surname, 1), ("Father", "M", father_surname, 1)]
            if rng.random() < 0.3:
                people.reverse()
        elif shape < 0.67:
            people = [("Mother", "F", mother_surname, 1), ("Step-father", "M", self._surname(rng, origin), 0)]
        elif shape < 0.88:
            people = [("Mother", "F", mother_surname, 1)]
        elif shape < 0.93:
            people = [("Father", "M", father_surname, 1)]
        elif shape < 0.97:
            people = [("Grandparent", _pick(rng, "FM"), family, 1)]
        else:
            people = [("Carer", _pick(rng, "FM"), self._surname(rng, "british"), 0)]  # foster carer
        if rng.random() < 0.1:  # an emergency contact who is not a parent
            relation = _pick(rng, ("Grandparent", "Grandparent", "Aunt", "Uncle", "Family Friend"))
            gender = {"Aunt": "F", "Uncle": "M"}.get(relation) or _pick(rng, "FM")
            surname = self._surname(rng, origin) if relation == "Family Friend" else family
            people.append((relation, gender, surname, 0))
        return [
            # Now and then the second parent lives elsewhere.
            (relationship, gender, surname, parresp,
             self._address(rng) if position and relationship in ("Father", "Mother") and rng.random() < 0.08
             else household.address)
            for position, (relationship, gender, surname, parresp) in enumerate(people)
        ]  # fmt: skip

    def _contact_row(
        self, rng: random.Random, contact_id: str, origin: str, gender: str, surname: str, address: dict
    ) -> dict:
        forename = self._forename(rng, origin, gender, adult=True)
        title = self._title(rng, gender)
        email_name = f"{_ascii(forename)}.{_ascii(surname)}"
        home_domain = _pick(rng, ("example.com", "example.org", "example.net"))
        row = {
            "Id": contact_id,
            "IdaasId": f"PC-{contact_id}",
            "ExternalId": self._guid(),
            "Title": title,
            "Suffix": None,
            "Surname": surname,
            "Forename": forename,
            "DisplayName": f"{title} {forename} {surname}",
            "WorkEmail": self._email(email_name, "work.example") if rng.random() < 0.2 else None,
            "WorkPhone": self._phone(rng, mobile=False) if rng.random() < 0.15 else None,
            "HomeEmail": self._email(email_name, home_domain) if rng.random() < 0.75 else None,
            "HomePhone": self._phone(rng, mobile=False) if rng.random() < 0.4 else None,
            "MobilePhone": self._phone(rng, mobile=True) if rng.random() < 0.9 else None,
            **address,
            "LastUpdated": _stamp(rng, datetime(2025, 9, 1)),
        }
        row["RowHash"] = _row_hash(row)
        return row

    @staticmethod
    def _link(pupil: _Pupil, contact: dict, relationship: str, priority: int, parresp: int) -> dict:
        row = {
            "Id": f"PL-{pupil.id}.PC-{contact['Id']}",
            "StudentId": pupil.id,
            "ContactId": contact["Id"],
            "Relationship": relationship,
            "Priority": priority,
            "ParResp": parresp,
            # Dependent rows share their owner's timestamp (one string, not one per row: at
            # 100,000 pupils that saves time and tens of megabytes).
            "LastUpdated": contact["LastUpdated"],
        }
        row["RowHash"] = _row_hash(row)
        return row

    # ------------------------------------------------------------ student rows

    def _student_row(self, pupil: _Pupil) -> dict:
        rng = self.id_rng
        form, household = pupil.form, pupil.household
        year = form.year  # a leaver keeps the year group they left from
        email = None
        if rng.random() < 0.45:
            intake = (ACADEMIC_YEAR - (pupil.year - 7)) % 100
            email = self._email(f"{intake:02d}{_ascii(pupil.surname)}{_ascii(pupil.forename)[:1]}", SCHOOL_DOMAIN)
        uln = None
        if pupil.year >= 10 and rng.random() < 0.9:
            while uln is None:
                first9 = f"{rng.randint(1, 9)}{rng.randrange(10**8):08d}"
                check = _uln_check_digit(first9)
                uln = None if check is None else f"{first9}{check}"
        leaving = pupil.leaving
        row = {
            "Id": pupil.id,
            "XID": self._xid(),
            "ExternalId": self._guid(),
            "IdaasId": f"PL-{pupil.id}",
            "Forename": pupil.forename,
            "Surname": pupil.surname,
            "DisplayName": f"{pupil.forename} {pupil.surname}",
            "AdmissionNo": pupil.admission_no,
            "Gender": pupil.gender,
            "RegGroupId": form.group_id,
            "RegGroup": form.code,
            "YearGroupId": _year_group_id(year),
            "YearGroup": _year_label(year),
            "HouseGroupId": _house_group_id(household.house),
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
            "LastUpdated": _stamp(rng, datetime(2026, 6, 1)),
        }
        row["RowHash"] = _row_hash(row)
        pupil.row = row
        return row

    # ------------------------------------------------------------ comms, photos, groups

    def _make_comms(self, pupils: list[_Pupil], staff: list[dict], contacts: list[dict]) -> list[dict]:
        """Phone numbers and emails, one row each, keyed by (PersonType, PersonId).

        Not everything on a person's row is repeated here (a contact's home and work phones
        are not, their email only sometimes): real schools fill PersonComms unevenly, and at
        100,000 pupils every row costs memory and seconds.
        """
        rng = self._rng("comms")
        rows: list[dict] = []
        for pupil in sorted(pupils, key=lambda p: int(p.id)):
            if pupil.leaving:
                continue
            items = [("E", "W", pupil.row["WorkEmail"], None)]
            if pupil.year >= 9 and rng.random() < 0.35:
                items.append(("M", "M", self._phone(rng, mobile=True), None))
            self._comms_rows(rng, rows, "Student", "PL", pupil.row, items)
        for person in staff:
            items = [
                ("E", "W", person["WorkEmail"], None), ("T", "W", person["WorkPhone"], "Extension"),
                ("M", "M", person["MobilePhone"], None), ("T", "H", person["HomePhone"], None),
                ("E", "H", person["HomeEmail"], None),
            ]  # fmt: skip
            self._comms_rows(rng, rows, "Staff", "PWT", person, items)
        for contact in contacts:
            items = [("M", "M", contact["MobilePhone"], None)]
            if rng.random() < 0.35:
                items.append(("E", "H", contact["HomeEmail"], None))
            if rng.random() < 0.05:
                items.append(("M", "M", self._phone(rng, mobile=True), "Only after 6pm"))
            self._comms_rows(rng, rows, "Contact", "PC", contact, items)
        return rows

    def _comms_rows(self, rng, rows: list[dict], person_type: str, prefix: str, person: dict, items) -> None:
        person_id = person["Id"]
        seen_types: set[str] = set()
        priority = 0
        for comms_type, location, value, notes in items:
            if value is None:
                continue
            priority += 1
            self._comms_id += _pick(rng, (1, 1, 2))
            row = {
                "Id": f"{prefix}-{person_id}.{self._comms_id}.{comms_type}",
                "PersonId": person_id,
                "PersonType": person_type,
                "CommsType": comms_type,
                "LocationCode": location,
                "Priority": priority,
                "IsDefault": int(comms_type not in seen_types),
                "Value": value,
                "Notes": notes,
                "LastUpdated": person["LastUpdated"],
            }
            row["RowHash"] = _row_hash(row)
            seen_types.add(comms_type)
            rows.append(row)

    def _make_photos(self, pupils: list[_Pupil], staff: list[dict]) -> list[dict]:
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
                "LastUpdated": _stamp(rng, datetime(2026, 9, 7)),
            }
            row["RowHash"] = _row_hash(row)
            rows.append(row)
        return rows

    def _make_groups(self, cohort: dict[int, int], forms: dict[int, list[_Form]]) -> tuple[list, list, list]:
        """Year, tutor and house groups; memberships of tutor groups (the ones a library uses)."""
        rng = self._rng("groups")
        all_forms = [form for year in YEARS for form in forms[year]]
        on_roll = [pupil for form in all_forms for pupil in form.members]
        per_year = Counter(pupil.year for pupil in on_roll)
        per_house = Counter(pupil.household.house for pupil in on_roll)
        groups = [
            self._group_row(rng, _year_group_id(y), "GY", "YearGrp", str(y), _year_label(y), None, per_year[y])
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
            house_id = _house_group_id(index)
            groups.append(self._group_row(rng, house_id, "GC", "HouseGrp", code, name, None, per_house[index]))
        return groups, staff_members, student_members

    def _group_row(
        self, rng, group_id: str, prefix: str, kind: str, code: str, name: str, tutor: dict | None, members: int
    ) -> dict:
        row = {
            "Id": group_id,
            "XID": self._xid(),
            "ExternalId": self._guid(),
            "IdaasId": f"{prefix}-{group_id}",
            "Type": kind,
            "Code": code,
            "Name": name,
            "PrimaryStaffId": tutor["Id"] if tutor else None,
            "Staff": tutor["StaffCode"] if tutor else None,
            "NumStudents": members,
        }
        row["RowHash"] = _row_hash(row)  # the sample puts RowHash before LastUpdated here
        row["LastUpdated"] = _stamp(rng, datetime(2026, 7, 20), datetime(2026, 9, 2))
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
        row["RowHash"] = _row_hash(row)
        return row


@lru_cache(maxsize=None)
def _year_group_id(year: int) -> str:
    # The sample school numbers year groups downwards (Year 1 = 31, Year 2 = 30).
    return str(38 - year)


@lru_cache(maxsize=None)
def _house_group_id(house: int) -> str:
    return str(41 + house)


def _leaving_fields(rng: random.Random, leaving: date | None) -> dict:
    if leaving is None:
        return {"LeavingDate": None, "Destination": None, "DestinationStartDate": None, "ReasonForLeaving": None}
    return {
        "LeavingDate": leaving.isoformat(),
        "Destination": _pick(rng, ("Other school in England", "Further education college", "Moved abroad")),
        "DestinationStartDate": _school_day(leaving + timedelta(days=3)).isoformat(),
        "ReasonForLeaving": _pick(rng, LEAVING_REASONS),
    }


def _salutation(parents: list[dict]) -> str | None:
    """ "Mr and Mrs Smith", or "Ms Shah and Mr Patel" when their surnames differ."""
    if len(parents) == 2 and parents[0]["Surname"] == parents[1]["Surname"]:
        first, second = sorted((parents[0]["Title"], parents[1]["Title"]), key=lambda title: title != "Mr")
        return f"{first} and {second} {parents[0]['Surname']}"
    return " and ".join(f"{p['Title']} {p['Surname']}" for p in parents) or None


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
    row["RowHash"] = _row_hash(row)
    return row


def _portrait_jpeg(rng: random.Random) -> bytes:
    """A small deterministic 60x80 head-and-shoulders silhouette, about a kilobyte of JPEG."""
    from PIL import Image, ImageDraw  # only needed here; keeps importing this module light

    background = (rng.randrange(150, 230), rng.randrange(160, 230), rng.randrange(180, 240))
    skin = _pick(rng, ((241, 204, 177), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)))
    hair = _pick(rng, ((40, 26, 13), (85, 55, 30), (160, 110, 50), (220, 190, 120), (20, 20, 20)))
    jumper = _pick(rng, ((20, 40, 100), (110, 20, 40), (30, 70, 40), (60, 60, 60)))
    image = Image.new("RGB", (60, 80), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 58, 54, 100), fill=jumper)  # shoulders
    draw.rectangle((25, 44, 35, 60), fill=skin)  # neck
    draw.ellipse((15, 14, 45, 50), fill=skin)  # face
    draw.chord((13, 10, 47, 40), 180, 360, fill=hair)  # hair
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the library's CSV


class _LibraryBuilder:
    """The borrower list as the library holds it before the first sync.

    Pupils from Years 8-13 who were here last year are borrowers, recorded in one of
    several ways (with their MIS id, by name and date of birth, by UPN, with a typo);
    a few are missing.  Year 7 and this term's joiners are not borrowers yet.
    """

    def __init__(self, rng, pupils, gone, staff, forms, twins):
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

    def _add_pupils(self, pupils: list[_Pupil], twins: list[tuple[_Pupil, _Pupil]]) -> None:
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

    def _add_pupil(self, pupil: _Pupil, category: str) -> None:
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
            entry[_pick(rng, ("DateOfBirth", "Gender", "TutorGroup", "YearGroup"))] = ""
        self._add(entry, Truth("Student", pupil.id, category, stale))

    def _identity_as_typed(self, pupil: _Pupil, category: str) -> tuple[str, str, str, str]:
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
            forename, surname = _strip_accents(forename), _strip_accents(surname)
        if rng.random() < 0.03:
            surname = surname.upper()
        return forename, surname

    def _groups_as_recorded(self, pupil: _Pupil, stale: bool) -> tuple[int, str]:
        """The year and tutor group on the borrower record: this year's, or last year's."""
        form = pupil.form
        if not stale or form.year <= 7:
            return form.year, form.code
        last_year = self.forms[form.year - 1]
        return form.year - 1, last_year[form.index % len(last_year)].code

    def _pupil_barcode(self, pupil: _Pupil, has_msid: bool) -> str:
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

    def _add_gone_leavers(self, gone: list[_Pupil]) -> None:
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
            gender = _pick(rng, "FM")
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(13000))
            person = {
                "Id": str(staff_id),
                "Forename": _pick(rng, _pool(ADULT_BRITISH_FORENAMES[gender == "M"])),
                "LegalForename": None,
                "Surname": _pick(rng, _pool(NAME_POOLS["british"][3])),
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


def _typo_kinds(pupils: list[_Pupil]) -> Iterator[tuple[_Pupil, str]]:
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
    return _pick(rng, (gender, gender, gender, "Male" if gender == "M" else "Female"))


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
        i = _pick(rng, positions[1:] or positions)  # people rarely mistype the first letter
        kind = rng.randrange(4)
        if kind == 0:
            swap = _pick(rng, _NEIGHBOUR_KEYS[name[i].lower()])
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
        position = _pick(rng, (0, 1, 3, 4, 9))
        digit = str((int(text[position]) + rng.randint(1, 9)) % 10)
        candidate = text[:position] + digit + text[position + 1 :]
        try:
            datetime.strptime(candidate, "%d/%m/%Y")
        except ValueError:
            continue
        return candidate


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.generate_school",
        description="Generate the demo school's Xporter export and the library's borrower CSV.",
    )
    parser.add_argument("--students", type=int, default=900, help="rows in Students (default 900)")
    parser.add_argument("--staff", type=int, default=80, help="rows in Staff (default 80)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--out", type=Path, default=DEMO_DIR / "school", help="export directory (demo/school)")
    parser.add_argument("--csv", type=Path, default=DEMO_DIR / "borrowers.csv", help="CSV path (demo/borrowers.csv)")
    parser.add_argument("--format", choices=("json", "xml"), default="json", help="export format (default json)")
    args = parser.parse_args(argv)

    school = build_school(students=args.students, staff=args.staff, seed=args.seed)
    write_export(school, args.out, args.format)
    write_borrowers_csv(school, args.csv)
    print(json.dumps(summary(school), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
