"""Intake decisions: match, new, transfer, reject and unreject.

``make_decision`` is the one place an action (``DecisionAction``) names its
operation; ``decide`` makes one only on entries exactly as the TUI showed them.
Each operation refuses with ``IntakeError`` (``NeedsForce`` where only a
person's confirmation is missing) before anything is written, and records a
decision three ways: the entry's status and ``decided_by``/``decided_at``;
``SyncEvent`` rows (who, when, what); and an ``IntakeDecision`` holding
exactly what changed (``engine.decisions.ChangeRecorder``), which
``engine.intake.undo`` puts back. A forced decision says so in its summary
and in an ``intake_forced`` event naming the borrower it was forced past.
Borrowers are written with the sync's own field logic (``match_changes``,
``matched_update``) through ``engine.apply``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from engine.apply import EventLog, apply_updates, bulk_update
from engine.barcodes import BarcodeAllocator, BarcodeError, did_you_mean
from engine.config import Config
from engine.decisions import ChangeRecorder
from engine.errors import NextStep
from engine.intake.queue import (
    ALL,
    IntakeError,
    IntakeItem,
    borrower_by_barcode,
    entry_label,
    entry_person,
    get_entry,
    id_chunks,
    list_entries,
    load_index,
    stored_person,
)
from engine.library import BORROWER_COLUMNS
from engine.matching import LINK_COLUMNS, LibraryIndex, link_gone, linked_elsewhere
from engine.models import Borrower, IntakeDecision, IntakeEntry, utcnow
from engine.person import Person
from engine.plan import BorrowerUpdate, Change, match_changes, matched_update
from engine.rekey import link_moves
from engine.statuses import DECIDABLE, OPEN_INTAKE, BorrowerStatus, DecisionAction, IntakeStatus
from engine.suggest import SuggestionIndex, link_label, match_doubt, match_notes
from engine.users import ACTOR_WIDTH


class NeedsForce(IntakeError):
    """Refused only because the decision looks like a mistake (a twin, a
    stranger, a probable duplicate): a person may confirm it and force it."""


class EntryChanged(IntakeError):
    """An entry changed after the screen showed it: nothing was decided."""


@dataclass(frozen=True)
class Decision:
    id: int
    action: DecisionAction
    summary: str
    entry_ids: tuple[int, ...]
    barcodes: tuple[str, ...]


@dataclass(frozen=True)
class Doubt:
    """Why a decision needs force: the borrower it is about and what is wrong."""
    entry_id: int
    borrower_id: int
    barcode: str
    reason: str


# --- one decision, by its action -------------------------------------------------

@dataclass(frozen=True)
class _Asked:
    actor: str
    barcode: str | None
    force: bool
    all_new: bool
    now: datetime | None
    today: date | None


_OPERATIONS: dict[DecisionAction, Callable[[Session, Config, Sequence[int], _Asked], Decision]] = {
    DecisionAction.MATCH: lambda session, config, ids, asked: match_entry(
        session, config, _one(ids), _barcode(asked), actor=asked.actor, now=asked.now, force=asked.force,
        today=asked.today),
    DecisionAction.NEW: lambda session, config, ids, asked: mark_new(
        session, _one(ids), actor=asked.actor, now=asked.now),
    DecisionAction.TRANSFER: lambda session, config, ids, asked: transfer_entries(
        session, config, ids, all_new=asked.all_new, force=asked.force, actor=asked.actor, now=asked.now,
        today=asked.today),
    DecisionAction.REJECT: lambda session, config, ids, asked: reject_entry(
        session, _one(ids), actor=asked.actor, now=asked.now),
    DecisionAction.UNREJECT: lambda session, config, ids, asked: unreject_entry(
        session, _one(ids), actor=asked.actor, now=asked.now),
}


def make_decision(session: Session, config: Config, action: str, entry_ids: Sequence[int] = (), *, actor: str,
                  barcode: str | None = None, force: bool = False, all_new: bool = False,
                  now: datetime | None = None, today: date | None = None) -> Decision:
    """Make the decision ``action`` names (a ``DecisionAction`` or its
    value): match (one entry, to ``barcode``), new, reject, unreject (one
    entry), transfer (these entries, or ``all_new``). Undo is
    ``engine.intake.undo``'s."""
    operation = _OPERATIONS.get(action)
    if operation is None:
        raise IntakeError(f"{action!r} is not an Intake decision")
    return operation(session, config, list(entry_ids), _Asked(actor, barcode, force, all_new, now, today))


def decide(session: Session, config: Config, action: str, shown: Sequence[IntakeItem], *, actor: str,
           barcode: str | None = None, force: bool = False) -> Decision:
    """``make_decision`` on the entries the screen showed (transfer: every
    one; the rest: one), only if none of them changed since it showed them."""
    check_unchanged(session, shown)
    return make_decision(session, config, action, [e.id for e in shown], actor=actor, barcode=barcode,
                         force=force)


def check_unchanged(session: Session, shown: Sequence[IntakeItem]) -> None:
    """Refuse if any entry is no longer as it was shown: its last change
    moved on, or (on a database that keeps whole seconds, where a change can
    land in the second the entry was read) anything the queue shows differs.
    Its best score is derived and does not count. The rows stay locked until
    the caller's transaction ends, where the database can lock them, so a sync
    cannot slip in between the check and the decision."""
    ids = [entry.id for entry in shown]
    for chunk in id_chunks(ids):
        session.execute(select(IntakeEntry.id).where(IntakeEntry.id.in_(chunk)).with_for_update()).all()
    current = {e.id: e for e in list_entries(session, status=ALL, ids=ids, score_missing=False)}
    changed = [f"Intake {e.id} ({e.name})" for e in shown if _as_shown(current.get(e.id)) != _as_shown(e)]
    if changed:
        raise EntryChanged(f"{', '.join(changed)} changed after it was shown (a sync has run since); nothing was "
                           "decided. Look at it again, as it is now, before deciding")


# --- the operations -------------------------------------------------------------------

def match_entry(session: Session, config: Config, entry_id: int, barcode: str, *, actor: str,
                now: datetime | None = None, force: bool = False, index: SuggestionIndex | None = None,
                today: date | None = None) -> Decision:
    """Link the MIS person to this borrower and bring the borrower up to date,
    as the sync would (a recycled borrower is restored). The barcode finds the
    same borrower on every database, whatever its case or accents (as
    MariaDB's lookup would). Refused if the borrower is linked to someone
    else, unless that someone has gone from the MIS (``link_gone``): then the
    link moves to this person (a ``relinked`` event names both), or if the
    person is linked to another borrower; without ``force``, also when the
    borrower looks like a different person (``_match_doubt``). ``index`` (the
    library as ``load_index`` reads it) saves indexing the library again."""
    now = now or utcnow()
    entry = _decidable(session, entry_id, DecisionAction.MATCH)
    person = entry_person(entry)
    row = _borrower(session, barcode)
    barcode = row["barcode"]
    moved_from = link_label(row) if linked_elsewhere(row, person) else None
    if moved_from and not link_gone(row):
        raise IntakeError(f"borrower {barcode} is linked to another MIS person ({moved_from}); "
                          f"{entry_label(entry)} cannot be matched to it unless that link is wrong and you "
                          "unlink the borrower first", next_step=NextStep.UNLINK, subject=barcode)
    _refuse_second_link(session, person, entry, allowed=row["id"])
    doubts = _match_doubt(session, entry, person, row, index, today)
    if doubts and not force:
        raise NeedsForce(f"{entry_label(entry)} was not matched: {doubts[0].reason}; "
                         "match with force if you are sure it is them")
    recorder = ChangeRecorder(session)
    recorder.touch("borrowers", row["id"])
    recorder.touch("intake", entry.id)
    events = EventLog(None, actor, now)
    apply_updates(session, [_borrower_update(row, person, config)], events, now)
    events.add("linked", borrower_id=row["id"], intake_id=entry.id, field="matched_by", new="intake")
    if moved_from:
        events.add("relinked", borrower_id=row["id"], intake_id=entry.id, field="mis_id", old=moved_from,
                   new=f"{person.person_type} {person.mis_id}")
    _close(session, [(entry, row["id"])], IntakeStatus.MATCHED, events, actor, now)
    _record_forced(events, DecisionAction.MATCH, doubts)
    events.flush(session)
    summary = f"matched {entry_label(entry)} to borrower {barcode}" + _differences_note(person, row) \
        + (f", moving its link from {moved_from}, who is no longer in the MIS" if moved_from else "") \
        + _forced_note(doubts)
    return _saved(recorder.save(DecisionAction.MATCH, summary, actor, now), [entry.id], [barcode])


def mark_new(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """Confirm that this person is not yet a borrower (transfer creates them)."""
    entry = _decidable(session, entry_id, DecisionAction.NEW)
    return _set_status(session, entry, IntakeStatus.NEW, DecisionAction.NEW,
                       f"confirmed {entry_label(entry)} as new", actor, now)


def reject_entry(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """This person is not to be imported; the sync skips them from now on."""
    entry = _decidable(session, entry_id, DecisionAction.REJECT)
    return _set_status(session, entry, IntakeStatus.REJECTED, DecisionAction.REJECT,
                       f"rejected {entry_label(entry)}", actor, now)


def unreject_entry(session: Session, entry_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    entry = _decidable(session, entry_id, DecisionAction.UNREJECT)
    return _set_status(session, entry, IntakeStatus.PENDING, DecisionAction.UNREJECT,
                       f"unrejected {entry_label(entry)}", actor, now)


def transfer_entries(session: Session, config: Config, entry_ids: Sequence[int] = (), *, all_new: bool = False,
                     force: bool = False, actor: str, now: datetime | None = None,
                     today: date | None = None) -> Decision:
    """Create a borrower for each entry, with a barcode from the configured
    scheme. Refused as a whole (nothing is created) if any entry is not open,
    its person is already linked to a borrower, its barcode would clash, or,
    without ``force``, its best suggestion is a probable duplicate."""
    now = now or utcnow()
    entries = _transferable(session, entry_ids, all_new)
    people = [entry_person(e) for e in entries]
    for entry, person in zip(entries, people):
        _refuse_second_link(session, person, entry)
    doubts = _probable_duplicates(session, entries, people, today)
    if doubts and not force:
        raise NeedsForce("nothing transferred: " + "; ".join(d.reason for d in doubts)
                         + ". Match them instead, or transfer with force if they really are new")
    allocator = BarcodeAllocator(config.barcodes, set(session.execute(select(Borrower.barcode)).scalars()))
    try:
        barcodes = [allocator.allocate(mis_id=p.mis_id, admission_no=p.admission_no, label=entry_label(e))
                    for e, p in zip(entries, people)]
    except BarcodeError as exc:
        raise IntakeError(f"nothing transferred: {exc}") from None
    recorder = ChangeRecorder(session)
    for entry in entries:
        recorder.touch("intake", entry.id)
    bare = [{"barcode": barcode, "borrower_type": p.person_type.value, "forename": p.preferred_forename or "",
             "surname": p.preferred_surname or "", "status": BorrowerStatus.ACTIVE, "created_at": now,
             "updated_at": now}
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
    _close(session, [(e, rows[b]["id"]) for e, b in zip(entries, barcodes)], IntakeStatus.TRANSFERRED, events,
           actor, now)
    _record_forced(events, DecisionAction.TRANSFER, doubts)
    events.flush(session)
    summary = (f"transferred {entry_label(entries[0])} as borrower {barcodes[0]}" if len(entries) == 1
               else f"transferred {len(entries)} Intake entries as borrowers {barcodes[0]}…{barcodes[-1]}")
    summary += _forced_note(doubts)
    return _saved(recorder.save(DecisionAction.TRANSFER, summary, actor, now), [e.id for e in entries], barcodes)


# --- helpers -------------------------------------------------------------------

def _one(entry_ids: Sequence[int]) -> int:
    if len(entry_ids) != 1:
        raise IntakeError(f"this decision is about one Intake entry, not {len(entry_ids)}")
    return entry_ids[0]


def _barcode(asked: _Asked) -> str:
    if not asked.barcode:
        raise IntakeError("name the borrower to match to, by barcode")
    return asked.barcode


# What an open entry becomes, for a refusal's wording.
_BECOMING = {DecisionAction.MATCH: "matched", DecisionAction.TRANSFER: "transferred",
             DecisionAction.REJECT: "rejected"}


def _decidable(session: Session, entry_id: int, action: DecisionAction) -> IntakeEntry:
    """The entry, if its status lets this decision be made (``DECIDABLE``)."""
    entry = get_entry(session, entry_id)
    allowed = DECIDABLE[action]
    if entry.status in allowed:
        return entry
    if action == DecisionAction.NEW and entry.status == IntakeStatus.NEW:
        raise IntakeError(f"{entry_label(entry)} is confirmed as new already; a transfer makes the borrower",
                          next_step=NextStep.TRANSFER, subject=entry.id)
    if allowed != OPEN_INTAKE:
        raise IntakeError(f"{entry_label(entry)} is {entry.status}, not {' or '.join(allowed)}")
    rejected = entry.status == IntakeStatus.REJECTED
    decided = entry.status in (IntakeStatus.MATCHED, IntakeStatus.TRANSFERRED)
    extra = "; unreject it first" if rejected else "; undo that decision first" if decided else ""
    raise IntakeError(f"{entry_label(entry)} is already {entry.status}, so it cannot be {_BECOMING[action]}{extra}",
                      next_step=NextStep.UNREJECT if rejected else NextStep.UNDO_DECISION if decided else None,
                      subject=entry.id)


def _borrower(session: Session, barcode: str) -> dict:
    """The borrower with this barcode, as typed in any case or accent form
    (``stored_barcode``), so every database finds the same one."""
    row = borrower_by_barcode(session, barcode)
    if row is None:
        raise IntakeError(f"there is no borrower with barcode {barcode}"
                          + did_you_mean(barcode, session.scalars(select(Borrower.barcode))))
    return row


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
        one = len(linked) == 1
        raise IntakeError(f"{entry_label(entry)} is already linked to borrower {', '.join(linked)}"
                          + ("; if that link is wrong, unlink the borrower first" if one else ""),
                          next_step=NextStep.UNLINK if one else None, subject=linked[0])


def _transferable(session: Session, entry_ids: Sequence[int], all_new: bool) -> list[IntakeEntry]:
    if all_new:
        entries = session.execute(select(IntakeEntry).where(IntakeEntry.status == IntakeStatus.NEW)
                                  .order_by(IntakeEntry.id)).scalars().all()
        if not entries:
            raise IntakeError("no Intake entries are confirmed as new: confirm one as new first",
                              next_step=NextStep.CONFIRM_NEW)
        return list(entries)
    if not entry_ids:
        raise IntakeError("name the Intake entries to transfer, or transfer all confirmed-new ones")
    return [_decidable(session, entry_id, DecisionAction.TRANSFER) for entry_id in dict.fromkeys(entry_ids)]


def _probable_duplicates(session: Session, entries: list[IntakeEntry], people: list[Person],
                         today: date | None) -> list[Doubt]:
    """The entries whose best suggestion says they are already borrowers."""
    index = load_index(session)
    doubts = []
    for entry, person in zip(entries, people):
        best = index.suggest(person, today, limit=1).best
        if best is not None and best.probable_duplicate:
            doubts.append(Doubt(entry.id, best.borrower_id, best.barcode,
                                f"{entry_label(entry)} looks like borrower {best.barcode} ({best.name}, "
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
    one the borrower belongs to). A record that cannot be read names no one."""
    if not birthdays:
        return []
    records = session.execute(select(IntakeEntry.record).where(
        IntakeEntry.date_of_birth.in_(birthdays), IntakeEntry.id != entry.id)).scalars()
    return [person for person in map(stored_person, records) if person is not None]


def _differences_note(person: Person, row: Mapping) -> str:
    """A match's summary says how the borrower's names and date of birth
    differ from the person's (``match_notes``)."""
    notes = match_notes(person, row)
    return f" ({'; '.join(notes)})" if notes else ""


def _record_forced(events: EventLog, action: DecisionAction, doubts: list[Doubt]) -> None:
    """A forced decision names, in the log, each borrower it was forced past."""
    for doubt in doubts:
        events.add("intake_forced", intake_id=doubt.entry_id, borrower_id=doubt.borrower_id, field=action,
                   new=doubt.reason)


def _forced_note(doubts: list[Doubt]) -> str:
    if not doubts:
        return ""
    return f" (forced past borrower{'s' if len(doubts) > 1 else ''} {', '.join(d.barcode for d in doubts)})"


def _borrower_update(row: Mapping, person: Person, config: Config) -> BorrowerUpdate:
    """The sync's update for a borrower matched by hand; its link columns
    become exactly the person's (a link moved from someone gone included)."""
    changes = [c for c in match_changes(person, dict(row), config.data) if c.field not in LINK_COLUMNS]
    changes += [Change(*move) for move in link_moves(row, person)]
    return matched_update(person, dict(row), None, changes)


def _close(session: Session, decided: Iterable[tuple[IntakeEntry, int]], status: IntakeStatus, events: EventLog,
           actor: str, now: datetime) -> None:
    rows = []
    for entry, borrower_id in decided:
        rows.append({"id": entry.id, "status": status, "borrower_id": borrower_id, "decided_at": now,
                     "decided_by": actor[:ACTOR_WIDTH], "updated_at": now})
        events.add(f"intake_{status}", intake_id=entry.id, borrower_id=borrower_id, field="status",
                   old=entry.status, new=status)
    bulk_update(session, IntakeEntry, rows)


def _set_status(session: Session, entry: IntakeEntry, status: IntakeStatus, action: DecisionAction, summary: str,
                actor: str, now: datetime | None) -> Decision:
    now = now or utcnow()
    recorder = ChangeRecorder(session)
    recorder.touch("intake", entry.id)
    events = EventLog(None, actor, now)
    decided = status != IntakeStatus.PENDING
    bulk_update(session, IntakeEntry, [{"id": entry.id, "status": status, "updated_at": now,
                                        "decided_at": now if decided else None,
                                        "decided_by": actor[:ACTOR_WIDTH] if decided else None}])
    events.add(f"intake_{action}", intake_id=entry.id, field="status", old=entry.status, new=status)
    events.flush(session)
    return _saved(recorder.save(action, summary, actor, now), [entry.id], [])


def _saved(decision: IntakeDecision, entry_ids: list[int], barcodes: list[str]) -> Decision:
    return Decision(decision.id, DecisionAction(decision.action), decision.summary, tuple(entry_ids),
                    tuple(barcodes))


def _as_shown(entry: IntakeItem | None) -> IntakeItem | None:
    return replace(entry, best_score=None) if entry else None
