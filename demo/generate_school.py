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

The generator is split by subject: ``names`` (name pools, towns and streets), ``dates``
(the school calendar), ``mis`` (the school's identity, ids and RowHash), ``pupils`` (the
roll and tutor groups), ``contacts`` (guardians and PersonComms), ``school`` (staff,
groups, photos, and the order of the whole build), ``library`` (the borrower CSV) and
``writers`` (JSON, XML and CSV).  This module is the entry point and the public face.

    python -m demo.generate_school            # regenerate demo/school/ and demo/borrowers.csv
    python -m demo.generate_school --students 95000 --staff 5000 --out /tmp/big --csv /tmp/big.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from demo.library import CSV_COLUMNS, Truth
from demo.school import School, build_school
from demo.writers import render_xml, write_borrowers_csv, write_export

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
