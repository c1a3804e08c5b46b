"""The Intake queue: everyone a sync could not place with certainty, waiting
for a person to decide, as the command line and the terminal UI call it.

- ``queue``: the one listing (``list_entries``: filters, ids, scores), one
  entry with its suggestions (``show_entry``), the past decisions, a
  borrower search;
- ``decisions``: match, new, transfer, reject, unreject, dispatched by
  ``DecisionAction`` in ``make_decision``; ``decide`` makes one only on
  entries still as the screen showed them;
- ``undo``: reverting a decision exactly (what it changed is recorded by
  ``engine.decisions``);
- ``compare``: each suggested borrower beside the incoming record;
- ``scores``: storing the best suggestion scores.

Every function takes an open SQLAlchemy ``Session`` (and the ``Config`` where
it needs one), works inside the caller's transaction, prints nothing and
returns plain dataclasses. A refused operation raises ``IntakeError`` with a
reason a librarian can act on, before anything is written. Decisions last: a
matched or transferred person's borrower carries their MIS link, so the next
sync matches them by link; a rejected person is skipped by the sync until
unrejected.
"""
from engine.intake.compare import Candidate, ComparedField, EntryComparison, compare_suggestions, compared_fields
from engine.intake.decisions import (
    Decision,
    Doubt,
    EntryChanged,
    NeedsForce,
    check_unchanged,
    decide,
    make_decision,
    mark_new,
    match_entry,
    reject_entry,
    transfer_entries,
    unreject_entry,
)
from engine.intake.queue import (
    ALL,
    DECISIONS_SHOWN,
    SEARCH_LIMIT,
    BorrowerHit,
    DecisionLine,
    IntakeDetail,
    IntakeError,
    IntakeItem,
    list_entries,
    load_index,
    recent_decisions,
    search_borrowers,
    show_entry,
)
from engine.intake.scores import refresh_best_scores
from engine.intake.undo import undo_decision_by_id, undo_last

__all__ = [
    "ALL", "DECISIONS_SHOWN", "SEARCH_LIMIT", "BorrowerHit", "Candidate", "ComparedField", "Decision",
    "DecisionLine", "Doubt", "EntryChanged", "EntryComparison", "IntakeDetail", "IntakeError", "IntakeItem",
    "NeedsForce", "check_unchanged", "compare_suggestions", "compared_fields", "decide", "list_entries",
    "load_index", "make_decision", "mark_new", "match_entry", "recent_decisions", "refresh_best_scores",
    "reject_entry", "search_borrowers", "show_entry", "transfer_entries", "undo_decision_by_id", "undo_last",
    "unreject_entry",
]
