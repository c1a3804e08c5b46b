"""The Intake queue's operations, as the command line and the terminal UI call them.

Every function takes an open SQLAlchemy ``Session`` (and the ``Config`` where it
needs one), works inside the caller's transaction, prints nothing and returns
plain dataclasses. A refused operation raises ``IntakeError`` with a reason a
librarian can act on, before anything is written.

A decision (match, new, transfer, reject, unreject) is recorded three ways: the
Intake entry's status and ``decided_by``/``decided_at``; ``SyncEvent`` rows
(who, when, what) for every change; and an ``IntakeDecision`` holding exactly
what changed, which ``undo`` puts back (the last decision, or any one by id).
A decision that needed ``force`` (a match to a borrower that looks like
someone else, a transfer of a probable duplicate) says so in its summary and
in an ``intake_forced`` event naming the borrower it was forced past.
Decisions last: a matched or transferred person's borrower carries their MIS
link, so the next sync matches them by link; a rejected person is skipped by
the sync until unrejected.
Borrowers are written with the sync's own field logic (``match_changes``,
``matched_update``) through ``engine.apply``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from engine.apply import EventLog, apply_updates, bulk_update
from engine.barcodes import BarcodeAllocator, BarcodeError
from engine.config import Config
from engine.decisions import (
    GUARDIANS,
    PHOTO,
    REMOVED,
    ChangeRecorder,
    UndoRefused,
    undo_decision,
)
from engine.evidence import key_of
from engine.library import BORROWER_COLUMNS
from engine.matching import LibraryIndex, linked_elsewhere
from engine.models import Borrower, IntakeDecision, IntakeEntry, utcnow
from engine.person import Person, person_from_record
from engine.plan import OPEN_INTAKE, BorrowerUpdate, match_changes, matched_update
from engine.suggest import (
    SHOWN,
    SuggestionIndex,
    Suggestions,
    link_label,
    match_doubt,
    match_notes,
)
from engine.text import year_number
from engine.users import ACTOR_WIDTH

SEARCH_LIMIT = 20
DECISIONS_SHOWN = 20
# Ids per IN (...) list: SQL Server takes at most 2,100 parameters.
IDS_PER_QUERY = 1000


class IntakeError(Exception):
    """An Intake operation was refused; the message says why."""


class NeedsForce(IntakeError):
    """Refused only because the decision looks like a mistake (a twin, a
    stranger, a probable duplicate): a person may confirm it and force it."""


@dataclass(frozen=True)
class IntakeItem:
    id: int
    status: str
    reason: str
    reason_detail: str | None
    person_type: str
    mis_id: str
    forename: str
    surname: str
    date_of_birth: date | None
    year_group: str | None
    tutor_group: str | None
    best_score: int | None
    # The borrower it was matched to or transferred as, once decided.
    borrower_barcode: str | None
    # When the entry last changed (a sync refresh, a decision): the TUI checks
    # it before deciding on what it showed.
    updated_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


@dataclass(frozen=True)
class IntakeDetail:
    item: IntakeItem
    person: Person
    suggestions: Suggestions


@dataclass(frozen=True)
class Decision:
    id: int
    action: str
    summary: str
    entry_ids: tuple[int, ...]
    barcodes: tuple[str, ...]


@dataclass(frozen=True)
class DecisionLine:
    """A past Intake decision, as ``mislink intake decisions`` lists it."""
    id: int
    at: datetime
    actor: str
    action: str
    summary: str
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True)
class Doubt:
    """Why a decision needs force: the borrower it is about and what is wrong."""
    entry_id: int
    borrower_id: int
    barcode: str
    reason: str


@dataclass(frozen=True)
class BorrowerHit:
    id: int
    barcode: str
    name: str
    date_of_birth: date | None
    year_group: str | None
    tutor_group: str | None
    status: str
    linked_to: str | None


# --- reading -----------------------------------------------------------------

def load_index(session: Session) -> SuggestionIndex:
    """The whole library indexed for suggestions (build once, reuse)."""
    return SuggestionIndex(dict(row._mapping) for row in session.execute(select(*BORROWER_COLUMNS)))


def list_entries(session: Session, *, status: str | None = None, reason: str | None = None,
                 year: str | None = None, name: str | None = None, index: SuggestionIndex | None = None,
                 today: date | None = None, score_missing: bool = True) -> list[IntakeItem]:
    """Intake entries, oldest first: the open ones (pending, confirmed new)
    unless ``status`` names one ("rejected", "matched"…) or is "all". ``year``
    is a year group ("7" or "Year 7"), ``name`` part of a name. An entry the
    sync has not scored yet is scored now (not stored), unless
    ``score_missing`` is False: then its ``best_score`` stays None and no
    incoming record is read, which keeps a list of 10,000 quick."""
    query = _ITEMS
    if status != "all":
        query = query.where(IntakeEntry.status.in_((status,) if status else OPEN_INTAKE))
    if reason:
        query = query.where(IntakeEntry.reason == reason)
    items = [IntakeItem(**row) for row in session.execute(query).mappings()]
    if year:
        wanted = year_number(year)
        items = [i for i in items if year_number(i.year_group) == wanted]
    if name:
        words = key_of(name).split()
        items = [i for i in items if all(w in key_of(i.name) for w in words)]
    unscored = [i.id for i in items if i.best_score is None]
    if not (score_missing and unscored):
        return items
    scores = _live_scores(session, unscored, index or load_index(session), today)
    return [replace(i, best_score=scores[i.id]) if i.id in scores else i for i in items]


def show_entry(session: Session, entry_id: int, *, index: SuggestionIndex | None = None,
               today: date | None = None, limit: int = SHOWN) -> IntakeDetail:
    entry = _entry(session, entry_id)
    person = _person(entry)
    suggestions = (index or load_index(session)).suggest(person, today, limit)
    (item,) = [IntakeItem(**row) for row in session.execute(_ITEMS.where(IntakeEntry.id == entry_id)).mappings()]
    return IntakeDetail(item, person, suggestions)


def recent_decisions(session: Session, limit: int = DECISIONS_SHOWN) -> list[DecisionLine]:
    """The latest Intake decisions, newest first, the undone ones included:
    their ids are what ``undo_decision_by_id`` takes."""
    query = select(*_columns(IntakeDecision, DecisionLine)).order_by(IntakeDecision.id.desc()).limit(limit)
    return [DecisionLine(**row) for row in session.execute(query).mappings()]


def search_borrowers(session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[BorrowerHit]:
    """Borrowers by barcode (exact, or its start) or by name (every word the
    start of one of their names), for when the right one is not suggested."""
    wanted = text.strip()
    words = key_of(wanted).split()
    if not words:
        return []
    hits = []
    for row in session.execute(select(*BORROWER_COLUMNS)).mappings():
        barcode = str(row["barcode"])
        names = {part for n in (row["forename"], row["surname"], row["preferred_forename"],
                                row["preferred_surname"], row["legal_forename"], row["legal_surname"]) if n
                 for part in key_of(n).split()}
        by_barcode = barcode.casefold().startswith(wanted.casefold())
        if by_barcode or all(any(n.startswith(w) for n in names) for w in words):
            rank = 0 if barcode.casefold() == wanted.casefold() else 1 if by_barcode else 2
            hits.append((rank, key_of(row["surname"]), key_of(row["forename"]), barcode, row))
    hits.sort(key=lambda hit: hit[:4])
    return [_hit(row) for *_, row in hits[:limit]]


# --- deciding ----------------------------------------------------------------

def match_entry(session: Session, config: Config, entry_id: int, barcode: str, *, actor: str,
                now: datetime | None = None, force: bool = False, index: SuggestionIndex | None = None,
                today: date | None = None) -> Decision:
    """Link the MIS person to this borrower and bring the borrower up to date,
    as the sync would (a recycled borrower is restored). Refused if the
    borrower is linked to someone else or the person to another borrower;
    without ``force``, also when the borrower looks like a different person
    (``_match_doubt``). ``index`` (the library as ``load_index`` reads it)
    saves indexing the library again."""
    now = now or utcnow()
    entry = _open_entry(session, entry_id, "matched")
    person = _person(entry)
    row = _borrower(session, barcode)
    if linked_elsewhere(row, person):
        raise IntakeError(f"borrower {barcode} is linked to another MIS person ({link_label(row)}); "
                          f"{_entry_label(entry)} cannot be matched to it")
    _refuse_second_link(session, person, entry, allowed=row["id"])
    doubts = _match_doubt(session, entry, person, row, index, today)
    if doubts and not force:
        raise NeedsForce(f"{_entry_label(entry)} was not matched: {doubts[0].reason}; "
                          "match with force if you are sure it is them")
    recorder = ChangeRecorder(session)
    recorder.touch("borrowers", row["id"])
    recorder.touch("intake", entry.id)
    events = EventLog(None, actor, now)
    apply_updates(session, [_borrower_update(row, person, config)], events, now)
    events.add("linked", borrower_id=row["id"], intake_id=entry.id, field="matched_by", new="intake")
    _close(session, [(entry, row["id"])], "matched", events, actor, now)
    _record_forced(events, "match", doubts)
    events.flush(session)
    summary = f"matched {_entry_label(entry)} to borrower {barcode}" + _differences_note(person, row) \
        + _forced_note(doubts)
    return _saved(recorder.save("match", summary, actor, now), [entry.id], [barcode])


def mark_new(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """Confirm that this person is not yet a borrower (transfer creates them)."""
    entry = _entry(session, entry_id)
    if entry.status != "pending":
        raise IntakeError(f"{_entry_label(entry)} is {entry.status}, not pending")
    return _set_status(session, entry, "new", "new", f"confirmed {_entry_label(entry)} as new", actor, now)


def reject_entry(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """This person is not to be imported; the sync skips them from now on."""
    entry = _open_entry(session, entry_id, "rejected")
    return _set_status(session, entry, "rejected", "reject", f"rejected {_entry_label(entry)}", actor, now)


def unreject_entry(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    entry = _entry(session, entry_id)
    if entry.status != "rejected":
        raise IntakeError(f"{_entry_label(entry)} is {entry.status}, not rejected")
    return _set_status(session, entry, "pending", "unreject", f"unrejected {_entry_label(entry)}", actor, now)


def transfer_entries(session: Session, config: Config, entry_ids: Sequence[int] = (), *, all_new: bool = False,
                     force: bool = False, actor: str, now: datetime | None = None,
                     today: date | None = None) -> Decision:
    """Create a borrower for each entry, with a barcode from the configured
    scheme. Refused as a whole (nothing is created) if any entry is not open,
    its person is already linked to a borrower, its barcode would clash, or,
    without ``force``, its best suggestion is a probable duplicate."""
    now = now or utcnow()
    entries = _transferable(session, entry_ids, all_new)
    people = [_person(e) for e in entries]
    for entry, person in zip(entries, people):
        _refuse_second_link(session, person, entry)
    doubts = _probable_duplicates(session, entries, people, today)
    if doubts and not force:
        raise NeedsForce("nothing transferred: " + "; ".join(d.reason for d in doubts)
                          + ". Match them instead, or transfer with force if they really are new")
    allocator = BarcodeAllocator(config.barcodes, set(session.execute(select(Borrower.barcode)).scalars()))
    try:
        barcodes = [allocator.allocate(mis_id=p.mis_id, admission_no=p.admission_no, label=_entry_label(e))
                    for e, p in zip(entries, people)]
    except BarcodeError as exc:
        raise IntakeError(f"nothing transferred: {exc}") from None
    recorder = ChangeRecorder(session)
    for entry in entries:
        recorder.touch("intake", entry.id)
    bare = [{"barcode": barcode, "borrower_type": p.person_type.value, "forename": p.preferred_forename or "",
             "surname": p.preferred_surname or "", "status": "active", "created_at": now, "updated_at": now}
            for barcode, p in zip(barcodes, people)]
    session.execute(insert(Borrower), bare)
    rows = {r["barcode"]: r for r in session.execute(
        select(*BORROWER_COLUMNS).where(Borrower.barcode.in_(barcodes))).mappings()}
    events = EventLog(None, actor, now)
    for entry, barcode in zip(entries, barcodes):
        recorder.created("borrowers", rows[barcode]["id"])
        events.add("created", borrower_id=rows[barcode]["id"], intake_id=entry.id, field="barcode", new=barcode)
    apply_updates(session, [_borrower_update(dict(rows[b]), p, config) for b, p in zip(barcodes, people)],
                   events, now)
    _close(session, [(e, rows[b]["id"]) for e, b in zip(entries, barcodes)], "transferred", events, actor, now)
    _record_forced(events, "transfer", doubts)
    events.flush(session)
    summary = (f"transferred {_entry_label(entries[0])} as borrower {barcodes[0]}" if len(entries) == 1
               else f"transferred {len(entries)} Intake entries as borrowers {barcodes[0]}…{barcodes[-1]}")
    summary += _forced_note(doubts)
    return _saved(recorder.save("transfer", summary, actor, now), [e.id for e in entries], barcodes)


def undo_last(session: Session, *, actor: str, now: datetime | None = None) -> Decision:
    """Revert the last Intake decision not yet undone, exactly; refused if
    anything has changed what it wrote since."""
    decision = session.execute(select(IntakeDecision).where(IntakeDecision.undone_at.is_(None))
                               .order_by(IntakeDecision.id.desc()).limit(1)).scalar()
    if decision is None:
        raise IntakeError("there is no Intake decision to undo")
    return _undo(session, decision, actor, now)


def undo_decision_by_id(session: Session, decision_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """Revert one Intake decision, the last or an older one (``recent_decisions``
    lists their ids): a decision that cannot be undone no longer stands in
    the way of the ones before it. Refused, as ``undo_last`` is, if anything
    (a later decision included) has changed what it wrote since."""
    decision = session.get(IntakeDecision, decision_id, populate_existing=True)
    if decision is None:
        raise IntakeError(f"there is no Intake decision {decision_id}")
    if decision.undone_at is not None:
        raise IntakeError(f"decision {decision_id} (\"{decision.summary}\") was already undone, "
                          f"on {decision.undone_at:%Y-%m-%d %H:%M} by {decision.undone_by}")
    return _undo(session, decision, actor, now)


def _undo(session: Session, decision: IntakeDecision, actor: str, now: datetime | None) -> Decision:
    now = now or utcnow()
    try:
        reverted = undo_decision(session, decision, now)
    except UndoRefused as exc:
        raise IntakeError(f"cannot undo \"{decision.summary}\": " + "; ".join(exc.problems)) from None
    events = EventLog(None, actor, now)
    entry_ids = sorted({r.row_id for r in reverted if r.table == "intake"})
    for item in reverted:
        target = {"intake_id": item.row_id} if item.table == "intake" else \
            {"borrower_id": item.row_id if item.column != "deleted" else None}
        events.add("undone", field=item.column if item.column != "deleted" else "barcode",
                   old=_shown(item.column, item.was), new=_shown(item.column, item.now), **target)
    for entry_id in entry_ids:
        events.add("intake_undone", intake_id=entry_id, field="decision", old=decision.action, new=decision.summary)
    events.flush(session)
    decision.undone_at, decision.undone_by = now, actor[:ACTOR_WIDTH]
    session.flush()
    return Decision(decision.id, "undo", f"undid: {decision.summary}", tuple(entry_ids), ())


# --- for the sync --------------------------------------------------------------

def refresh_best_scores(session: Session, *, since: datetime | None = None, today: date | None = None,
                        limit: int | None = None, index: SuggestionIndex | None = None) -> int:
    """Store open Intake entries' best suggestion scores: those added or
    refreshed at or after ``since`` (a sync run's time), or, without ``since``,
    every one not scored yet; at most ``limit`` of them, oldest first, if
    given (the rest keep no score until a later call, and ``list_entries``
    scores them as it shows them). A sync that changed nothing scores nothing.
    No events: the score is derived, not a change to anybody's data.
    ``index`` (from ``load_index``) saves indexing the library again.
    Returns how many entries were scored."""
    # MariaDB keeps whole seconds: a row written at `since` may read back earlier.
    condition = (IntakeEntry.best_score.is_(None) if since is None
                 else IntakeEntry.updated_at >= since.replace(microsecond=0))
    entries = session.execute(select(IntakeEntry.id, IntakeEntry.record, IntakeEntry.best_score)
                              .where(IntakeEntry.status.in_(OPEN_INTAKE), condition)
                              .order_by(IntakeEntry.id).limit(limit)).all()
    if not entries:
        return 0
    index = index or load_index(session)
    rows = []
    for entry in entries:
        score = _best_score(index, entry.record, today)
        if score != entry.best_score:
            rows.append({"id": entry.id, "best_score": score})
    bulk_update(session, IntakeEntry, rows)
    return len(entries)


# --- helpers -------------------------------------------------------------------

def _entry(session: Session, entry_id: int) -> IntakeEntry:
    entry = session.get(IntakeEntry, entry_id, populate_existing=True)
    if entry is None:
        raise IntakeError(f"there is no Intake entry {entry_id}")
    return entry


def _open_entry(session: Session, entry_id: int, becoming: str) -> IntakeEntry:
    entry = _entry(session, entry_id)
    if entry.status not in OPEN_INTAKE:
        extra = "; unreject it first" if entry.status == "rejected" else ""
        raise IntakeError(f"{_entry_label(entry)} is already {entry.status}, so it cannot be {becoming}{extra}")
    return entry


def _entry_label(entry: IntakeEntry) -> str:
    return f"Intake {entry.id} ({entry.forename} {entry.surname})"


def _person(entry: IntakeEntry) -> Person:
    return person_from_record(json.loads(entry.record))


def _borrower(session: Session, barcode: str) -> dict:
    row = session.execute(select(*BORROWER_COLUMNS).where(Borrower.barcode == barcode)).mappings().first()
    if row is None:
        raise IntakeError(f"there is no borrower with barcode {barcode}")
    return dict(row)


def _refuse_second_link(session: Session, person: Person, entry: IntakeEntry, allowed: int | None = None):
    """One library record per MIS person: refuse a second. Any of the
    person's ids counts (MIS id, IdaasId, ExternalId), exactly as the sync's
    link tier finds them: two borrowers carrying them would send the person
    back to Intake on the next sync, as conflicting ids."""
    ids = [and_(Borrower.mis_person_type == person.person_type.value, Borrower.mis_id == person.mis_id)]
    ids += [func.lower(column) == value.casefold() for column, value in
            ((Borrower.idaas_id, person.idaas_id), (Borrower.external_id, person.external_id)) if value]
    rows = session.execute(select(*BORROWER_COLUMNS).where(or_(*ids), Borrower.id != (allowed or -1))).mappings()
    index = LibraryIndex(rows)
    linked = sorted(index.rows[b]["barcode"] for b in index.linked(person))
    if linked:
        raise IntakeError(f"{_entry_label(entry)} is already linked to borrower {', '.join(linked)}")


def _transferable(session: Session, entry_ids: Sequence[int], all_new: bool) -> list[IntakeEntry]:
    if all_new:
        entries = session.execute(select(IntakeEntry).where(IntakeEntry.status == "new")
                                  .order_by(IntakeEntry.id)).scalars().all()
        if not entries:
            raise IntakeError("no Intake entries are confirmed as new (use `intake new ID` first)")
        return list(entries)
    if not entry_ids:
        raise IntakeError("name the Intake entries to transfer, or transfer all confirmed-new ones")
    return [_open_entry(session, entry_id, "transferred") for entry_id in dict.fromkeys(entry_ids)]


def _probable_duplicates(session: Session, entries: list[IntakeEntry], people: list[Person],
                         today: date | None) -> list[Doubt]:
    """The entries whose best suggestion says they are already borrowers."""
    index = load_index(session)
    doubts = []
    for entry, person in zip(entries, people):
        best = index.suggest(person, today, limit=1).best
        if best is not None and best.probable_duplicate:
            doubts.append(Doubt(entry.id, best.borrower_id, best.barcode,
                                f"{_entry_label(entry)} looks like borrower {best.barcode} ({best.name}, "
                                f"score {best.score})"))
    return doubts


def _match_doubt(session: Session, entry: IntakeEntry, person: Person, row: Mapping,
                 index: SuggestionIndex | None, today: date | None) -> list[Doubt]:
    """Why this borrower may not be this person, if it may not
    (``match_doubt``): a twin's record, or someone else's. Every other
    Intake entry, open or decided, is a person it may belong to."""
    born = _born_on(session, entry, {person.date_of_birth, row["date_of_birth"]} - {None})
    doubt = match_doubt(index or load_index(session), person, row, born, today)
    return [] if doubt is None else [Doubt(entry.id, row["id"], row["barcode"], doubt.reason)]


def _born_on(session: Session, entry: IntakeEntry, birthdays: set[date]) -> list[Person]:
    """The people of the other Intake entries born on one of these days (the
    person's and the borrower's birthdays: whoever shares either may be the
    one the borrower belongs to)."""
    if not birthdays:
        return []
    records = session.execute(select(IntakeEntry.record).where(
        IntakeEntry.date_of_birth.in_(birthdays), IntakeEntry.id != entry.id)).scalars()
    return [person_from_record(json.loads(record)) for record in records]


def _differences_note(person: Person, row: Mapping) -> str:
    """A match's summary says how the borrower's names and date of birth
    differ from the person's (``match_notes``)."""
    notes = match_notes(person, row)
    return f" ({'; '.join(notes)})" if notes else ""


def _record_forced(events: EventLog, action: str, doubts: list[Doubt]) -> None:
    """A forced decision names, in the log, each borrower it was forced past."""
    for doubt in doubts:
        events.add("intake_forced", intake_id=doubt.entry_id, borrower_id=doubt.borrower_id, field=action,
                   new=doubt.reason)


def _forced_note(doubts: list[Doubt]) -> str:
    if not doubts:
        return ""
    return f" (forced past borrower{'s' if len(doubts) > 1 else ''} {', '.join(d.barcode for d in doubts)})"


def _borrower_update(row: Mapping, person: Person, config: Config) -> BorrowerUpdate:
    """The sync's update for a borrower matched by hand."""
    return matched_update(person, dict(row), None, match_changes(person, dict(row), config.data))


def _close(session: Session, decided: Iterable[tuple[IntakeEntry, int]], status: str, events: EventLog,
           actor: str, now: datetime) -> None:
    rows = []
    for entry, borrower_id in decided:
        rows.append({"id": entry.id, "status": status, "borrower_id": borrower_id, "decided_at": now,
                     "decided_by": actor[:ACTOR_WIDTH], "updated_at": now})
        events.add(f"intake_{status}", intake_id=entry.id, borrower_id=borrower_id, field="status",
                   old=entry.status, new=status)
    bulk_update(session, IntakeEntry, rows)


def _set_status(session: Session, entry: IntakeEntry, status: str, action: str, summary: str, actor: str,
                now: datetime | None) -> Decision:
    now = now or utcnow()
    recorder = ChangeRecorder(session)
    recorder.touch("intake", entry.id)
    events = EventLog(None, actor, now)
    decided = status != "pending"
    bulk_update(session, IntakeEntry, [{"id": entry.id, "status": status, "updated_at": now,
                                        "decided_at": now if decided else None,
                                        "decided_by": actor[:ACTOR_WIDTH] if decided else None}])
    events.add(f"intake_{action}", intake_id=entry.id, field="status", old=entry.status, new=status)
    events.flush(session)
    return _saved(recorder.save(action, summary, actor, now), [entry.id], [])


def _saved(decision: IntakeDecision, entry_ids: list[int], barcodes: list[str]) -> Decision:
    return Decision(decision.id, decision.action, decision.summary, tuple(entry_ids), tuple(barcodes))


def _columns(model, shape, **instead) -> list:
    """The model's columns named like the dataclass ``shape``'s fields, or
    what ``instead`` gives for a name the model lacks."""
    return [instead[f.name] if f.name in instead else getattr(model, f.name) for f in fields(shape)]


# An IntakeItem as one row: the entry's own columns and its borrower's barcode,
# never the (large) incoming record.
_ITEMS = (select(*_columns(IntakeEntry, IntakeItem, borrower_barcode=Borrower.barcode.label("borrower_barcode")))
          .outerjoin(Borrower, Borrower.id == IntakeEntry.borrower_id).order_by(IntakeEntry.id))


def _live_scores(session: Session, entry_ids: list[int], index: SuggestionIndex,
                 today: date | None) -> dict[int, int]:
    """Best suggestion scores worked out now for these entries, not stored."""
    scores = {}
    for start in range(0, len(entry_ids), IDS_PER_QUERY):
        chunk = entry_ids[start:start + IDS_PER_QUERY]
        for entry_id, record in session.execute(select(IntakeEntry.id, IntakeEntry.record)
                                                .where(IntakeEntry.id.in_(chunk))):
            scores[entry_id] = _best_score(index, record, today)
    return scores


def _best_score(index: SuggestionIndex, record: str, today: date | None) -> int:
    return index.suggest(person_from_record(json.loads(record)), today, limit=1).best_score


def _hit(row: Mapping) -> BorrowerHit:
    linked = link_label(row) if row["mis_id"] or row["idaas_id"] or row["external_id"] else None
    return BorrowerHit(row["id"], row["barcode"], f"{row['forename']} {row['surname']}", row["date_of_birth"],
                       row["year_group"], row["tutor_group"], row["status"], linked)


def _shown(column: str, value: object) -> object:
    """An undo event's value: attachments are described, never copied."""
    if value is None or value == REMOVED or column not in (PHOTO, GUARDIANS):
        return value
    return "(photo)" if column == PHOTO else "(guardians)"
