"""Runs, what each changed, and undoing a whole one.

- ``list_runs``: the latest runs, newest first, with how many rows each
  changed and whether it was undone (or undid another).
- ``show_run(run_id)``: what the run changed, by kind, with counts: borrowers
  updated (and each field), linked, re-linked or unlinked, recycled and
  restored; Intake entries added, refreshed, reopened, closed or removed.
- ``undo_run(run_id, force=, dry_run=, actor=)``: puts back every change the
  run made (``engine.run_undo``) and records the undo as a run of its own
  (kind "undo", ``undo_of`` the run; the run gets ``undone_by_run``), with its
  own events and recorded changes, so that an undo can be undone in turn
  (which lets the run it undid be undone again). A change made since the run
  (by a later run, a decision or a person) is named and left alone unless
  ``force``. A dry run says exactly what would be put back and what would be
  left alone, and writes nothing.

Refused (``RunUndoRefused``), before anything is written: a run that does
not exist, one that was refused or failed (it wrote nothing), one already
undone, a purge (its borrowers are gone for good), one recorded before runs
kept what they changed, and an undo that could put nothing back.

Every function takes an open session and works in the caller's transaction;
``undo_run`` writes, so its caller holds the library lock
(``engine.session.open_library(config, write=True)``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.apply import EventLog, RunChanges
from engine.errors import NextStep, Refusal
from engine.history import RUNS_SHOWN
from engine.models import RunChange, SyncEvent, SyncRun, utcnow
from engine.plan import LINK_COLUMNS
from engine.run_status import RunOutcome
from engine.run_undo import DERIVED, ROW, RecordedRow, UndoItem, merged, plan_undo, write_undo
from engine.safe_text import one_line
from engine.statuses import OPEN_INTAKE
from engine.text import counted
from engine.users import ACTOR_WIDTH

UNDO = "undo"
# Not to be undone: a purge removed its borrowers, loans and history for good.
FOR_GOOD = {"purge"}
# What a run changed, by kind, as ``show_run`` and an undo's result count it.
KINDS = {
    "updated": "borrowers updated",
    "linked": "borrowers linked to the MIS",
    "relinked": "borrowers re-linked to another MIS record",
    "unlinked": "borrowers unlinked from the MIS",
    "recycled": "borrowers recycled",
    "restored": "borrowers restored from the recycle bin",
    "borrowers_added": "borrowers added",
    "borrowers_removed": "borrowers removed",
    "intake_added": "Intake entries added",
    "intake_refreshed": "Intake entries refreshed",
    "intake_reopened": "Intake entries reopened",
    "intake_closed": "Intake entries closed",
    "intake_removed": "Intake entries removed",
}
# A recycle or a restore writes these besides the status: part of it, not updates.
_RECYCLING = {"status", "recycled_at", "recycled_reason", "group_before_recycle", "tutor_group"}


class RunUndoRefused(Refusal):
    """The run cannot be undone (or nothing of it can be put back); nothing was written."""


@dataclass(frozen=True)
class RunLine:
    run_id: int
    kind: str
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str
    source: str | None
    message: str | None
    undo_of: int | None
    undone_by_run: int | None
    # Rows whose change the run recorded.
    rows_changed: int


@dataclass(frozen=True)
class RunDetail:
    run: RunLine
    # By kind (``KINDS``), and the borrower fields updated, by field name.
    changes: dict[str, int]
    fields: dict[str, int]
    # Why the run cannot be undone; None if it can.
    not_undoable: str | None


@dataclass(frozen=True)
class UndoResult:
    run_id: int
    # The undo's own run; None for a dry run.
    undo_run_id: int | None
    dry_run: bool
    forced: bool
    put_back: tuple[UndoItem, ...]
    left_alone: tuple[UndoItem, ...]
    # What the undo changes, by kind and by field, as ``show_run`` counts.
    changes: dict[str, int]
    fields: dict[str, int]


def list_runs(session: Session, limit: int = RUNS_SHOWN) -> list[RunLine]:
    runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)).all()
    counted = dict(session.execute(select(RunChange.run_id, func.count()).where(
        RunChange.run_id.in_([run.id for run in runs])).group_by(RunChange.run_id)).all())
    return [_line(run, counted.get(run.id, 0)) for run in runs]


def show_run(session: Session, run_id: int) -> RunDetail:
    run = _get(session, run_id)
    rows = _recorded(session, run_id)
    changes, fields = tally(rows)
    refusal = _not_undoable(session, run, bool(rows))
    return RunDetail(_line(run, _count(session, run_id)), changes, fields, str(refusal) if refusal else None)


def undo_run(session: Session, run_id: int, *, force: bool = False, dry_run: bool = False, actor: str,
             now: datetime | None = None) -> UndoResult:
    run = _get(session, run_id)
    rows = _recorded(session, run_id)
    refusal = _not_undoable(session, run, bool(rows))
    if refusal:
        raise refusal
    plan = plan_undo(session, rows, force)
    put_back, left_alone = tuple(plan.put_back()), tuple(plan.left_alone)
    if not plan.changes() and left_alone:
        raise RunUndoRefused(f"nothing of {_name(run)} can be put back: " + _listed(left_alone)
                             + ("" if force else "; --force puts back what was changed since"),
                             next_step=NextStep.LIST_RUNS if force else NextStep.FORCE_UNDO_RUN, subject=run_id)
    if not plan.changes():
        raise RunUndoRefused(f"nothing of {_name(run)} is left to put back: what it changed is as it was before "
                             "(a value switched off is not kept, so it cannot come back)",
                             next_step=NextStep.LIST_RUNS)
    changes, fields = tally(plan.changes())
    if dry_run:
        return UndoResult(run_id, None, True, force, put_back, left_alone, changes, fields)
    now, actor = now or utcnow(), actor[:ACTOR_WIDTH]
    undo = SyncRun(kind=UNDO, source=f"run {run_id}", undo_of=run_id, started_at=now, outcome="running")
    session.add(undo)
    session.flush()
    events, recorded = EventLog(undo.id, actor, now, session), RunChanges(session, undo.id)
    write_undo(session, plan, events, recorded, now)
    events.flush(session)
    recorded.flush()
    run.undone_by_run = undo.id
    if run.undo_of is not None:
        # Undoing an undo makes what it undid stand again, to be undone again if need be.
        original = session.get(SyncRun, run.undo_of)
        if original is not None and original.undone_by_run == run.id:
            original.undone_by_run = None
    undo.message = one_line(f"undo of {_name(run)} by {actor}: {counted(len(put_back), 'change')} put back"
                            + (f", {len(left_alone)} left alone" if left_alone else "")
                            + (" (forced)" if force else ""), 1000)
    undo.finished_at, undo.outcome = utcnow(), RunOutcome.OK
    session.flush()
    return UndoResult(run_id, undo.id, False, force, put_back, left_alone, changes, fields)


def tally(rows: list[RecordedRow]) -> tuple[dict[str, int], dict[str, int]]:
    """What these recorded rows change, by kind (``KINDS``), and the borrower
    fields updated, by field name."""
    kinds, fields = Counter(), Counter()
    for row in rows:
        if row.table == "intake":
            kinds[_intake_kind(row)] += 1
        elif row.before is None or row.after is None:
            kinds["borrowers_added" if row.before is None else "borrowers_removed"] += 1
        else:
            before, after = row.before, row.after
            if "mis_id" in after:
                kinds["linked" if before.get("mis_id") is None else
                      "unlinked" if after["mis_id"] is None else "relinked"] += 1
            moved = "status" in after and after["status"] != before.get("status")
            if moved:
                kinds["recycled" if after["status"] == "recycled" else "restored"] += 1
            # A link (or a recycle) writes more than its own column: those belong to it.
            updated = [c for c in after if c not in DERIVED and not ("mis_id" in after and c in LINK_COLUMNS)
                       and not (moved and c in _RECYCLING)]
            if updated:
                kinds["updated"] += 1
                fields.update(updated)
    return dict(kinds), dict(fields)


def _intake_kind(row: RecordedRow) -> str:
    if row.before is None or row.after is None:
        return "intake_added" if row.before is None else "intake_removed"
    if "status" in row.after and (row.after["status"] in OPEN_INTAKE) != (row.before.get("status") in OPEN_INTAKE):
        return "intake_reopened" if row.after["status"] in OPEN_INTAKE else "intake_closed"
    return "intake_refreshed"


def _get(session: Session, run_id: int) -> SyncRun:
    run = session.get(SyncRun, run_id, populate_existing=True)
    if run is None:
        raise RunUndoRefused(f"there is no run {run_id}", next_step=NextStep.LIST_RUNS)
    return run


def _recorded(session: Session, run_id: int) -> list[RecordedRow]:
    return merged(session.execute(select(RunChange.table_name, RunChange.row_id, RunChange.before, RunChange.after)
                                  .where(RunChange.run_id == run_id).order_by(RunChange.id)))


def _count(session: Session, run_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RunChange).where(RunChange.run_id == run_id)) or 0


def _not_undoable(session: Session, run: SyncRun, recorded: bool) -> RunUndoRefused | None:
    """Why the run cannot be undone, as the refusal to raise; None if it can.
    Its next step: the run that undid it, or the list to find another."""
    name = _name(run)
    if run.outcome != RunOutcome.OK:
        why = f"wrote nothing (its outcome: {run.outcome}): there is nothing to undo"
    elif run.undone_by_run is not None:
        return RunUndoRefused(f"{name} was already undone, by run {run.undone_by_run}",
                              next_step=NextStep.SHOW_RUN, subject=run.undone_by_run)
    elif run.kind in FOR_GOOD:
        why = "removed borrowers for good: it cannot be undone"
    elif recorded:
        return None
    elif session.scalar(select(func.count()).select_from(SyncEvent).where(SyncEvent.run_id == run.id)):
        why = "was recorded before runs kept what they changed: it cannot be undone"
    else:
        why = "changed nothing: there is nothing to undo"
    return RunUndoRefused(f"{name} {why}", next_step=NextStep.LIST_RUNS)


def _name(run: SyncRun) -> str:
    when = f" of {run.started_at:%Y-%m-%d %H:%M}" if run.started_at else ""
    return f"run {run.id} ({run.kind}{when})"


def _listed(items: tuple[UndoItem, ...], most: int = 10) -> str:
    shown = [f"{i.label}: {i.why}" if i.field == ROW else f"{i.label} {i.field}: {i.why}" for i in items[:most]]
    return "; ".join(shown) + (f"; and {len(items) - most} more" if len(items) > most else "")


def _line(run: SyncRun, rows_changed: int) -> RunLine:
    return RunLine(run.id, run.kind, run.started_at, run.finished_at, run.outcome, run.source, run.message,
                   run.undo_of, run.undone_by_run, rows_changed)
