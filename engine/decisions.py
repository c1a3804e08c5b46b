"""What an Intake decision changed, row by row, so that it can be undone exactly.

A ``ChangeRecorder`` takes each row a decision is about to touch (a borrower,
with its photo and guardians, or an Intake entry) before it is written and
again afterwards; the difference is stored as an ``IntakeDecision``.
``undo_decision`` first checks that nothing has changed those columns since
(the nightly sync, another decision) and refuses, saying what changed, if
anything has; then it writes the old values back and deletes the borrowers the
decision created, which must not have been used since (loans, later events).
``updated_at`` is not tracked: every write moves it on, an undo included.

A photo and a guardian list are kept as digests, never copied: enough to tell
whether they changed since, not to bring an old one back, so an undo removes
the ones a decision wrote and clears the borrower's digest column, and the next
sync that links the borrower writes them afresh. When the school switches a
field off, ``scrub_decisions`` replaces its stored values with ``REMOVED``,
which an undo treats as nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from engine.errors import Refusal
from engine.models import Borrower, IntakeDecision, IntakeEntry, Loan, SyncEvent
from engine.optional_data import ATTACHMENTS, REMOVED
from engine.users import ACTOR_WIDTH

TABLES: dict[str, Table] = {"borrowers": Borrower.__table__, "intake": IntakeEntry.__table__}
UNTRACKED = {"updated_at"}
# A borrower's attachments (engine.optional_data), tracked as if they were
# columns of the borrower, each with the borrower column that says which one it has.
ATTACHMENT_DIGESTS = {a.key: a.digest_column for a in ATTACHMENTS}


class UndoRefused(Refusal):
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
    return value


def _decode(table: Table, column: str, value: object) -> object:
    # A scrubbed value is gone; the field it was in is switched off, so empty.
    if value is None or value == REMOVED:
        return None
    kind = table.c[column].type.python_type
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


def row_state(session: Session, table_name: str, row_id: int) -> dict | None:
    """A row as JSON-ready values; a borrower's photo and guardians included, as digests."""
    table = TABLES[table_name]
    row = session.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        return None
    state = {k: _encode(v) for k, v in row.items() if k not in UNTRACKED}
    if table_name == "borrowers":
        state.update((a.key, a.state(session, row_id)) for a in ATTACHMENTS)
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
        decision = IntakeDecision(at=now, actor=actor[:ACTOR_WIDTH], action=action, summary=summary[:500],
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
    changed = [c for c, value in expected.items() if current.get(c) != (None if value == REMOVED else value)]
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
    restored = {c: _decode(table, c, v) for c, v in before.items() if c not in ATTACHMENT_DIGESTS}
    for attachment, digest_column in ATTACHMENT_DIGESTS.items():
        if attachment in before:
            # What the decision wrote goes; what it replaced was never kept.
            _remove_attachment(session, attachment, row["id"])
            if before[attachment] is not None:
                restored[digest_column] = None
    session.execute(update(table).where(table.c.id == row["id"]).values(**restored, updated_at=now))
    return [Reverted(row["table"], row["id"], label, c, after[c], restored.get(c)) for c in before]


def _remove_attachment(session: Session, key: str, borrower_id: int) -> None:
    model = next(a.model for a in ATTACHMENTS if a.key == key)
    session.execute(delete(model).where(model.borrower_id == borrower_id))


def _delete_created(session: Session, row: dict, first_event: int, last_event: int) -> Reverted:
    borrower_id = row["id"]
    # The decision's own events outlive the borrower they describe: they keep
    # their text (barcode, values) and lose only the link to the deleted row.
    session.execute(update(SyncEvent).where(SyncEvent.borrower_id == borrower_id,
                                            SyncEvent.id.between(first_event, last_event)).values(borrower_id=None))
    for attachment in ATTACHMENT_DIGESTS:
        _remove_attachment(session, attachment, borrower_id)
    session.execute(delete(Borrower).where(Borrower.id == borrower_id))
    barcode = row["created"]["barcode"]
    return Reverted("borrowers", borrower_id, f"borrower {barcode}", "deleted", barcode, None)


# Two names for one piece of data: a borrower's digest column and the
# attachment (also an Intake record's key) it stands for.
_SAME_DATA = tuple({attachment, column} for attachment, column in ATTACHMENT_DIGESTS.items())


def scrub_decisions(session: Session, fields: set[str]) -> int:
    """The school has switched these fields off (borrower columns or Intake
    record keys, as a sync's purge names them): replace every value of them
    that a stored decision holds with ``REMOVED``, so that no decision keeps a
    copy of data the library may no longer hold. Returns how many decisions
    changed."""
    keys = set(fields).union(*(same for same in _SAME_DATA if same & set(fields)))
    if not keys:
        return 0
    table = IntakeDecision.__table__
    scrubbed = []
    for decision_id, changes in session.execute(select(table.c.id, table.c.changes)):
        recorded = json.loads(changes)
        if _scrub(recorded["rows"], keys):
            scrubbed.append({"_id": decision_id, "changes": json.dumps(recorded)})
    if scrubbed:
        session.execute(update(table).where(table.c.id == bindparam("_id"))
                        .values(changes=bindparam("changes")), scrubbed)
    return len(scrubbed)


def _scrub(rows: list[dict], keys: set[str]) -> bool:
    """Scrub these keys in the recorded rows in place; True if any was there."""
    found = False
    for row in rows:
        for state in (row.get("before"), row.get("after"), row.get("created")):
            for key in keys.intersection(state or ()):
                if state[key] is not None and state[key] != REMOVED:
                    state[key], found = REMOVED, True
    return found
