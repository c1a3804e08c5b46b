"""Running a sync end to end: parse -> plan -> apply, in one transaction.

``run_sync`` is what ``mislink --sync`` and the terminal UI call. It never
raises for an expected failure: the report says what went wrong, the library is
left exactly as it was, and the run is recorded and logged.
"""
from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from datetime import date
from typing import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.apply import apply_plan
from engine.config import Config, mask_url
from engine.db import connect
from engine.export import ExportError, read_export
from engine.guards import guard_failures
from engine.intake import refresh_best_scores
from engine.library import load_snapshot
from engine.lock import SyncLocked, sync_lock
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
    source = str(config.source_path)
    report = SyncReport(outcome="failed", source=source, forced=force)
    try:
        progress("reading the export")
        export = read_export(config.source_path, config.data, today)
        engine = connect(config.library_url)
    except ExportError as exc:
        report.message = str(exc)
        append_run_log(config.log_path, report)
        return report
    except SQLAlchemyError as exc:
        report.message = f"cannot open the library database {mask_url(config.library_url)}: {_reason(exc)}"
        append_run_log(config.log_path, report)
        return report
    try:
        with (nullcontext() if dry_run else sync_lock(engine)), Session(engine) as session, session.begin():
            progress("reading the library")
            snapshot = load_snapshot(session)
            progress("planning")
            plan = plan_sync(export, snapshot, config, today)
            report.plan, report.counts = plan, plan.counts()
            stops = guard_failures(plan, snapshot, config.sync)
            if stops:
                verdict = ("a real run would stop: " if dry_run else
                           "forced past the safety guards: " if force else "stopped before writing: ")
                report.message = verdict + "; ".join(stops)
            if dry_run or (stops and not force):
                report.outcome = "dry-run" if dry_run else "refused"
                session.rollback()
            else:
                progress("writing")
                run = SyncRun(kind="sync", source=source[:500], estab=plan.estab, started_at=utcnow(),
                              message=report.message[:1000] or None)
                session.add(run)
                session.flush()
                now = utcnow()
                apply_plan(session, plan, run.id, now)
                if len(plan.intake_adds) + len(plan.intake_refreshes) <= SCORES_PER_RUN:
                    progress("scoring Intake suggestions")
                    refresh_best_scores(session, since=now, today=today)
                run.finished_at, run.outcome = utcnow(), "ok"
                run.counts = json.dumps(report.counts)
                report.run_id, report.outcome = run.id, "ok"
    except SyncLocked as exc:
        report.outcome, report.message = "locked", str(exc)
    except SQLAlchemyError as exc:
        report.outcome, report.run_id = "failed", None
        report.message = f"library database error, nothing written: {_reason(exc)}"
        _record_failure(engine, source, report)
    except Exception as exc:  # noqa: BLE001 - a nightly run must end with a report, not a traceback
        log.exception("sync failed")
        report.outcome, report.run_id = "failed", None
        report.message = f"unexpected error, nothing written: {type(exc).__name__}: {exc}"[:1000]
        _record_failure(engine, source, report)
    finally:
        engine.dispose()
    append_run_log(config.log_path, report)
    return report


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, without the SQL and parameters SQLAlchemy adds."""
    original = getattr(exc, "orig", None)
    return str(original or exc).splitlines()[0][:300]


def _record_failure(engine, source: str, report: SyncReport) -> None:
    try:
        with Session(engine) as session, session.begin():
            now = utcnow()
            session.add(SyncRun(kind="sync", source=source[:500], started_at=now, finished_at=now,
                                outcome="failed", message=report.message[:1000]))
    except SQLAlchemyError:
        log.warning("could not record the failed run in the library database")
