"""Undoing an Intake decision: the last one (``undo_last``) or any one by id
(``undo_decision_by_id``), exactly, through ``engine.decisions``, which
recorded what it changed and refuses if anything has changed that since.

``engine.decisions`` itself stays outside this package: the sync's purge
(``engine.apply``) scrubs the recorded values, and this package writes
through ``engine.apply``, so inside it the two would import each other.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.apply import EventLog
from engine.decisions import UndoRefused, undo_decision
from engine.intake.decisions import Decision
from engine.errors import NextStep
from engine.intake.queue import IntakeError
from engine.models import IntakeDecision, utcnow
from engine.optional_data import shown
from engine.statuses import DecisionAction
from engine.users import ACTOR_WIDTH


def undo_last(session: Session, *, actor: str, now: datetime | None = None) -> Decision:
    """Revert the last Intake decision not yet undone, exactly; refused if
    anything has changed what it wrote since."""
    decision = session.execute(select(IntakeDecision).where(IntakeDecision.undone_at.is_(None))
                               .order_by(IntakeDecision.id.desc()).limit(1)).scalar()
    if decision is None:
        raise IntakeError("there is no Intake decision to undo", next_step=NextStep.LIST_DECISIONS)
    return _undo(session, decision, actor, now)


def undo_decision_by_id(session: Session, decision_id: int, *, actor: str, now: datetime | None = None) -> Decision:
    """Revert one Intake decision, the last or an older one (``recent_decisions``
    lists their ids): a decision that cannot be undone no longer stands in
    the way of the ones before it. Refused, as ``undo_last`` is, if anything
    (a later decision included) has changed what it wrote since."""
    decision = session.get(IntakeDecision, decision_id, populate_existing=True)
    if decision is None:
        raise IntakeError(f"there is no Intake decision {decision_id}", next_step=NextStep.LIST_DECISIONS)
    if decision.undone_at is not None:
        raise IntakeError(f"decision {decision_id} (\"{decision.summary}\") was already undone, "
                          f"on {decision.undone_at:%Y-%m-%d %H:%M} by {decision.undone_by}",
                          next_step=NextStep.LIST_DECISIONS)
    return _undo(session, decision, actor, now)


def _undo(session: Session, decision: IntakeDecision, actor: str, now: datetime | None) -> Decision:
    now = now or utcnow()
    try:
        reverted = undo_decision(session, decision, now)
    except UndoRefused as exc:
        raise IntakeError(f"cannot undo \"{decision.summary}\": " + "; ".join(exc.problems),
                          next_step=NextStep.LIST_DECISIONS) from None
    events = EventLog(None, actor, now)
    entry_ids = sorted({r.row_id for r in reverted if r.table == "intake"})
    for item in reverted:
        target = {"intake_id": item.row_id} if item.table == "intake" else \
            {"borrower_id": item.row_id if item.column != "deleted" else None}
        events.add("undone", field=item.column if item.column != "deleted" else "barcode",
                   old=shown(item.column, item.was), new=shown(item.column, item.now), **target)
    for entry_id in entry_ids:
        events.add("intake_undone", intake_id=entry_id, field="decision", old=decision.action, new=decision.summary)
    events.flush(session)
    decision.undone_at, decision.undone_by = now, actor[:ACTOR_WIDTH]
    session.flush()
    return Decision(decision.id, DecisionAction.UNDO, f"undid: {decision.summary}", tuple(entry_ids), ())

