"""Storing open Intake entries' best suggestion scores, after a sync and when
the TUI finds some missing. No events: a score is derived, not a change to
anybody's data."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.apply import bulk_update
from engine.intake.queue import best_score, load_index
from engine.models import IntakeEntry
from engine.statuses import OPEN_INTAKE
from engine.suggest import SuggestionIndex


def refresh_best_scores(session: Session, *, since: datetime | None = None, today: date | None = None,
                        limit: int | None = None, index: SuggestionIndex | None = None) -> int:
    """Store open Intake entries' best suggestion scores: those added or
    refreshed at or after ``since`` (a sync run's time), or, without ``since``,
    every one not scored yet; at most ``limit`` of them, oldest first, if
    given (the rest keep no score until a later call, and ``list_entries``
    scores them as it shows them). A sync that changed nothing scores nothing;
    an entry whose stored record cannot be read keeps no score.
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
    rows, scored = [], 0
    for entry in entries:
        score = best_score(index, entry.record, today)
        if score is None:
            continue
        scored += 1
        if score != entry.best_score:
            rows.append({"id": entry.id, "best_score": score})
    bulk_update(session, IntakeEntry, rows)
    return scored
