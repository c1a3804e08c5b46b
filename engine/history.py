"""The library's history: ``recent_runs`` (syncs, imports, purges, and the
decisions made outside any run, with their counts), ``run_events`` (one run's
changes, filterable by action and field) and ``change_marker``, a cheap value
that moves on whenever anything is written, so the UI notices a scheduled
``mislink --sync`` and refreshes, and a prepared sync notices a change since
its preview.

Every function takes an open ``Session`` and works in the caller's
transaction. (The Intake queue's reads are ``engine.intake``'s.)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, SyncEvent, SyncRun
from engine.run_status import RunOutcome

RUNS_SHOWN = 50
EVENTS_SHOWN = 500
DECISIONS = "decisions"
# Who an event is about, so an action counts people, not the fields it changed
# (a recycled borrower's status and tutor group are one person recycled): the
# borrower, else the Intake entry (negated, apart from borrowers' ids), else
# the event itself (offset past any entry's id).
_PERSON = case((SyncEvent.borrower_id.is_not(None), SyncEvent.borrower_id),
               (SyncEvent.intake_id.is_not(None), -SyncEvent.intake_id),
               else_=literal(-(1 << 40)) - SyncEvent.id)
_PEOPLE = func.count(func.distinct(_PERSON))


@dataclass(frozen=True)
class RunSummary:
    """One run, or (``run_id`` None, kind "decisions") every change made
    outside a run: Intake decisions and recycle-bin restores."""
    run_id: int | None
    kind: str
    started_at: datetime | None
    outcome: str
    message: str | None
    # The sync's own report counts (syncs only; see ``SyncPlan.counts``).
    counts: dict
    # People changed, by action (not the fields changed).
    actions: dict[str, int]
    # An undo names the run it undid; an undone run, its undo (``engine.runs``).
    undo_of: int | None = None
    undone_by_run: int | None = None


@dataclass(frozen=True)
class EventLine:
    event_id: int
    at: datetime
    actor: str
    action: str
    # Who the change is about: a borrower (barcode and name) or an Intake entry.
    barcode: str | None
    borrower_name: str | None
    intake_id: int | None
    intake_name: str | None
    field: str | None
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class EventPage:
    run_id: int | None
    events: tuple[EventLine, ...]
    # How many events match the filter (more than are shown, for a large run).
    matching: int
    # The whole run's actions (with how many people each) and fields, to filter by.
    actions: dict[str, int]
    fields: tuple[str, ...]


class ChangeMarker(NamedTuple):
    """Moves on whenever a run is recorded or any change is logged."""
    last_run: int
    last_event: int


def change_marker(session: Session) -> ChangeMarker:
    return ChangeMarker(session.execute(select(func.max(SyncRun.id))).scalar() or 0,
                        session.execute(select(func.max(SyncEvent.id))).scalar() or 0)


def recent_runs(session: Session, limit: int = RUNS_SHOWN) -> list[RunSummary]:
    """The decisions made outside any run (if there are any), then the latest
    runs, newest first."""
    runs = session.execute(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)).scalars().all()
    actions: dict[int | None, dict[str, int]] = {}
    run_ids = [run.id for run in runs]
    counted = (select(SyncEvent.run_id, SyncEvent.action, _PEOPLE)
               .where(SyncEvent.run_id.in_(run_ids) | SyncEvent.run_id.is_(None))
               .group_by(SyncEvent.run_id, SyncEvent.action))
    for run_id, action, count in session.execute(counted):
        actions.setdefault(run_id, {})[action] = count
    summaries = [RunSummary(run.id, run.kind, run.started_at, run.outcome, run.message,
                            json.loads(run.counts) if run.counts else {}, actions.get(run.id, {}),
                            run.undo_of, run.undone_by_run)
                 for run in runs]
    if None in actions:
        last = session.execute(select(func.max(SyncEvent.at)).where(SyncEvent.run_id.is_(None))).scalar()
        summaries.insert(0, RunSummary(None, DECISIONS, last, RunOutcome.OK, None, {}, actions[None]))
    return summaries


def run_events(session: Session, run_id: int | None, *, action: str | None = None, field: str | None = None,
               limit: int = EVENTS_SHOWN) -> EventPage:
    """A run's events in the order they were written; for ``run_id`` None, the
    decisions made outside any run, newest first."""
    in_run = SyncEvent.run_id.is_(None) if run_id is None else SyncEvent.run_id == run_id
    actions = dict(session.execute(select(SyncEvent.action, _PEOPLE).where(in_run)
                                   .group_by(SyncEvent.action)).all())
    fields = tuple(sorted(f for f in session.execute(select(SyncEvent.field).where(in_run).distinct()).scalars()
                          if f))
    wanted = [in_run] + ([SyncEvent.action == action] if action else []) + \
        ([SyncEvent.field == field] if field else [])
    matching = session.execute(select(func.count()).select_from(SyncEvent).where(*wanted)).scalar() or 0
    order = SyncEvent.id.desc() if run_id is None else SyncEvent.id
    rows = session.execute(
        select(SyncEvent.id, SyncEvent.at, SyncEvent.actor, SyncEvent.action, Borrower.barcode,
               Borrower.forename, Borrower.surname, SyncEvent.intake_id, IntakeEntry.forename.label("i_forename"),
               IntakeEntry.surname.label("i_surname"), SyncEvent.field, SyncEvent.old_value, SyncEvent.new_value)
        .outerjoin(Borrower, Borrower.id == SyncEvent.borrower_id)
        .outerjoin(IntakeEntry, IntakeEntry.id == SyncEvent.intake_id)
        .where(*wanted).order_by(order).limit(limit))
    events = tuple(EventLine(r.id, r.at, r.actor, r.action, r.barcode, _name(r.forename, r.surname), r.intake_id,
                             _name(r.i_forename, r.i_surname), r.field, r.old_value, r.new_value) for r in rows)
    return EventPage(run_id, events, matching, actions, fields)


def _name(forename: str | None, surname: str | None) -> str | None:
    return " ".join(n for n in (forename, surname) if n) or None
