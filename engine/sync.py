"""Running a sync end to end: parse -> plan -> apply, in one transaction.

``run_sync`` is what ``mislink --sync`` and the terminal UI call. It never
raises for an expected failure: the report says what went wrong, the library is
left exactly as it was, and the run is recorded (in the library when it can be)
and appended to the run log. A run is "ok" only once its commit has returned;
a failed commit is a failed run with no counts and no run id.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.apply import apply_plan
from engine.config import Config, mask_url
from engine.db import connect, driver_reason
from engine.export import ExportError, read_export
from engine.guards import guard_failures, guard_warnings
from engine.intake import refresh_best_scores
from engine.library import load_snapshot
from engine.lock import LibraryBusy
from engine.models import SyncRun, utcnow
from engine.plan import plan_sync
from engine.report import SyncReport
from engine.runlog import log_problem, run_log_lines
from engine.safe_text import QUOTED_LIMIT, one_line, stack_only
from engine.session import CommitFailed, transaction

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
# Scoring an Intake entry's suggestions costs about a millisecond, after a few
# seconds' indexing of a large library. A run that fills Intake with more than
# this (a first sync of a very large school) leaves the scores to be worked out
# as the Intake list shows them, so the nightly run stays quick.
SCORES_PER_RUN = 2000


def run_sync(config: Config, *, dry_run: bool = False, force: bool = False,
             progress: Progress | None = None, today: date | None = None) -> SyncReport:
    progress = progress or (lambda message: None)
    report = SyncReport(outcome="failed", source=str(config.source_path), forced=force)
    started = utcnow()
    engine = None
    try:
        progress("reading the export")
        export = read_export(config.source_path, config.data, today)
        engine = connect(config.library_url)
        with transaction(engine, lock=not dry_run) as session:
            planned = _plan_and_apply(session, config, export, report, dry_run, force, progress, today, started)
        report.outcome, report.run_id = planned  # only now: the commit has returned
    except ExportError as exc:
        # It may quote the export (an Xporter error envelope): enough to
        # recognise, never a whole record.
        report.message = one_line(exc, QUOTED_LIMIT)
    except LibraryBusy as exc:
        report.outcome, report.message = "locked", str(exc)
    except CommitFailed as exc:
        report.message = f"the library database did not save the run, nothing written: {exc}"
    except SQLAlchemyError as exc:
        report.message = (f"library database error, nothing written: {driver_reason(exc)}" if engine else
                          f"cannot open the library database {mask_url(config.library_url)}: {driver_reason(exc)}")
    except Exception as exc:  # noqa: BLE001 - a nightly run must end with a report, not a traceback
        # The exception's own text may quote a pupil's data: stderr gets where
        # it happened, the report and the log its kind only.
        log.error("sync failed:\n%s", stack_only(exc))
        report.message = f"unexpected error ({type(exc).__name__}), nothing written"
    if report.outcome == "failed":
        report.counts, report.run_id = {}, None  # nothing of the plan happened
    if report.outcome in ("failed", "refused") and engine is not None:
        _record_unapplied_run(engine, report, started)
    if engine is not None:
        engine.dispose()
    _append_log(config, report)
    return report


def _plan_and_apply(session: Session, config: Config, export, report: SyncReport, dry_run: bool, force: bool,
                    progress: Progress, today: date | None, started: datetime) -> tuple[str, int | None]:
    """Plan, and apply unless stopped: the outcome and run id the run will
    have once (and only if) the transaction commits."""
    progress("reading the library")
    snapshot = load_snapshot(session)
    progress("planning")
    plan = plan_sync(export, snapshot, config, today)
    plan.warnings.extend(guard_warnings(plan, snapshot))
    report.plan, report.counts = plan, plan.counts()
    # A guard may quote the export (its establishment number): bounded.
    report.guard_stops = [one_line(stop, QUOTED_LIMIT) for stop in guard_failures(plan, snapshot, config.sync)]
    if report.guard_stops:
        verdict = ("a real run would stop: " if dry_run else
                   "forced past the safety guards: " if force else "stopped before writing: ")
        report.message = verdict + "; ".join(report.guard_stops)
    if dry_run or (report.guard_stops and not force):
        session.rollback()
        return ("dry-run" if dry_run else "refused"), None
    progress("writing")
    # The establishment number is stored as read: later runs compare with it.
    run = SyncRun(kind="sync", source=_fit("source", report.source), estab=plan.estab, started_at=started,
                  message=_fit("message", report.message) or None)
    session.add(run)
    session.flush()
    now = utcnow()
    apply_plan(session, plan, run.id, now)
    if len(plan.intake_adds) + len(plan.intake_refreshes) <= SCORES_PER_RUN:
        progress("scoring Intake suggestions")
        refresh_best_scores(session, since=now, today=today)
    run.finished_at, run.outcome, run.counts = utcnow(), "ok", json.dumps(report.counts)
    return "ok", run.id


# What a recorded run's message may hold: every database keeps this much text.
MESSAGE_LIMIT = 1000


def _fit(column: str, value: str | None) -> str | None:
    """A value for a ``sync_runs`` column that every database accepts: one
    line, no control characters (PostgreSQL refuses a NUL), and no longer than
    the column (the model's width)."""
    if value is None:
        return None
    return one_line(value, SyncRun.__table__.c[column].type.length or MESSAGE_LIMIT)


def _record_unapplied_run(engine: Engine, report: SyncReport, started: datetime) -> None:
    """A run that wrote nothing is still part of the library's history: the
    sync log shows it, with why. Whatever the values it records hold, they
    fit: a long or garbled establishment number cannot hide the run."""
    try:
        with Session(engine) as session, session.begin():
            session.add(SyncRun(kind="sync", source=_fit("source", report.source), started_at=started,
                                finished_at=utcnow(), outcome=report.outcome, message=_fit("message", report.message),
                                estab=_fit("estab", report.plan.estab if report.plan else None),
                                counts=json.dumps(report.counts) if report.counts else None))
    except SQLAlchemyError:
        log.warning("could not record the %s run in the library database", report.outcome)


def _append_log(config: Config, report: SyncReport) -> None:
    """The run happened whether or not its log line can be written: a log
    problem is a warning in the report, never a failed run."""
    problem = log_problem(config.log_path, run_log_lines(report))
    if problem:
        report.log_problem = problem
        report.message = f"{report.message}; {problem}" if report.message else problem
