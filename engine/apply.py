"""Carrying out a ``SyncPlan`` inside the caller's transaction.

Writes are done in bulk (executemany) so a 100,000-person school applies in
seconds. Every change becomes a ``SyncEvent``, and every row a run touches a
``RunChange`` (``RunChanges``: its columns before and after, for ``runs
undo``); a purged value is never copied into either.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, RunChange, SyncEvent, utcnow
from engine.decisions import UNTRACKED, encode_value, row_states, scrub_decisions
from engine.matching import Tier
from engine.optional_data import ATTACHMENTS, REMOVED
from engine.person import person_to_record
from engine.plan import BorrowerUpdate, Change, SyncPlan
from engine.text import fit_text, json_object

# Audit text is bounded by design: a value longer than its column is shown
# cut, with a marker, rather than failing the run that records it.
MAX_EVENT_VALUE = SyncEvent.__table__.c.new_value.type.length
MAX_DETAIL = IntakeEntry.__table__.c.reason_detail.type.length


def shown(value: object) -> str | None:
    """An audit-trail value: text, as a librarian would read it."""
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    return fit_text(str(value), MAX_EVENT_VALUE)


class EventLog:
    """Collects events and writes them with executemany. Given a session, it
    writes every ``BATCH`` events as it goes, so a first sync of a large school
    never holds its whole audit trail in memory.

    Events are plain tuples handed to the driver's executemany: SQLAlchemy's
    per-row handling of their dicts cost 12% of a 100,000-person first sync's
    CPU (benchmarks/sync_speed). The rows are the same: ``at``, the one typed
    value, goes through its column type's bind processor, as SQLAlchemy would
    send it."""

    BATCH = 20_000
    # Each event's own columns, in the order of its tuple; the run's come first.
    COLUMNS = ("run_id", "at", "actor", "action", "borrower_id", "intake_id", "field", "old_value", "new_value")

    def __init__(self, run_id: int | None, actor: str, now: datetime, session: Session | None = None):
        self.run_id, self.actor, self.now, self.session = run_id, actor, now, session
        self.rows: list[tuple] = []

    def add(self, action: str, *, borrower_id: int | None = None, intake_id: int | None = None,
            field: str | None = None, old: object = None, new: object = None) -> None:
        self.rows.append((action, borrower_id, intake_id, field, shown(old), shown(new)))
        if self.session is not None and len(self.rows) >= self.BATCH:
            self.flush(self.session)

    def change(self, action: str, change: Change, **target) -> None:
        field, old, new, hidden = change
        self.add(action, field=field, old=REMOVED if hidden else old, new=None if hidden else new, **target)

    def flush(self, session: Session) -> None:
        if not self.rows:
            return
        if session.autoflush:
            session.flush()  # as a statement through the session would: pending rows first
        connection = session.connection()
        dialect = connection.dialect
        table = SyncEvent.__table__
        at_type = table.c.at.type.dialect_impl(dialect)
        process = at_type.bind_processor(dialect)
        run = (self.run_id, process(self.now) if process else self.now, self.actor)
        connection.exec_driver_sql(_plain_insert(dialect, table, self.COLUMNS), [(*run, *row) for row in self.rows])
        self.rows = []


# The driver's own placeholder, by its DB-API paramstyle (SQLite, MariaDB's
# pyodbc: qmark; psycopg: pyformat, which takes %s with a tuple).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _plain_insert(dialect, table, columns: tuple[str, ...]) -> str:
    """An INSERT for the driver's executemany, names quoted as the dialect
    quotes them (``at`` and ``field`` are reserved words somewhere)."""
    quote = dialect.identifier_preparer
    marks = ", ".join([_PLACEHOLDERS[dialect.paramstyle]] * len(columns))
    return (f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(c) for c in columns)}) "
            f"VALUES ({marks})")


class RunChanges:
    """What a run changes in each row it touches, for ``runs undo``: per row,
    the columns before and after (JSON, encoded as an Intake decision records
    them); before None for a row it created, after null for one it deleted.
    Taken from what apply writes (the plan's old and new values, the rows it
    inserts); only the columns the plan does not know the old value of (a
    restore's recycle columns, an Intake entry's stored record) are read
    first, in bulk. A purged value is recorded as ``REMOVED``. Written every
    ``BATCH`` rows with executemany."""

    BATCH = 20_000

    def __init__(self, session: Session, run_id: int):
        self.session, self.run_id = session, run_id
        self.rows: list[dict] = []

    def written(self, table_name: str, rows: list[dict], known: dict[int, dict] | None = None,
                derived: tuple[str, ...] = ()) -> None:
        """Record rows about to be written (each its id and new values, as
        ``bulk_update`` takes them). Their old values come from ``known`` where
        it has them, else from the library, read now. ``derived`` columns,
        which a later step of the run works out afresh (an Intake entry's best
        score), are recorded as they were, before only."""
        known = known or {}
        unknown = [row["id"] for row in rows
                   if any(c not in known.get(row["id"], ()) for c in (*row, *derived) if c not in _NOT_RECORDED)]
        read = row_states(self.session, table_name, unknown, attachments=False) if unknown else {}
        for row in rows:
            old = {**read.get(row["id"], {}), **known.get(row["id"], {})}
            before, after = {c: encode_value(old.get(c)) for c in derived}, {}
            for column, value in row.items():
                was, now = encode_value(old.get(column)), encode_value(value)
                if column not in _NOT_RECORDED and was != now:
                    before[column], after[column] = was, now
            if after:
                self._add(table_name, row["id"], before, after)

    def created(self, table_name: str, rows: list[dict]) -> None:
        """Record rows the run inserted (each with its id), as inserted."""
        for row in rows:
            self._add(table_name, row["id"], None,
                      {c: encode_value(v) for c, v in row.items() if c not in _NOT_RECORDED})

    def deleted(self, table_name: str, states: dict[int, dict]) -> None:
        """Record rows about to be deleted (``row_states``, by id): after is JSON null."""
        for row_id, state in states.items():
            self._add(table_name, row_id, state, None)

    def _add(self, table_name: str, row_id: int, before: dict | None, after: dict | None) -> None:
        self.rows.append({"run_id": self.run_id, "table_name": table_name, "row_id": row_id,
                          "before": None if before is None else json.dumps(before), "after": json.dumps(after)})
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.session.execute(insert(RunChange.__table__), self.rows)
            self.rows = []


# The row's id, and what every write moves on.
_NOT_RECORDED = {"id", *UNTRACKED}


def apply_plan(session: Session, plan: SyncPlan, run_id: int | None, now: datetime | None = None) -> None:
    now = now or utcnow()
    _forget_purged_values(session, plan)
    events = EventLog(run_id, "sync", now, session)
    changes = RunChanges(session, run_id) if run_id is not None else None
    apply_updates(session, plan.updates, events, now, changes)
    _apply_recycles(session, plan, events, now, changes)
    _apply_intake(session, plan, events, now, changes)
    events.flush(session)
    if changes is not None:
        changes.flush()


def _forget_purged_values(session: Session, plan: SyncPlan) -> None:
    """A field switched off must leave no copy behind: the audit trail written
    while it was on loses its values for that field too."""
    targets: dict[tuple[str, str], set[int]] = defaultdict(set)
    for item in plan.updates:
        for change in item.changes:
            if change.hidden:
                targets[("borrower_id", change.field)].add(item.borrower_id)
    for item in plan.intake_refreshes:
        for change in item.changes:
            if change.hidden:
                targets[("intake_id", change.field)].add(item.entry_id)
    table = SyncEvent.__table__
    for (column, field), ids in targets.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start:start + 1000]
            session.execute(update(table).where(table.c.field == field, table.c[column].in_(chunk))
                            .values(old_value=REMOVED, new_value=None))
    if targets:
        scrub_decisions(session, {field for _, field in targets})


def bulk_update(session: Session, model, rows: list[dict]) -> None:
    """UPDATE by primary key, one Core executemany per distinct set of columns
    (the ORM's bulk path is several times slower at this scale)."""
    table = model.__table__
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append({f"_{k}" if k == "id" else k: v for k, v in row.items()})
    for columns, group in groups.items():
        statement = (update(table).where(table.c.id == bindparam("_id"))
                     .values({c: bindparam(c) for c in columns if c != "id"}))
        session.execute(statement, group)


def apply_updates(session: Session, updates: list[BorrowerUpdate], events: EventLog, now: datetime,
                  changes: RunChanges | None = None) -> None:
    """Write the borrower updates (and their attachments); with ``changes``,
    record each row's change for the run."""
    rows = []
    for item in updates:
        values = {"id": item.borrower_id, "updated_at": now}
        for change in item.changes:
            values[change.field] = change.new
            events.change("updated" if not change.hidden else "purged", change, borrower_id=item.borrower_id)
        if item.tier in (Tier.UPN, Tier.NAME_DOB, Tier.FUZZY):
            events.add("linked", borrower_id=item.borrower_id, field="matched_by", new=item.tier.value)
        if item.restore:
            values.update(status="active", recycled_at=None, recycled_reason=None, group_before_recycle=None)
            events.add("restored", borrower_id=item.borrower_id, field="status", old="recycled", new="active")
        rows.append(values)
    if changes is not None:
        changes.written("borrowers", rows, _known_before(updates))
    for item in updates:
        _apply_attachments(session, item)
    bulk_update(session, Borrower, rows)


def _known_before(items) -> dict[int, dict]:
    """The old values the plan knows, by borrower: a purged one is ``REMOVED``."""
    return {item.borrower_id: {c.field: REMOVED if c.hidden else c.old for c in item.changes} for item in items}


def _apply_attachments(session: Session, item: BorrowerUpdate) -> None:
    """Photos and guardians live in their own tables, keyed by borrower: a
    change to the digest column replaces the borrower's rows."""
    fields = {c.field for c in item.changes}
    for attachment in ATTACHMENTS:
        if attachment.digest_column not in fields:
            continue
        model = attachment.model
        session.execute(delete(model).where(model.borrower_id == item.borrower_id))
        rows = attachment.rows(item.person) if item.person else []
        if rows:
            session.execute(insert(model), [{"borrower_id": item.borrower_id, **row} for row in rows])


def _apply_recycles(session: Session, plan: SyncPlan, events: EventLog, now: datetime,
                    changes: RunChanges | None) -> None:
    rows = []
    for item in plan.recycles:
        values = {"id": item.borrower_id, "status": "recycled", "recycled_at": now,
                  "recycled_reason": item.reason, "group_before_recycle": item.old_group,
                  "tutor_group": item.new_group, "updated_at": now}
        for change in item.changes:
            values[change.field] = change.new
            events.change("updated", change, borrower_id=item.borrower_id)
        events.add("recycled", borrower_id=item.borrower_id, field="status", old="active", new="recycled")
        events.add("recycled", borrower_id=item.borrower_id, field="recycled_reason", new=item.reason)
        events.add("updated", borrower_id=item.borrower_id, field="tutor_group", old=item.old_group,
                   new=item.new_group)
        rows.append(values)
    if changes is not None:
        changes.written("borrowers", rows, _known_before(plan.recycles))
    bulk_update(session, Borrower, rows)


def _apply_intake(session: Session, plan: SyncPlan, events: EventLog, now: datetime,
                  changes: RunChanges | None) -> None:
    if plan.intake_adds:
        inserted = [{**_intake_columns(add.person, person_to_record(add.person)), "status": "pending",
                     "reason": add.reason.value, "reason_detail": fit_text(add.detail, MAX_DETAIL),
                     "created_at": now, "updated_at": now}
                    for add in plan.intake_adds]
        session.execute(insert(IntakeEntry.__table__), inserted)
        added = {(row["person_type"], row["mis_id"]): row for row in inserted}
        for row in session.execute(select(IntakeEntry.id, IntakeEntry.person_type, IntakeEntry.mis_id)
                                   .where(IntakeEntry.status == "pending")):
            if (row.person_type, row.mis_id) in added:
                events.add("intake_added", intake_id=row.id)
                added[(row.person_type, row.mis_id)]["id"] = row.id
        if changes is not None:
            changes.created("intake", [row for row in inserted if "id" in row])
    rows = []
    for item in plan.intake_refreshes:
        values = {"id": item.entry_id, "updated_at": now, "record": json.dumps(item.record, sort_keys=True),
                  **dict.fromkeys(item.blank)}
        if item.person is not None:
            values.update(_intake_columns(item.person, item.record))
            values.update(reason=item.reason.value, reason_detail=fit_text(item.detail, MAX_DETAIL))
        if item.reopen:
            values.update(status="pending", borrower_id=None, decided_at=None, decided_by=None)
            events.add("intake_reopened", intake_id=item.entry_id, field="status", new="pending")
        for change in item.changes:
            events.change("intake_refreshed" if not change.hidden else "purged", change, intake_id=item.entry_id)
        rows.append(values)
    for item in plan.intake_closes:
        rows.append({"id": item.entry_id, "status": item.status, "borrower_id": item.borrower_id,
                     "updated_at": now, "decided_at": now, "decided_by": "sync"})
        events.add(f"intake_{item.status}", intake_id=item.entry_id, borrower_id=item.borrower_id,
                   field="status", new=item.status)
    if changes is not None:
        _record_intake_writes(changes, plan, rows)
    bulk_update(session, IntakeEntry, rows)


def _record_intake_writes(changes: RunChanges, plan: SyncPlan, rows: list[dict]) -> None:
    """An entry's old columns are read from the library (the plan holds only
    its record's changes); a purged field is left out of the old record, as
    the purge leaves it out of the entry. The best score of a refreshed entry
    is worked out again after apply, so it is recorded as it was."""
    known = row_states(changes.session, "intake", [row["id"] for row in rows], attachments=False)
    for item in plan.intake_refreshes:
        purged = [c.field for c in item.changes if c.hidden]
        record = json_object(known.get(item.entry_id, {}).get("record"))
        if purged and record is not None:
            known[item.entry_id]["record"] = json.dumps({**record, **dict.fromkeys(purged)}, sort_keys=True)
        if item.entry_id in known:
            known[item.entry_id].update(dict.fromkeys(item.blank))  # purged: never recorded
    refreshed = {item.entry_id for item in plan.intake_refreshes}
    changes.written("intake", [row for row in rows if row["id"] in refreshed], known, derived=("best_score",))
    changes.written("intake", [row for row in rows if row["id"] not in refreshed], known)


def _intake_columns(person, record: dict) -> dict:
    return {"person_type": person.person_type.value, "mis_id": person.mis_id,
            "forename": person.preferred_forename, "surname": person.preferred_surname,
            "date_of_birth": person.date_of_birth, "year_group": person.year_group,
            "tutor_group": person.tutor_group, "start_date": person.start_date,
            "record": json.dumps(record, sort_keys=True)}

