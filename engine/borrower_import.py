"""Loading a library's existing borrower list from CSV (MLS import columns).

Columns: ``ManagementSystemID, Forename, Surname, DateOfBirth (DD/MM/YYYY),
Gender, TutorGroup, YearGroup`` and optionally ``Barcode, Type, UPN,
AdmissionNo``. Every row is checked first. A row is refused (a ``RowProblem``)
only when what identifies it is unusable: no forename or surname, a barcode or
MIS id that cannot be stored or clashes, a type that is neither student nor
staff. Any other field (``OPTIONAL_FIELDS``: the date of birth, gender, tutor
and year group, UPN, admission number) that cannot be used is left blank and
the row imported, with a ``RowWarning`` naming the line, the barcode, the field
and what is wrong, never the value: a librarian's borrower is never lost for a
slipped digit. A value is unusable exactly as the export reader finds it so: a
date that is not one, not a real calendar date, before 1900 or in the future;
text too long for its column or holding a control character; a gender other
than M, F, Male or Female; a UPN with other than ASCII characters. Nothing is
imported while any row is refused, unless the caller asks to skip those. A row
for a borrower already in the library is recognised and left alone, so
importing the same file twice changes nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.apply import EventLog, RunChanges
from engine.barcodes import BarcodeAllocator, BarcodeError, barcode_key
from engine.config import BarcodeSettings
from engine.errors import Refusal
from engine.export.fields import FieldProblem, parse_date, text
from engine.models import Borrower, SyncRun, utcnow
from engine.text import (EncodingProblem, clean, decode_windows_text, gender_code, name_key, unique_key,
                         year_label)

REQUIRED = ("ManagementSystemID", "Forename", "Surname", "DateOfBirth", "Gender", "TutorGroup", "YearGroup")
OPTIONAL = ("Barcode", "Type", "UPN", "AdmissionNo")
TYPES = {"": "student", "student": "student", "pupil": "student", "staff": "staff"}
# The kind of library column each stored text column goes to: the same width
# and control-character rules as the Xporter reader (engine.text).
TEXT_COLUMNS = {"ManagementSystemID": "id", "Forename": "name", "Surname": "name", "TutorGroup": "group",
                "YearGroup": "group", "Barcode": "barcode", "UPN": "id", "AdmissionNo": "id"}
# Fields that only describe or help match a borrower: left blank, with a
# warning, when unusable. Every other column identifies the row.
OPTIONAL_FIELDS = ("DateOfBirth", "Gender", "TutorGroup", "YearGroup", "UPN", "AdmissionNo")


class ImportFileError(Refusal):
    """The file as a whole cannot be imported."""


@dataclass
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class RowWarning:
    """A row imported (or to be) with one field left blank. ``barcode`` is the
    borrower's, given or allocated, once known; the value itself is never
    repeated (it may be a date of birth)."""
    line: int
    field: str
    reason: str
    barcode: str | None = None

    def __str__(self) -> str:
        who = f"line {self.line}" + (f" (borrower {self.barcode})" if self.barcode else "")
        return f"{who}: {self.field} {self.reason}; imported without it"


@dataclass
class ImportResult:
    imported: int = 0
    already_present: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    written: bool = False
    warnings: list[RowWarning] = field(default_factory=list)


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with column names matched case-insensitively."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        # Excel saves Windows-1252 or UTF-8; a file mixing them is refused
        # rather than read with its accented names garbled.
        content, _ = decode_windows_text(raw)
    except EncodingProblem as problem:
        raise ImportFileError(f"{path}: {problem}") from None
    reader = csv.reader(io.StringIO(content, newline=""))
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
    library = _LibraryBorrowers.read(session)
    allocator = BarcodeAllocator(barcodes, library.barcodes)
    # Ids and barcodes compare as the strictest unique index does (case,
    # accents, trailing spaces: see unique_key), so a clash is a bad row on
    # every database rather than an IntegrityError on MariaDB alone.
    given_ids: dict[tuple[str, str], tuple[int, str]] = {}
    given_barcodes: dict[str, int] = {}
    new_rows = []
    blanked: dict[int, list[FieldProblem]] = {}
    for line, row in rows:
        try:
            values, blanked[line] = _borrower_values(row, today or date.today())
            if library.holds(values):
                result.already_present += 1
                continue
            if values["mis_id"]:
                _claim_id(values, line, given_ids, library)
            if values["barcode"]:
                other_line = given_barcodes.setdefault(barcode_key(values["barcode"]), line)
                if other_line != line:
                    raise ValueError(f"Barcode {values['barcode']} is also given on line {other_line}")
                allocator.claim(values["barcode"], "Barcode")
            new_rows.append((line, values))
        except (ValueError, BarcodeError) as problem:
            result.problems.append(RowProblem(line, str(problem)))
    if result.problems and not skip_invalid:
        result.warnings = _warnings(new_rows, blanked)
        return result
    now = utcnow()
    for line, values in new_rows:
        if not values["barcode"]:
            values["barcode"] = allocator.allocate(label=f"line {line}")
        values.update(created_at=now, updated_at=now)
    result.warnings = _warnings(new_rows, blanked)
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
        # Recorded as a run's added rows, so that `runs undo` can take an import back.
        changes = RunChanges(session, run.id)
        changes.created("borrowers", [{**values, "id": ids[values["barcode"]]} for _, values in new_rows])
        changes.flush()
    result.imported, result.written = len(new_rows), True
    return result


def _warnings(new_rows: list[tuple[int, dict]], blanked: dict[int, list[FieldProblem]]) -> list[RowWarning]:
    return [RowWarning(line, problem.field, problem.reason, values["barcode"])
            for line, values in new_rows for problem in blanked[line]]


def _borrower_values(row: dict[str, str], today: date) -> tuple[dict, list[FieldProblem]]:
    """The borrower's columns, and the optional fields left blank because
    their value cannot be used; a ValueError if the row cannot be imported."""
    blanked: list[FieldProblem] = []

    def optional(column: str, read):
        try:
            return read(row.get(column))
        except FieldProblem as problem:
            blanked.append(problem)
            return None

    cells = {column: optional(column, lambda value, c=column, k=kind: text(value, c, k))
             if column in OPTIONAL_FIELDS else _text_cell(row, column, kind)
             for column, kind in TEXT_COLUMNS.items()}
    forename, surname = cells["Forename"], cells["Surname"]
    if not forename:
        raise ValueError("Forename is empty")
    if not surname:
        raise ValueError("Surname is empty")
    kind = (clean(row.get("Type")) or "").casefold()
    if kind not in TYPES:
        raise ValueError(f"Type {row.get('Type')!r} is not student or staff")
    mis_id = cells["ManagementSystemID"]
    borrower_type = TYPES[kind]
    values = {
        "barcode": cells["Barcode"],
        "borrower_type": borrower_type,
        "mis_person_type": borrower_type if mis_id else None,
        "mis_id": mis_id,
        "upn": optional("UPN", lambda _: _ascii_upn(cells["UPN"])) if cells["UPN"] else None,
        "admission_no": cells["AdmissionNo"],
        "forename": forename,
        "surname": surname,
        "date_of_birth": optional("DateOfBirth", lambda value: _date_of_birth(value, today)),
        "gender": optional("Gender", _gender),
        "tutor_group": cells["TutorGroup"],
        "year_group": year_label(cells["YearGroup"]),
        "status": "active",
    }
    return values, blanked


def _date_of_birth(value: object, today: date) -> date | None:
    try:
        return parse_date(value, "DateOfBirth", today=today, allow_future=False)
    except FieldProblem as problem:
        raise FieldProblem("DateOfBirth", f"is {problem.reason}") from None


def _gender(value: object) -> str | None:
    shown = clean(value)
    gender = gender_code(shown) if shown else None
    if shown and gender is None:
        raise FieldProblem("Gender", "is not M, F, Male or Female")
    return gender


def _ascii_upn(upn: str) -> str:
    """A UPN as stored: spaces gone, upper case. Only ASCII: the export reader
    and the UPN check both work in A-Z and 0-9."""
    if not upn.isascii():
        raise FieldProblem("UPN", "holds characters other than A-Z and 0-9")
    return upn.replace(" ", "").upper()


def _claim_id(values: dict, line: int, given: dict[tuple[str, str], tuple[int, str]],
              library: _LibraryBorrowers) -> None:
    mis_id = values["mis_id"]
    key = (values["borrower_type"], unique_key(mis_id))
    stored = library.linked_keys.get(key)
    if stored not in (None, mis_id):
        raise ValueError(f"ManagementSystemID {mis_id} differs from {stored}, already in the library, only in case, "
                         "accents or trailing spaces, which the library cannot tell apart")
    other_line, other_id = given.setdefault(key, (line, mis_id))
    if other_line != line:
        same = "appears twice in the file" if other_id == mis_id else f"is the same as {other_id} to the library"
        raise ValueError(f"ManagementSystemID {mis_id} {same} (line {other_line})")


def _text_cell(row: dict[str, str], column: str, kind: str) -> str | None:
    try:
        return text(row.get(column), column, kind)
    except FieldProblem as problem:
        raise ValueError(f"{column} {problem.reason}") from None


def _person(borrower_type: str, forename: str | None, surname: str | None, dob: date | None) -> tuple:
    """The form in which a row and a borrower are the same person."""
    return borrower_type, name_key(forename), name_key(surname), dob


_NAME_PAIRS = (("forename", "surname"), ("preferred_forename", "preferred_surname"),
               ("legal_forename", "legal_surname"))


@dataclass
class _LibraryBorrowers:
    """The borrowers the library already has, as a CSV row is compared with
    them. A borrower is known by every name it holds: the sync may have
    replaced the name the librarian typed with the school's preferred one, and
    the typed name still names the same borrower."""
    barcodes: set[str]
    barcode_keys: set[str]
    linked: set[tuple[str, str]]
    # (person type, unique_key(MIS id)) -> the MIS id as stored.
    linked_keys: dict[tuple[str, str], str]
    unlinked_people: set[tuple]
    all_people: set[tuple]

    @classmethod
    def read(cls, session: Session) -> _LibraryBorrowers:
        names = [getattr(Borrower, column) for pair in _NAME_PAIRS for column in pair]
        rows = session.execute(select(Borrower.barcode, Borrower.borrower_type, Borrower.mis_person_type,
                                      Borrower.mis_id, Borrower.date_of_birth, *names)).all()
        library = cls(barcodes={r.barcode for r in rows}, barcode_keys={barcode_key(r.barcode) for r in rows},
                      linked={(r.mis_person_type, r.mis_id) for r in rows if r.mis_id},
                      linked_keys={(r.mis_person_type, unique_key(r.mis_id)): r.mis_id for r in rows if r.mis_id},
                      unlinked_people=set(), all_people=set())
        for r in rows:
            people = {_person(r.borrower_type, getattr(r, f), getattr(r, s), r.date_of_birth)
                      for f, s in _NAME_PAIRS if getattr(r, f) and getattr(r, s)}
            library.all_people |= people
            if not r.mis_id:
                library.unlinked_people |= people
        return library

    def holds(self, values: dict) -> bool:
        """Is this row a borrower the library already has? Then the library's
        copy wins: the sync or a librarian may have corrected it since, so a
        difference is never an error (re-running an import must be safe)."""
        if values["barcode"] and barcode_key(values["barcode"]) in self.barcode_keys:
            return True
        person = _person(values["borrower_type"], values["forename"], values["surname"], values["date_of_birth"])
        if values["mis_id"]:
            # A borrower linked to another MIS person is somebody else.
            return (values["mis_person_type"], values["mis_id"]) in self.linked or person in self.unlinked_people
        return person in self.all_people
