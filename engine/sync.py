"""Running a sync end to end: parse -> plan -> apply, in one transaction.

``run_sync`` is what ``mislink --sync`` and the terminal UI call. It never
raises for an expected failure: the report says what went wrong, the library is
left exactly as it was, and the run is recorded (in the library when it can be)
and appended to the run log.
"""
from __future__ import annotations

import json
import logging
from contextlib import nullcontext
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
from engine.lock import LibraryBusy, library_lock
from engine.models import SyncRun, utcnow
from engine.plan import plan_sync
from engine.report import SyncReport
from engine.runlog import append_run_log

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
        with (nullcontext() if dry_run else library_lock(engine)), Session(engine) as session, session.begin():
            _plan_and_apply(session, config, export, report, dry_run, force, progress, today, started)
    except ExportError as exc:
        report.message = str(exc)
    except LibraryBusy as exc:
        report.outcome, report.message = "locked", str(exc)
    except SQLAlchemyError as exc:
        report.message = (f"library database error, nothing written: {driver_reason(exc)}" if engine else
                          f"cannot open the library database {mask_url(config.library_url)}: {driver_reason(exc)}")
    except Exception as exc:  # noqa: BLE001 - a nightly run must end with a report, not a traceback
        # The exception's own text may quote a pupil's data: it goes to stderr
        # for whoever is debugging, the report and the log get its kind only.
        log.exception("sync failed")
        report.message = f"unexpected error ({type(exc).__name__}), nothing written"
    if report.outcome == "failed":
        report.counts, report.run_id = {}, None  # nothing of the plan happened
    if report.outcome in ("failed", "refused") and engine is not None:
        _record_unapplied_run(engine, config, report, started)
    if engine is not None:
        engine.dispose()
    _append_log(config, report)
    return report


def _plan_and_apply(session: Session, config: Config, export, report: SyncReport, dry_run: bool, force: bool,
                    progress: Progress, today: date | None, started: datetime) -> None:
    progress("reading the library")
    snapshot = load_snapshot(session)
    progress("planning")
    plan = plan_sync(export, snapshot, config, today)
    plan.warnings.extend(guard_warnings(plan, snapshot))
    report.plan, report.counts = plan, plan.counts()
    report.guard_stops = guard_failures(plan, snapshot, config.sync)
    if report.guard_stops:
        verdict = ("a real run would stop: " if dry_run else
                   "forced past the safety guards: " if force else "stopped before writing: ")
        report.message = verdict + "; ".join(report.guard_stops)
    if dry_run or (report.guard_stops and not force):
        report.outcome = "dry-run" if dry_run else "refused"
        session.rollback()
        return
    progress("writing")
    run = SyncRun(kind="sync", source=report.source[:500], estab=plan.estab, started_at=started,
                  message=report.message[:1000] or None)
    session.add(run)
    session.flush()
    now = utcnow()
    apply_plan(session, plan, run.id, now)
    if len(plan.intake_adds) + len(plan.intake_refreshes) <= SCORES_PER_RUN:
        progress("scoring Intake suggestions")
        refresh_best_scores(session, since=now, today=today)
    run.finished_at, run.outcome, run.counts = utcnow(), "ok", json.dumps(report.counts)
    report.run_id, report.outcome = run.id, "ok"


def _record_unapplied_run(engine: Engine, config: Config, report: SyncReport, started: datetime) -> None:
    """A run that wrote nothing is still part of the library's history: the
    sync log shows it, with why."""
    try:
        with Session(engine) as session, session.begin():
            session.add(SyncRun(kind="sync", source=report.source[:500], started_at=started, finished_at=utcnow(),
                                outcome=report.outcome, message=report.message[:1000],
                                estab=report.plan.estab if report.plan else None,
                                counts=json.dumps(report.counts) if report.counts else None))
    except SQLAlchemyError:
        log.warning("could not record the %s run in the library database", report.outcome)


def _append_log(config: Config, report: SyncReport) -> None:
    """The run happened whether or not its log line can be written: a log
    problem is reported, never turned into a failed run."""
    try:
        append_run_log(config.log_path, report)
    except OSError as exc:
        problem = f"could not write the run log {config.log_path}: {exc.strerror or exc}"
        log.warning(problem)
        report.message = f"{report.message}; {problem}" if report.message else problem
