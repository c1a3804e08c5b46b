"""What an Intake decision changed, row by row, so that it can be undone exactly.

A ``ChangeRecorder`` takes each row a decision is about to touch (a borrower,
with its photo and guardians, or an Intake entry) before it is written and
again afterwards; the difference is stored as an ``IntakeDecision``.
``undo_decision`` first checks that nothing has changed those columns since
(the nightly sync, another decision) and refuses, saying what changed, if
anything has; then it writes the old values back and deletes the borrowers the
decision created, which must not have been used since (loans, later events).
``updated_at`` is not tracked: every write moves it on, an undo included.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine.models import Borrower, BorrowerPhoto, Guardian, IntakeDecision, IntakeEntry, Loan, SyncEvent

TABLES: dict[str, Table] = {"borrowers": Borrower.__table__, "intake": IntakeEntry.__table__}
UNTRACKED = {"updated_at"}
# A borrower's attachments, tracked as if they were columns of the borrower.
PHOTO, GUARDIANS = "photo", "guardians"


class UndoRefused(Exception):
    """The decision cannot be undone; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Reverted:
    """One column put back by an undo (or, with column "deleted", a borrower removed)."""
    table: str
    row_id: int
    label: str
    column: str
    was: object
    now: object


def _encode(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _decode(table: Table, column: str, value: object) -> object:
    if value is None:
        return None
    kind = table.c[column].type.python_type
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value


def _rows(session: Session, table: Table, column, value) -> list[dict]:
    return [{k: _encode(v) for k, v in row.items()}
            for row in session.execute(select(table).where(column == value).order_by(table.c[
                table.primary_key.columns.keys()[0]])).mappings()]


def row_state(session: Session, table_name: str, row_id: int) -> dict | None:
    """A row as JSON-ready values; a borrower's photo and guardians included."""
    table = TABLES[table_name]
    row = session.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        return None
    state = {k: _encode(v) for k, v in row.items() if k not in UNTRACKED}
    if table_name == "borrowers":
        photos = _rows(session, BorrowerPhoto.__table__, BorrowerPhoto.borrower_id, row_id)
        state[PHOTO] = photos[0] if photos else None
        state[GUARDIANS] = _rows(session, Guardian.__table__, Guardian.borrower_id, row_id)
    return state


def _label(table_name: str, row_id: int, state: dict | None) -> str:
    if table_name == "borrowers" and state:
        return f"borrower {state['barcode']}"
    return f"Intake entry {row_id}" if table_name == "intake" else f"borrower #{row_id}"


def _last_event_id(session: Session) -> int:
    return session.execute(select(func.max(SyncEvent.id))).scalar() or 0


class ChangeRecorder:
    """Call ``touch`` before writing a row and ``created`` after inserting one;
    ``save`` stores the decision with what changed."""

    def __init__(self, session: Session):
        self.session = session
        self.before: dict[tuple[str, int], dict | None] = {}
        self.first_event = _last_event_id(session) + 1

    def touch(self, table_name: str, row_id: int) -> None:
        if (table_name, row_id) not in self.before:
            self.before[(table_name, row_id)] = row_state(self.session, table_name, row_id)

    def created(self, table_name: str, row_id: int) -> None:
        self.before[(table_name, row_id)] = None

    def save(self, action: str, summary: str, actor: str, now: datetime) -> IntakeDecision:
        rows = []
        for (table_name, row_id), old in self.before.items():
            new = row_state(self.session, table_name, row_id)
            if old is None:
                rows.append({"table": table_name, "id": row_id, "created": new})
                continue
            changed = [c for c in new if old.get(c) != new[c]]
            if changed:
                rows.append({"table": table_name, "id": row_id, "before": {c: old.get(c) for c in changed},
                             "after": {c: new[c] for c in changed}})
        decision = IntakeDecision(at=now, actor=actor[:64], action=action, summary=summary[:500],
                                  changes=json.dumps({"rows": rows, "events": [self.first_event,
                                                                               _last_event_id(self.session)]}))
        self.session.add(decision)
        self.session.flush()
        return decision


def undo_decision(session: Session, decision: IntakeDecision, now: datetime) -> list[Reverted]:
    """Put back what the decision changed, in the caller's transaction."""
    recorded = json.loads(decision.changes)
    rows, (first_event, last_event) = recorded["rows"], recorded["events"]
    problems = [p for row in rows for p in _changed_since(session, row, last_event)]
    if problems:
        raise UndoRefused(problems)
    reverted = []
    for row in rows:
        if "before" in row:
            reverted += _restore(session, row, now)
    for row in rows:
        if "created" in row:
            reverted.append(_delete_created(session, row, first_event, last_event))
    return reverted


def _changed_since(session: Session, row: dict, last_event: int) -> list[str]:
    current = row_state(session, row["table"], row["id"])
    expected = row.get("created") or row["after"]
    label = _label(row["table"], row["id"], current or expected)
    if current is None:
        return [f"{label} no longer exists"]
    changed = [c for c, value in expected.items() if current.get(c) != value]
    problems = [f"{label} has changed since ({', '.join(changed)})"] if changed else []
    if "created" in row:
        loans = session.execute(select(func.count()).select_from(Loan).where(Loan.borrower_id == row["id"])).scalar()
        later = session.execute(select(func.count()).select_from(SyncEvent).where(
            SyncEvent.borrower_id == row["id"], SyncEvent.id > last_event)).scalar()
        if loans:
            problems.append(f"{label} has {loans} loan(s)")
        if later and not changed:
            problems.append(f"{label} has been changed since")
    return problems


def _restore(session: Session, row: dict, now: datetime) -> list[Reverted]:
    table = TABLES[row["table"]]
    before, after = row["before"], row["after"]
    label = _label(row["table"], row["id"], row_state(session, row["table"], row["id"]))
    columns = {c: _decode(table, c, v) for c, v in before.items() if c not in (PHOTO, GUARDIANS)}
    session.execute(update(table).where(table.c.id == row["id"]).values(**columns, updated_at=now))
    if PHOTO in before:
        session.execute(delete(BorrowerPhoto).where(BorrowerPhoto.borrower_id == row["id"]))
        if before[PHOTO]:
            session.execute(insert(BorrowerPhoto), [_decoded(BorrowerPhoto.__table__, before[PHOTO])])
    if GUARDIANS in before:
        session.execute(delete(Guardian).where(Guardian.borrower_id == row["id"]))
        if before[GUARDIANS]:
            session.execute(insert(Guardian), [_decoded(Guardian.__table__, g) for g in before[GUARDIANS]])
    return [Reverted(row["table"], row["id"], label, c, after[c], before[c]) for c in before]


def _decoded(table: Table, values: dict) -> dict:
    return {c: _decode(table, c, v) for c, v in values.items()}


def _delete_created(session: Session, row: dict, first_event: int, last_event: int) -> Reverted:
    borrower_id = row["id"]
    # The decision's own events outlive the borrower they describe: they keep
    # their text (barcode, values) and lose only the link to the deleted row.
    session.execute(update(SyncEvent).where(SyncEvent.borrower_id == borrower_id,
                                            SyncEvent.id.between(first_event, last_event)).values(borrower_id=None))
    session.execute(delete(BorrowerPhoto).where(BorrowerPhoto.borrower_id == borrower_id))
    session.execute(delete(Guardian).where(Guardian.borrower_id == borrower_id))
    session.execute(delete(Borrower).where(Borrower.id == borrower_id))
    barcode = row["created"]["barcode"]
    return Reverted("borrowers", borrower_id, f"borrower {barcode}", "deleted", barcode, None)
