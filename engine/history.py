"""What the terminal UI reads and checks beyond ``engine.intake``.

- The library's history: ``recent_runs`` (syncs, imports, purges, and the
  decisions made outside any run, with their counts), ``run_events`` (one
  run's changes, filterable by action and field) and ``change_marker``, a
  cheap value that moves on whenever anything is written, so the UI notices a
  scheduled ``mislink --sync`` and refreshes.
- The Intake screen's reads: ``intake_queue`` (what ``list_entries`` lists,
  with when each entry last changed, unscored) and ``compare_suggestions``
  (each suggested borrower beside the incoming record, field by field).
- Deciding only on what the librarian saw: ``decide`` refuses with
  ``EntryChanged`` when a sync changed an entry after the screen showed it,
  and otherwise makes the decision through ``engine.intake``.

Every function takes an open ``Session`` and works in the caller's
transaction, like ``engine.intake``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Mapping, NamedTuple, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config import Config
from engine.evidence import AGREE, DISAGREE, MISSING, PARTIAL, FieldEvidence, key_of
from engine.intake import (Decision, IntakeDetail, IntakeError, IntakeItem, mark_new, match_entry, reject_entry,
                           show_entry, transfer_entries, unreject_entry)
from engine.library import BORROWER_COLUMNS
from engine.models import Borrower, IntakeEntry, SyncEvent, SyncRun
from engine.person import Person
from engine.plan import OPEN_INTAKE
from engine.suggest import SHOWN, Suggestion, SuggestionIndex
from engine.text import year_number

RUNS_SHOWN = 50
EVENTS_SHOWN = 500
DECISIONS = "decisions"


# --- the library's history ---------------------------------------------------------

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
    # Events recorded, by action.
    actions: dict[str, int]


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
    # The whole run's actions and fields, to filter by.
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
    counted = (select(SyncEvent.run_id, SyncEvent.action, func.count())
               .where(SyncEvent.run_id.in_(run_ids) | SyncEvent.run_id.is_(None))
               .group_by(SyncEvent.run_id, SyncEvent.action))
    for run_id, action, count in session.execute(counted):
        actions.setdefault(run_id, {})[action] = count
    summaries = [RunSummary(run.id, run.kind, run.started_at, run.outcome, run.message,
                            json.loads(run.counts) if run.counts else {}, actions.get(run.id, {}))
                 for run in runs]
    if None in actions:
        last = session.execute(select(func.max(SyncEvent.at)).where(SyncEvent.run_id.is_(None))).scalar()
        summaries.insert(0, RunSummary(None, DECISIONS, last, "ok", None, {}, actions[None]))
    return summaries


def run_events(session: Session, run_id: int | None, *, action: str | None = None, field: str | None = None,
               limit: int = EVENTS_SHOWN) -> EventPage:
    """A run's events in the order they were written; for ``run_id`` None, the
    decisions made outside any run, newest first."""
    in_run = SyncEvent.run_id.is_(None) if run_id is None else SyncEvent.run_id == run_id
    actions = dict(session.execute(select(SyncEvent.action, func.count()).where(in_run)
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


# --- the Intake screen ---------------------------------------------------------------

@dataclass(frozen=True)
class QueuedEntry:
    """An Intake entry as the queue shows it, and when it last changed: a
    decision about it first checks that it is still so (``check_unchanged``)."""
    item: IntakeItem
    updated_at: datetime


def intake_queue(session: Session, *, status: str | None = None, reason: str | None = None,
                 year: str | None = None, name: str | None = None) -> list[QueuedEntry]:
    """The entries ``list_entries`` lists for the same filters, each with its
    last change, read fast enough to show 10,000 at once: nothing is scored
    here, so an entry the sync has not scored yet has ``best_score`` None
    (``refresh_best_scores`` stores the missing scores).

    This repeats ``list_entries``' four filters until that function can leave
    the missing scores out (``list_entries(score_missing=False)``), when this
    becomes a call to it."""
    query = _QUEUE
    if status != "all":
        query = query.where(IntakeEntry.status.in_((status,) if status else OPEN_INTAKE))
    if reason:
        query = query.where(IntakeEntry.reason == reason)
    entries = _queued(session, query)
    if year:
        wanted = year_number(year)
        entries = [e for e in entries if year_number(e.item.year_group) == wanted]
    if name:
        words = key_of(name).split()
        entries = [e for e in entries if all(w in key_of(e.item.name) for w in words)]
    return entries


# An IntakeItem's fields, by name, and the entry's last change.
_QUEUE = (select(IntakeEntry.id, IntakeEntry.status, IntakeEntry.reason, IntakeEntry.reason_detail,
                 IntakeEntry.person_type, IntakeEntry.mis_id, IntakeEntry.forename, IntakeEntry.surname,
                 IntakeEntry.date_of_birth, IntakeEntry.year_group, IntakeEntry.tutor_group, IntakeEntry.best_score,
                 Borrower.barcode.label("borrower_barcode"), IntakeEntry.updated_at)
          .outerjoin(Borrower, Borrower.id == IntakeEntry.borrower_id).order_by(IntakeEntry.id))


def _queued(session: Session, query) -> list[QueuedEntry]:
    entries = []
    for row in session.execute(query).mappings():
        fields = dict(row)
        updated_at = fields.pop("updated_at")
        entries.append(QueuedEntry(IntakeItem(**fields), updated_at))
    return entries


@dataclass(frozen=True)
class ComparedField:
    """One field of the incoming record beside the same field of a borrower.
    ``verdict`` is the suggestion's own evidence where it weighed the field
    (agree, partial, disagree, missing), otherwise plain equality."""
    label: str
    incoming: object
    candidate: object
    verdict: str
    weight: float | None
    detail: str


@dataclass(frozen=True)
class Candidate:
    suggestion: Suggestion
    fields: tuple[ComparedField, ...]


@dataclass(frozen=True)
class EntryComparison:
    detail: IntakeDetail
    candidates: tuple[Candidate, ...]
    # The incoming record on its own, in the same fields.
    incoming: tuple[ComparedField, ...]


# (label, the person's attributes, the borrower's columns, the evidence field).
# The first of each is what is shown; every one counts for plain equality.
_COMPARED = (
    ("Forename", ("preferred_forename", "legal_forename"), ("forename", "preferred_forename", "legal_forename"),
     "forename"),
    ("Surname", ("preferred_surname", "legal_surname"), ("surname", "preferred_surname", "legal_surname"),
     "surname"),
    ("Born", ("date_of_birth",), ("date_of_birth",), "date_of_birth"),
    ("Gender", ("gender",), ("gender",), "gender"),
    ("Year", ("year_group",), ("year_group",), "year_group"),
    ("Tutor", ("tutor_group",), ("tutor_group",), None),
    ("UPN", ("upn", "former_upn"), ("upn",), "upn"),
    ("Admission", ("admission_no",), ("admission_no",), "admission_no"),
    ("Postcode", ("postcode",), ("postcode",), "postcode"),
)
# Shown only when either side has a value: most libraries hold none of them.
_OPTIONAL = {"UPN", "Admission", "Postcode"}


def compare_suggestions(session: Session, entry_id: int, *, index: SuggestionIndex, today: date | None = None,
                        limit: int = SHOWN) -> EntryComparison:
    """The entry, its ranked suggestions, and each suggested borrower beside it."""
    detail = show_entry(session, entry_id, index=index, today=today, limit=limit)
    ids = [s.borrower_id for s in detail.suggestions.ranked]
    rows = {row["id"]: row for row in session.execute(
        select(*BORROWER_COLUMNS).where(Borrower.id.in_(ids))).mappings()} if ids else {}
    candidates = tuple(Candidate(s, compared_fields(detail.person, rows[s.borrower_id], s.evidence))
                       for s in detail.suggestions.ranked if s.borrower_id in rows)
    return EntryComparison(detail, candidates, compared_fields(detail.person, {}, ()))


def compared_fields(person: Person, row: Mapping, evidence: tuple[FieldEvidence, ...]) -> tuple[ComparedField, ...]:
    """The person beside one borrower (a row of ``BORROWER_COLUMNS``; empty
    for the person alone)."""
    weighed = {e.field: e for e in evidence}
    compared = []
    for label, attributes, columns, evidence_field in _COMPARED:
        incoming = [getattr(person, a) for a in attributes if getattr(person, a)]
        stored = [row[c] for c in columns if row.get(c)]
        if label in _OPTIONAL and not (incoming or stored):
            continue
        shown_in, shown_stored = (incoming or [None])[0], (stored or [None])[0]
        found = weighed.get(evidence_field)
        if found is None:
            verdict, weight, detail = _unweighed(label, incoming, stored), None, "not weighed"
        else:
            verdict, weight, detail = found.verdict, found.weight, found.detail
            if verdict == AGREE and _key(label, shown_in) != _key(label, shown_stored):
                # Agreeing through another form (a legal name, a year that fits
                # the date of birth) while the values shown differ: say so.
                verdict = PARTIAL
        compared.append(ComparedField(label, shown_in, shown_stored, verdict, weight, detail))
    return tuple(compared)


def _unweighed(label: str, incoming: list, stored: list) -> str:
    """Plain equality, for a field the score does not weigh."""
    if not (incoming and stored):
        return MISSING
    return AGREE if {_key(label, v) for v in incoming} & {_key(label, v) for v in stored} else DISAGREE


def _key(label: str, value: object) -> object:
    """The form two shown values are compared in ("Year  8" is "8")."""
    if value is None:
        return None
    number = year_number(value) if label == "Year" else None
    return number if number is not None else key_of(str(value))


# --- deciding on what the screen showed ------------------------------------------------

class EntryChanged(IntakeError):
    """An entry changed after the screen showed it: nothing was decided."""


def check_unchanged(session: Session, shown: Sequence[QueuedEntry]) -> None:
    """Refuse if any entry is no longer as it was shown: its last change
    moved on, or (on a database that keeps whole seconds, where a change can
    land in the second the entry was read) anything the queue shows differs.
    Its best score is derived and does not count. The rows stay locked until
    the caller's transaction ends, where the database can lock them, so a sync
    cannot slip in between the check and the decision."""
    ids = [entry.item.id for entry in shown]
    current: dict[int, QueuedEntry] = {}
    # In chunks: SQL Server takes at most 2,100 parameters in one statement.
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        session.execute(select(IntakeEntry.id).where(IntakeEntry.id.in_(chunk)).with_for_update()).all()
        current.update((e.item.id, e) for e in _queued(session, _QUEUE.where(IntakeEntry.id.in_(chunk))))
    changed = [f"Intake {e.item.id} ({e.item.name})" for e in shown
               if _as_shown(current.get(e.item.id)) != _as_shown(e)]
    if changed:
        raise EntryChanged(f"{', '.join(changed)} changed after it was shown (a sync has run since); nothing was "
                           "decided. Look at it again, as it is now, before deciding")


def _as_shown(entry: QueuedEntry | None) -> tuple | None:
    return (replace(entry.item, best_score=None), entry.updated_at) if entry else None


def decide(session: Session, config: Config, action: str, shown: Sequence[QueuedEntry], *, actor: str,
           barcode: str | None = None, force: bool = False) -> Decision:
    """Make an Intake decision (match, new, reject, unreject: one entry;
    transfer: every entry in ``shown``) only if none of its entries changed
    after the screen showed it."""
    check_unchanged(session, shown)
    if action == "transfer":
        return transfer_entries(session, config, [e.item.id for e in shown], force=force, actor=actor)
    (entry,) = shown
    if action == "match":
        return match_entry(session, config, entry.item.id, barcode, actor=actor, force=force)
    single = {"new": mark_new, "reject": reject_entry, "unreject": unreject_entry}
    return single[action](session, entry.item.id, actor=actor)
