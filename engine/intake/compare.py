"""Comparing an Intake entry with each borrower suggested for it, field by
field, for the TUI's side-by-side view (``compare_suggestions``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.evidence import AGREE, DISAGREE, MISSING, PARTIAL, FieldEvidence, key_of
from engine.intake.queue import IntakeDetail, show_entry
from engine.library import BORROWER_COLUMNS
from engine.models import Borrower
from engine.person import Person
from engine.suggest import SHOWN, Suggestion, SuggestionIndex
from engine.text import year_number


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
