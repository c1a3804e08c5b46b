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
which an undo treats as nothing, in the decisions and in what runs recorded
(``run_changes``).

The pieces an undo is made of (``row_states``, ``changed_columns``,
``restored_values``, ``delete_rows``) work on many rows at once and serve
``engine.runs`` too, which undoes a whole run from the same recorded form.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from engine.errors import Refusal
from engine.models import Borrower, IntakeDecision, IntakeEntry, Loan, RunChange, SyncEvent
from engine.optional_data import ATTACHMENTS, REMOVED
from engine.stored_values import lenient_columns
from engine.text import counted, json_object
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


def encode_value(value: object) -> object:
    """A column's value as a recorded change holds it (JSON-ready)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def decode_value(table: Table, column: str, value: object) -> object:
    # A scrubbed value is gone; the field it was in is switched off, so empty.
    if value is None or value == REMOVED:
        return None
    kind = table.c[column].type.python_type
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


IDS_PER_QUERY = 1000


def chunks(ids) -> list[list[int]]:
    """The ids, each once, in lists short enough for one IN (...)."""
    unique = list(dict.fromkeys(ids))
    return [unique[start:start + IDS_PER_QUERY] for start in range(0, len(unique), IDS_PER_QUERY)]


def row_states(session: Session, table_name: str, ids, *, attachments: bool = True) -> dict[int, dict]:
    """Rows as JSON-ready values, by id, read in bulk; a borrower's photo and
    guardians included, as digests, if ``attachments``. A missing row is absent."""
    table = TABLES[table_name]
    states = {}
    for chunk in chunks(ids):
        for row in session.execute(select(*lenient_columns(table)).where(table.c.id.in_(chunk))).mappings():
            states[row["id"]] = {k: encode_value(v) for k, v in row.items() if k not in UNTRACKED}
    if attachments and table_name == "borrowers":
        for row_id, state in states.items():
            state.update((a.key, a.state(session, row_id)) for a in ATTACHMENTS)
    return states


def row_state(session: Session, table_name: str, row_id: int) -> dict | None:
    """A row as JSON-ready values; a borrower's photo and guardians included, as digests."""
    return row_states(session, table_name, [row_id]).get(row_id)


def changed_columns(table_name: str, recorded: dict, current: dict) -> list[str]:
    """The columns whose current value is not the recorded one. A scrubbed
    value stands for empty; a time is compared to the whole second, as
    MariaDB keeps it."""
    table = TABLES[table_name]
    changed = []
    for column, value in recorded.items():
        now, value = current.get(column), None if value == REMOVED else value
        if column in table.c and table.c[column].type.python_type is datetime and now and value:
            now, value = now[:19], value[:19]
        if now != value:
            changed.append(column)
    return changed


def restored_values(table_name: str, before: dict) -> tuple[dict, list[str]]:
    """The column values that put a row back as ``before`` records it, and the
    attachments (keys) whose rows are to go. An attachment counts as changed
    when its key or its borrower column is recorded: what the change wrote
    goes; what it replaced was never kept, so a borrower that had one is left
    with none (its digest column cleared) until a sync writes it afresh."""
    table = TABLES[table_name]
    values = {c: decode_value(table, c, v) for c, v in before.items() if c in table.c}
    removed = []
    if table_name == "borrowers":
        for key, column in ATTACHMENT_DIGESTS.items():
            if key in before or column in before:
                removed.append(key)
                if before.get(key, before.get(column)) is not None:
                    values[column] = None
    return values, removed


def remove_attachments(session: Session, keys, borrower_ids) -> None:
    for attachment in ATTACHMENTS:
        if attachment.key in keys:
            model = attachment.model
            for chunk in chunks(borrower_ids):
                session.execute(delete(model).where(model.borrower_id.in_(chunk)))


def delete_rows(session: Session, table_name: str, ids) -> None:
    """Delete rows a change created. The events about them outlive them: they
    keep their text (barcode, values) and lose only the link to the row."""
    event_column = SyncEvent.borrower_id if table_name == "borrowers" else SyncEvent.intake_id
    if table_name == "borrowers":
        remove_attachments(session, ATTACHMENT_DIGESTS, ids)
    table = TABLES[table_name]
    for chunk in chunks(ids):
        session.execute(update(SyncEvent).where(event_column.in_(chunk)).values({event_column.key: None}))
        session.execute(delete(table).where(table.c.id.in_(chunk)))


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
    rows, (_, last_event) = recorded["rows"], recorded["events"]
    problems = [p for row in rows for p in _changed_since(session, row, last_event)]
    if problems:
        raise UndoRefused(problems)
    reverted = []
    for row in rows:
        if "before" in row:
            reverted += _restore(session, row, now)
    for row in rows:
        if "created" in row:
            reverted.append(_delete_created(session, row))
    return reverted


def _changed_since(session: Session, row: dict, last_event: int) -> list[str]:
    current = row_state(session, row["table"], row["id"])
    expected = row.get("created") or row["after"]
    label = _label(row["table"], row["id"], current or expected)
    if current is None:
        return [f"{label} no longer exists"]
    changed = changed_columns(row["table"], expected, current)
    problems = [f"{label} has changed since ({', '.join(changed)})"] if changed else []
    if "created" in row:
        loans = session.execute(select(func.count()).select_from(Loan).where(Loan.borrower_id == row["id"])).scalar()
        later = session.execute(select(func.count()).select_from(SyncEvent).where(
            SyncEvent.borrower_id == row["id"], SyncEvent.id > last_event)).scalar()
        if loans:
            problems.append(f"{label} has {counted(loans, 'loan')}")
        if later and not changed:
            problems.append(f"{label} has been changed since")
    return problems


def _restore(session: Session, row: dict, now: datetime) -> list[Reverted]:
    table = TABLES[row["table"]]
    before, after = row["before"], row["after"]
    label = _label(row["table"], row["id"], row_state(session, row["table"], row["id"]))
    restored, attachments = restored_values(row["table"], before)
    remove_attachments(session, attachments, [row["id"]])
    session.execute(update(table).where(table.c.id == row["id"]).values(**restored, updated_at=now))
    return [Reverted(row["table"], row["id"], label, c, after[c], restored.get(c)) for c in before]


def _delete_created(session: Session, row: dict) -> Reverted:
    barcode = row["created"]["barcode"]
    delete_rows(session, "borrowers", [row["id"]])
    return Reverted("borrowers", row["id"], f"borrower {barcode}", "deleted", barcode, None)


# Two names for one piece of data: a borrower's digest column and the
# attachment (also an Intake record's key) it stands for.
_SAME_DATA = tuple({attachment, column} for attachment, column in ATTACHMENT_DIGESTS.items())


def scrub_decisions(session: Session, fields: set[str]) -> int:
    """The school has switched these fields off (borrower columns or Intake
    record keys, as a sync's purge names them): replace every value of them
    that a stored decision or a run's recorded change (``run_changes``) holds
    with ``REMOVED`` (in an Intake entry's recorded record, the key is emptied,
    as the purge empties it in the entry), so that nothing keeps a copy of data
    the library may no longer hold. Returns how many decisions and recorded
    run changes changed."""
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
    return len(scrubbed) + _scrub_run_changes(session, keys)


def _scrub_run_changes(session: Session, keys: set[str]) -> int:
    table = RunChange.__table__
    # Only the rows that name a key can hold one (a key inside a recorded record is quoted twice).
    named = or_(*(column.like(f"%{key}%") for key in keys for column in (table.c.before, table.c.after)))
    scrubbed = []
    for change_id, before, after in session.execute(select(table.c.id, table.c.before, table.c.after).where(named)):
        states = {"before": None if before is None else json.loads(before), "after": json.loads(after)}
        if _scrub([states], keys):
            scrubbed.append({"_id": change_id, "after": json.dumps(states["after"]),
                             "before": None if before is None else json.dumps(states["before"])})
    if scrubbed:
        session.execute(update(table).where(table.c.id == bindparam("_id"))
                        .values(before=bindparam("before"), after=bindparam("after")), scrubbed)
    return len(scrubbed)


def _scrub(rows: list[dict], keys: set[str]) -> bool:
    """Scrub these keys in the recorded rows in place; True if any was there."""
    found = False
    for row in rows:
        for state in (row.get("before"), row.get("after"), row.get("created")):
            for key in keys.intersection(state or ()):
                if state[key] is not None and state[key] != REMOVED:
                    state[key], found = REMOVED, True
            record = json_object(state.get("record")) if state else None
            held = [key for key in keys.intersection(record or ()) if record[key] is not None]
            if held:
                record.update(dict.fromkeys(held))
                state["record"], found = json.dumps(record, sort_keys=True), True
    return found
