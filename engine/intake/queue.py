"""Reading the Intake queue: the one listing (``list_entries``), one entry with
its suggestions (``show_entry``), the past decisions and a borrower search.

Every function takes an open ``Session``, works inside the caller's
transaction and writes nothing. An entry's stored incoming record is read
with ``stored_person``: one that cannot be read (edited by hand, damaged)
leaves the entry listed without a score, and an operation that needs the
person refuses, naming the entry.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Iterable, Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.barcodes import stored_barcode
from engine.errors import NextStep, Refusal
from engine.evidence import key_of
from engine.library import BORROWER_COLUMNS
from engine.models import Borrower, IntakeDecision, IntakeEntry
from engine.person import Person
from engine.records import stored_person
from engine.statuses import OPEN_INTAKE
from engine.suggest import SCANNED, SHOWN, SuggestionIndex, Suggestions, link_label, suggest_one
from engine.text import year_number

SEARCH_LIMIT = 20
DECISIONS_SHOWN = 20
# ``list_entries(status=ALL)``: every entry, decided or not.
ALL = "all"
# Ids per IN (...) list: SQL Server takes at most 2,100 parameters.
IDS_PER_QUERY = 1000


class IntakeError(Refusal):
    """An Intake operation was refused; the message says why."""


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
    # When the entry last changed (a sync refresh, a decision): a decision on
    # what the TUI showed first checks that it is still so (``decide``).
    updated_at: datetime | None = None
    # A pre-admission's first day (the sync clears it once they are on roll).
    start_date: date | None = None

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


@dataclass(frozen=True)
class IntakeDetail:
    item: IntakeItem
    person: Person
    suggestions: Suggestions


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
class BorrowerHit:
    id: int
    barcode: str
    name: str
    date_of_birth: date | None
    year_group: str | None
    tutor_group: str | None
    status: str
    linked_to: str | None


def load_index(session: Session) -> SuggestionIndex:
    """The whole library indexed for suggestions (build once, reuse)."""
    return SuggestionIndex(_borrowers(session))


def list_entries(session: Session, *, status: str | None = None, reason: str | None = None,
                 year: str | None = None, name: str | None = None, ids: Iterable[int] | None = None,
                 index: SuggestionIndex | None = None, today: date | None = None,
                 score_missing: bool = True) -> list[IntakeItem]:
    """Intake entries, oldest first: the open ones (pending, confirmed new)
    unless ``status`` names one ("rejected", "matched"…) or is ``ALL``.
    ``year`` is a year group ("7" or "Year 7"), ``name`` part of a name,
    ``ids`` the only entries wanted. An entry the sync has not scored yet is
    scored now (not stored), unless ``score_missing`` is False: then its
    ``best_score`` stays None and no incoming record is read, which keeps a
    list of 10,000 quick (the TUI's queue)."""
    query = _ITEMS
    if status != ALL:
        query = query.where(IntakeEntry.status.in_((status,) if status else OPEN_INTAKE))
    if reason:
        query = query.where(IntakeEntry.reason == reason)
    if ids is None:
        items = [IntakeItem(**row) for row in session.execute(query).mappings()]
    else:
        items = sorted((IntakeItem(**row) for chunk in id_chunks(ids)
                        for row in session.execute(query.where(IntakeEntry.id.in_(chunk))).mappings()),
                       key=lambda item: item.id)
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
    """One entry, its incoming record and its ranked suggestions. Without an
    ``index``, only the borrowers that could be suggested are indexed
    (``suggest_one``): the same suggestions, in a fraction of the time."""
    person = entry_person(get_entry(session, entry_id))
    if index is None:
        scanned = session.execute(select(*(c for c in BORROWER_COLUMNS if c.name in SCANNED))).mappings()
        suggestions = suggest_one(person, scanned, lambda ids: _borrowers(session, ids), today, limit)
    else:
        suggestions = index.suggest(person, today, limit)
    (item,) = list_entries(session, status=ALL, ids=[entry_id], score_missing=False)
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


# --- for the rest of the package ------------------------------------------------------

def get_entry(session: Session, entry_id: int) -> IntakeEntry:
    entry = session.get(IntakeEntry, entry_id, populate_existing=True)
    if entry is None:
        raise IntakeError(f"there is no Intake entry {entry_id}", next_step=NextStep.LIST_INTAKE)
    return entry


def borrower_by_barcode(session: Session, barcode: str) -> dict | None:
    """The borrower with this barcode (a row of ``BORROWER_COLUMNS``), as
    typed in any case or accent form (``stored_barcode``), so every database
    finds the same one; None if there is none."""
    found = stored_barcode(barcode, session.execute(select(Borrower.barcode)).scalars())
    row = None if found is None else \
        session.execute(select(*BORROWER_COLUMNS).where(Borrower.barcode == found)).mappings().first()
    return None if row is None else dict(row)


def entry_label(entry: IntakeEntry) -> str:
    return f"Intake {entry.id} ({entry.forename} {entry.surname})"


def entry_person(entry: IntakeEntry) -> Person:
    """The entry's person; refused, naming the entry, if its record cannot be read."""
    person = stored_person(entry.record)
    if person is None:
        raise IntakeError(f"{entry_label(entry)}: its stored record cannot be read; the next sync that "
                          "includes this person writes it afresh")
    return person


def best_score(index: SuggestionIndex, record: object, today: date | None) -> int | None:
    """The best suggestion's score for a stored record; None if it cannot be read."""
    person = stored_person(record)
    return None if person is None else index.suggest(person, today, limit=1).best_score


def id_chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """The ids, each once, in lists short enough for one IN (...)."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), IDS_PER_QUERY):
        yield unique[start:start + IDS_PER_QUERY]


# --- helpers -----------------------------------------------------------------------

def _columns(model, shape, **instead) -> list:
    """The model's columns named like the dataclass ``shape``'s fields, or
    what ``instead`` gives for a name the model lacks."""
    return [instead[f.name] if f.name in instead else getattr(model, f.name) for f in fields(shape)]


# An IntakeItem as one row: the entry's own columns and its borrower's barcode,
# never the (large) incoming record.
_ITEMS = (select(*_columns(IntakeEntry, IntakeItem, borrower_barcode=Borrower.barcode.label("borrower_barcode")))
          .outerjoin(Borrower, Borrower.id == IntakeEntry.borrower_id).order_by(IntakeEntry.id))


def _borrowers(session: Session, ids: Iterable[int] | None = None) -> Iterator[dict]:
    """Every borrower, or those with these ids, a row of ``BORROWER_COLUMNS`` each."""
    queries = [select(*BORROWER_COLUMNS)] if ids is None else \
        (select(*BORROWER_COLUMNS).where(Borrower.id.in_(chunk)) for chunk in id_chunks(ids))
    return (dict(row._mapping) for query in queries for row in session.execute(query))


def _live_scores(session: Session, entry_ids: list[int], index: SuggestionIndex,
                 today: date | None) -> dict[int, int]:
    """Best suggestion scores worked out now for these entries, not stored;
    an entry whose record cannot be read stays unscored."""
    scores = {}
    for chunk in id_chunks(entry_ids):
        for entry_id, record in session.execute(select(IntakeEntry.id, IntakeEntry.record)
                                                .where(IntakeEntry.id.in_(chunk))):
            score = best_score(index, record, today)
            if score is not None:
                scores[entry_id] = score
    return scores


def _hit(row: Mapping) -> BorrowerHit:
    linked = link_label(row) if row["mis_id"] or row["idaas_id"] or row["external_id"] else None
    return BorrowerHit(row["id"], row["barcode"], f"{row['forename']} {row['surname']}", row["date_of_birth"],
                       row["year_group"], row["tutor_group"], row["status"], linked)
