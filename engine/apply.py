"""Carrying out a ``SyncPlan`` inside the caller's transaction.

Writes are done in bulk (executemany) so a 100,000-person school applies in
seconds. Every change becomes a ``SyncEvent``; a purged value is never copied
into the audit trail.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, SyncEvent, utcnow
from engine.decisions import scrub_decisions
from engine.matching import Tier
from engine.optional_data import ATTACHMENTS, REMOVED
from engine.person import person_to_record
from engine.plan import BorrowerUpdate, Change, SyncPlan
from engine.text import fit_text

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
    never holds its whole audit trail in memory."""

    BATCH = 20_000

    def __init__(self, run_id: int | None, actor: str, now: datetime, session: Session | None = None):
        self.run_id, self.actor, self.now, self.session = run_id, actor, now, session
        self.rows: list[dict] = []

    def add(self, action: str, *, borrower_id: int | None = None, intake_id: int | None = None,
            field: str | None = None, old: object = None, new: object = None) -> None:
        self.rows.append({"run_id": self.run_id, "at": self.now, "actor": self.actor, "action": action,
                          "borrower_id": borrower_id, "intake_id": intake_id, "field": field,
                          "old_value": shown(old), "new_value": shown(new)})
        if self.session is not None and len(self.rows) >= self.BATCH:
            self.flush(self.session)

    def change(self, action: str, change: Change, **target) -> None:
        field, old, new, hidden = change
        self.add(action, field=field, old=REMOVED if hidden else old, new=None if hidden else new, **target)

    def flush(self, session: Session) -> None:
        if self.rows:
            session.execute(insert(SyncEvent.__table__), self.rows)
            self.rows = []


def apply_plan(session: Session, plan: SyncPlan, run_id: int | None, now: datetime | None = None) -> None:
    now = now or utcnow()
    _forget_purged_values(session, plan)
    events = EventLog(run_id, "sync", now, session)
    apply_updates(session, plan.updates, events, now)
    _apply_recycles(session, plan, events, now)
    _apply_intake(session, plan, events, now)
    events.flush(session)


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


def apply_updates(session: Session, updates: list[BorrowerUpdate], events: EventLog, now: datetime) -> None:
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
        _apply_attachments(session, item)
    bulk_update(session, Borrower, rows)


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


def _apply_recycles(session: Session, plan: SyncPlan, events: EventLog, now: datetime) -> None:
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
    bulk_update(session, Borrower, rows)


def _apply_intake(session: Session, plan: SyncPlan, events: EventLog, now: datetime) -> None:
    if plan.intake_adds:
        session.execute(insert(IntakeEntry.__table__), [
            {**_intake_columns(add.person, person_to_record(add.person)), "status": "pending",
             "reason": add.reason.value, "reason_detail": fit_text(add.detail, MAX_DETAIL),
             "created_at": now, "updated_at": now}
            for add in plan.intake_adds])
        added = {(add.person.person_type.value, add.person.mis_id) for add in plan.intake_adds}
        for row in session.execute(select(IntakeEntry.id, IntakeEntry.person_type, IntakeEntry.mis_id)
                                   .where(IntakeEntry.status == "pending")):
            if (row.person_type, row.mis_id) in added:
                events.add("intake_added", intake_id=row.id)
    rows = []
    for item in plan.intake_refreshes:
        values = {"id": item.entry_id, "updated_at": now, "record": json.dumps(item.record, sort_keys=True)}
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
    bulk_update(session, IntakeEntry, rows)


def _intake_columns(person, record: dict) -> dict:
    return {"person_type": person.person_type.value, "mis_id": person.mis_id,
            "forename": person.preferred_forename, "surname": person.preferred_surname,
            "date_of_birth": person.date_of_birth, "year_group": person.year_group,
            "tutor_group": person.tutor_group, "record": json.dumps(record, sort_keys=True)}

