"""Loading a library's existing borrower list from CSV (MLS import columns).

Columns: ``ManagementSystemID, Forename, Surname, DateOfBirth (DD/MM/YYYY),
Gender, TutorGroup, YearGroup`` and optionally ``Barcode, Type, UPN,
AdmissionNo``. Every row is checked first; nothing is imported while any row is
bad, unless the caller asks to skip the bad ones. A row for a borrower already
in the library is recognised and left alone, so importing the same file twice
changes nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.apply import EventLog
from engine.barcodes import BarcodeAllocator, BarcodeError
from engine.config import BarcodeSettings
from engine.export.fields import FieldProblem, parse_date
from engine.models import Borrower, SyncRun, utcnow
from engine.text import clean, name_key, year_label

REQUIRED = ("ManagementSystemID", "Forename", "Surname", "DateOfBirth", "Gender", "TutorGroup", "YearGroup")
OPTIONAL = ("Barcode", "Type", "UPN", "AdmissionNo")
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}
TYPES = {"": "student", "student": "student", "pupil": "student", "staff": "staff"}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LIMITS = {"ManagementSystemID": 64, "Forename": 100, "Surname": 100, "TutorGroup": 64, "YearGroup": 64,
          "Barcode": 64, "UPN": 64, "AdmissionNo": 64}


class ImportFileError(Exception):
    """The file as a whole cannot be imported."""


@dataclass
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    imported: int = 0
    already_present: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    written: bool = False


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with column names matched case-insensitively."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise ImportFileError(f"{path}: empty file")
    wanted = {c.casefold(): c for c in (*REQUIRED, *OPTIONAL)}
    columns = [wanted.get(h.strip().replace(" ", "").casefold()) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = []
    while True:
        # A quoted cell can span lines: a row is reported at the line it starts on.
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFileError(f"{path}: line {line}: not readable as CSV ({exc})") from exc
        if not any(cell.strip() for cell in row):
            continue
        rows.append((line, {c: v for c, v in zip(columns, row) if c}))
    return rows


def import_borrowers(session: Session, path: Path, barcodes: BarcodeSettings, *, skip_invalid: bool = False,
                     today: date | None = None) -> ImportResult:
    """Check every row, then (if allowed) insert the new borrowers in the
    caller's transaction."""
    rows = read_rows(path)
    result = ImportResult()
    existing = _existing(session)
    allocator = BarcodeAllocator(barcodes, {r.barcode for r in existing["barcode"].values()})
    seen_ids: set[tuple[str, str]] = set()
    # Barcodes compare without regard to case: MariaDB's unique index does,
    # so "b123" and "B123" must be one barcode on every database.
    given_barcodes: dict[str, int] = {}
    new_rows = []
    for line, row in rows:
        try:
            values = _borrower_values(row, today or date.today())
            if _already_present(values, existing):
                result.already_present += 1
                continue
            key = (values["borrower_type"], values["mis_id"])
            if values["mis_id"]:
                if key in seen_ids:
                    raise ValueError(f"ManagementSystemID {values['mis_id']} appears twice in the file")
                seen_ids.add(key)
            if values["barcode"]:
                other_line = given_barcodes.setdefault(values["barcode"].casefold(), line)
                if other_line != line:
                    raise ValueError(f"Barcode {values['barcode']} is also given on line {other_line}")
                allocator.claim(values["barcode"], "Barcode")
            new_rows.append((line, values))
        except (ValueError, BarcodeError) as problem:
            result.problems.append(RowProblem(line, str(problem)))
    if result.problems and not skip_invalid:
        return result
    now = utcnow()
    for line, values in new_rows:
        if not values["barcode"]:
            values["barcode"] = allocator.allocate(label=f"line {line}")
        values.update(created_at=now, updated_at=now)
    if new_rows:
        run = SyncRun(kind="import", source=str(path)[:500], started_at=now, finished_at=now, outcome="ok")
        session.add(run)
        session.flush()
        session.execute(insert(Borrower), [v for _, v in new_rows])
        events = EventLog(run.id, "import", now)
        ids = dict(session.execute(select(Borrower.barcode, Borrower.id)).all())
        for _, values in new_rows:
            events.add("imported", borrower_id=ids[values["barcode"]], field="barcode", new=values["barcode"])
        events.flush(session)
    result.imported, result.written = len(new_rows), True
    return result


def _borrower_values(row: dict[str, str], today: date) -> dict:
    for column, limit in LIMITS.items():
        value = clean(row.get(column))
        if value and len(value) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
        if value and CONTROL_CHARACTERS.search(value):
            raise ValueError(f"{column} contains a control character")
    forename, surname = clean(row.get("Forename")), clean(row.get("Surname"))
    if not forename:
        raise ValueError("Forename is empty")
    if not surname:
        raise ValueError("Surname is empty")
    try:
        dob = parse_date(row.get("DateOfBirth"), "DateOfBirth", today=today, allow_future=False)
    except FieldProblem as problem:
        raise ValueError(f"DateOfBirth {row.get('DateOfBirth')!r} is {problem.reason}") from None
    gender_text = clean(row.get("Gender")) or ""
    if gender_text and gender_text.casefold() not in GENDERS:
        raise ValueError(f"Gender {gender_text!r} is not M, F, Male or Female")
    kind = (clean(row.get("Type")) or "").casefold()
    if kind not in TYPES:
        raise ValueError(f"Type {row.get('Type')!r} is not student or staff")
    mis_id = clean(row.get("ManagementSystemID"))
    borrower_type = TYPES[kind]
    upn = clean(row.get("UPN"))
    return {
        "barcode": clean(row.get("Barcode")),
        "borrower_type": borrower_type,
        "mis_person_type": borrower_type if mis_id else None,
        "mis_id": mis_id,
        "upn": upn.replace(" ", "").upper() if upn else None,
        "admission_no": clean(row.get("AdmissionNo")),
        "forename": forename,
        "surname": surname,
        "date_of_birth": dob,
        "gender": GENDERS.get(gender_text.casefold()),
        "tutor_group": clean(row.get("TutorGroup")),
        "year_group": year_label(row.get("YearGroup")),
        "status": "active",
    }


def _existing(session: Session) -> dict:
    rows = session.execute(select(Borrower.barcode, Borrower.borrower_type, Borrower.mis_person_type,
                                  Borrower.mis_id, Borrower.forename, Borrower.surname,
                                  Borrower.date_of_birth)).all()
    return {
        "barcode": {r.barcode.casefold(): r for r in rows},
        "mis": {(r.mis_person_type, r.mis_id) for r in rows if r.mis_id},
        "name_dob": {(r.borrower_type, name_key(r.forename), name_key(r.surname), r.date_of_birth) for r in rows},
    }


def _already_present(values: dict, existing: dict) -> bool:
    """Is this row a borrower the library already has? A barcode that belongs
    to somebody else is an error, not a match."""
    same_person = (values["borrower_type"], name_key(values["forename"]), name_key(values["surname"]),
                   values["date_of_birth"])
    stored = existing["barcode"].get(values["barcode"].casefold()) if values["barcode"] else None
    if stored is not None:
        if (stored.borrower_type, name_key(stored.forename), name_key(stored.surname),
                stored.date_of_birth) == same_person:
            return True
        raise ValueError(f"Barcode {values['barcode']} already belongs to another borrower")
    if values["mis_id"]:
        return (values["mis_person_type"], values["mis_id"]) in existing["mis"]
    return same_person in existing["name_dob"]
