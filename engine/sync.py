"""Running a sync: prepare a plan, then apply exactly that plan.

- ``prepare_sync`` reads the source (engine.source) and the library target
  (engine.target), plans, and returns a ``PreparedSync``: the plan, its report
  (outcome dry-run, or failed) and what it was computed from: the source's
  digest and the library's change marker. It writes nothing, takes no lock
  and holds no session or connection afterwards.
- ``apply_sync`` applies that prepared plan in one transaction under the
  library lock. If the export, the library or the settings have moved since
  the preview it writes nothing: outcome refused (exit code 3, as for a safety
  guard), "… changed since the preview; preview again".
- ``run_sync`` is what ``mislink --sync`` calls: a dry run is a prepare; a real
  run prepares and applies in one transaction under the lock, so nothing can
  move between the two and no decision waits on a half-made plan.

A change of MIS (engine.rekey) is planned as re-links whether or not
``rekey`` is given, so a dry run shows what re-keying would do; without
``rekey`` it stops a real run as the safety guards do (``mis_change_stop``).
A prepare's ``rekey`` may be changed at apply: it only lifts that one stop.
Every successful run records the MIS the export came from.

None of them raises for an expected failure: the report says what went wrong,
the library is left exactly as it was, and the run is recorded (in the library
when it can be) and appended to the run log. A run is ok only once its commit
has returned; a failed commit is a failed run with no counts and no run id.
"""
from __future__ import annotations

import gc
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Hashable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.config import Config, mask_url
from engine.counts import RunCounts
from engine.db import driver_reason
from engine.errors import Refusal
from engine.export import Export, ExportError
from engine.feeds.fetched import PageProgress, StaleFeed
from engine.guards import guard_failures, guard_warnings, mis_change_stop
from engine.intake import refresh_best_scores
from engine.lock import LibraryBusy
from engine.models import SyncRun, utcnow
from engine.plan import SyncPlan, plan_sync
from engine.report import SyncReport
from engine.run_status import RunOutcome, SyncStage
from engine.runlog import log_problem, run_log_lines
from engine.safe_text import QUOTED_LIMIT, one_line, stack_only
from engine.session import CommitFailed, connect_library, transaction
from engine.source import Source, source_for
from engine.target import LibraryTarget, target_for

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
# Scoring an Intake entry's suggestions costs about a millisecond, after a few
# seconds' indexing of a large library. A run that fills Intake with more than
# this (a first sync of a very large school) leaves the scores to be worked out
# as the Intake list shows them, so the nightly run stays quick.
SCORES_PER_RUN = 2000


@dataclass(frozen=True)
class PreparedSync:
    """A previewed plan and what it was computed from. Apply it with
    ``apply_sync``; it holds no session, connection or lock."""
    config: Config
    # Outcome dry-run with the plan and counts, or failed (nothing to apply).
    report: SyncReport
    source: Source
    # The source's digest and the library's change marker when planned.
    digest: str | None
    marker: Hashable | None
    force: bool
    today: date | None
    rekey: bool = False
    # The stop a change of MIS puts on this plan until --rekey, as the report
    # words it; None if there is none.
    rekey_stop: str | None = None

    @property
    def plan(self) -> SyncPlan | None:
        return self.report.plan


class PreviewOutdated(Refusal):
    """What a prepared plan was computed from has changed; nothing written."""


def prepare_sync(config: Config, *, force: bool = False, progress: Progress | None = None,
                 today: date | None = None, rekey: bool = False, snapshot: Path | None = None,
                 pages: PageProgress | None = None) -> PreparedSync:
    run = _Run(config, force, progress, rekey)
    source, target = source_for(config, today, snapshot=snapshot, pages=pages), target_for(config)
    computed: dict = {}

    def step() -> tuple[RunOutcome, None]:
        export = run.read(source)
        computed["digest"] = export.digest
        with transaction(run.connect(), lock=False) as session:
            computed["marker"] = run.plan(session, target, export, today, dry_run=True)
            session.rollback()
        return RunOutcome.DRY_RUN, None

    run.attempt(step)
    return PreparedSync(config, run.finish(), source, computed.get("digest"), computed.get("marker"), force, today,
                        rekey, run.rekey_stop)


def apply_sync(config: Config, prepared: PreparedSync, *, force: bool | None = None,
               progress: Progress | None = None, rekey: bool | None = None) -> SyncReport:
    """Apply the prepared plan (``force`` and ``rekey`` default to the
    prepare's). A prepare that failed has nothing to apply: its report comes
    back as it was."""
    if prepared.report.outcome != RunOutcome.DRY_RUN:
        return prepared.report
    force = prepared.force if force is None else force
    rekey = prepared.rekey if rekey is None else rekey
    run = _Run(config, force, progress, rekey)
    run.rekey_stop = prepared.rekey_stop
    run.source = prepared.source
    stops = [s for s in prepared.report.guard_stops if s != prepared.rekey_stop]
    run.report = replace(prepared.report, outcome=RunOutcome.FAILED, message="", run_id=None, forced=force,
                         log_problem="", guard_stops=run.with_rekey_stop(stops))
    target = target_for(config)

    def step() -> tuple[RunOutcome, int | None]:
        engine = run.connect()  # first: a refusal is recorded in the library's history too
        if _settings(config) != _settings(prepared.config):
            raise PreviewOutdated("the settings changed since the preview; preview again")
        if prepared.source.digest_now() != prepared.digest:
            raise PreviewOutdated("the export changed since the preview; preview again")
        with transaction(engine, lock=True) as session:
            if target.change_marker(session) != prepared.marker:
                raise PreviewOutdated("the library changed since the preview; preview again")
            return run.apply(session, target, prepared.today)

    run.attempt(step)
    return run.finish()


def run_sync(config: Config, *, dry_run: bool = False, force: bool = False,
             progress: Progress | None = None, today: date | None = None, rekey: bool = False,
             snapshot: Path | None = None, pages: PageProgress | None = None) -> SyncReport:
    """``snapshot`` replays a saved feed snapshot; ``pages`` hears a live
    feed's progress, page by page (see ``prepare_sync`` too)."""
    if dry_run:
        return prepare_sync(config, force=force, progress=progress, today=today, rekey=rekey, snapshot=snapshot,
                            pages=pages).report
    run = _Run(config, force, progress, rekey)
    source, target = source_for(config, today, snapshot=snapshot, pages=pages), target_for(config)

    def step() -> tuple[RunOutcome, int | None]:
        export = run.read(source)
        with transaction(run.connect(), lock=True) as session:
            run.plan(session, target, export, today, dry_run=False)
            return run.apply(session, target, today)

    run.attempt(step)
    return run.finish()


def _settings(config: Config) -> tuple:
    """What a plan depends on in the configuration, wherever the file lives."""
    return config, config.source_path, config.library_url


class _Run:
    """One call's report and library connection. ``attempt`` turns every
    expected failure into the report's message; ``finish`` records a run that
    wrote nothing, closes the connection and appends the run log."""

    def __init__(self, config: Config, force: bool, progress: Progress | None, rekey: bool = False):
        self.config, self.progress, self.rekey = config, progress or (lambda stage: None), rekey
        self.rekey_stop: str | None = None
        self.report = SyncReport(outcome=RunOutcome.FAILED, source=str(config.source_path), forced=force)
        self.started = utcnow()
        self.engine: Engine | None = None
        self.source: Source | None = None

    def connect(self) -> Engine:
        self.engine = connect_library(self.config)
        return self.engine

    def read(self, source: Source) -> Export:
        self.progress(SyncStage.READING_EXPORT)
        self.report.source, self.source = source.label, source
        return source.read()

    def fed(self) -> dict:
        """A live feed's snapshot folder, for the run's record."""
        snapshot = getattr(self.source, "snapshot", None)
        return {"snapshot": _fit("snapshot", str(snapshot)) if snapshot else None}

    def plan(self, session: Session, target: LibraryTarget, export: Export, today: date | None,
             *, dry_run: bool) -> Hashable:
        """Plan into the report; the library's change marker, read first."""
        self.progress(SyncStage.READING_LIBRARY)
        marker = target.change_marker(session)
        snapshot = target.snapshot(session)
        self.progress(SyncStage.PLANNING)
        plan = plan_sync(export, snapshot, self.config, today)
        plan.warnings.extend(guard_warnings(plan, snapshot))
        report = self.report
        report.plan, report.counts = plan, RunCounts.of(plan)
        # A guard may quote the export (its establishment number): bounded.
        # The MIS change's stop quotes only bounded MIS names, and must keep
        # its last words, which say what to run.
        stop = mis_change_stop(plan)
        self.rekey_stop = None if stop is None else one_line(stop)
        report.guard_stops = self.with_rekey_stop([one_line(stop, QUOTED_LIMIT)
                                                   for stop in guard_failures(plan, snapshot, self.config.sync)])
        if self.rekey and plan.mis_change is None:
            plan.warnings.append("--rekey was given, but the export shows no change of MIS: nothing to re-link")
        if dry_run and report.guard_stops:
            report.message = "a real run would stop: " + "; ".join(report.guard_stops)
        return marker

    def with_rekey_stop(self, stops: list[str]) -> list[str]:
        """The guards' stops, and first the MIS change's unless ``rekey``."""
        return stops if self.rekey or self.rekey_stop is None else [self.rekey_stop, *stops]

    def apply(self, session: Session, target: LibraryTarget, today: date | None) -> tuple[RunOutcome, int | None]:
        """Apply the report's plan unless a guard stops it: the outcome and run
        id the run will have once (and only if) the transaction commits."""
        report, plan = self.report, self.report.plan
        if report.guard_stops:
            verdict = "forced past the safety guards: " if report.forced else "stopped before writing: "
            report.message = verdict + "; ".join(report.guard_stops)
            if not report.forced:
                session.rollback()
                return RunOutcome.REFUSED, None
        self.progress(SyncStage.WRITING)
        # The establishment number is stored as read: later runs compare with it.
        # The feed's next delta is stored with the run: only if it commits.
        run = SyncRun(kind="sync", source=_fit("source", report.source), estab=plan.estab,
                      mis_name=_fit("mis_name", plan.mis_name), started_at=self.started,
                      message=_fit("message", report.message) or None, **self.fed(),
                      next_delta=getattr(self.source, "next_delta", None))
        session.add(run)
        session.flush()
        now = utcnow()
        target.apply(session, plan, run.id, now)
        if len(plan.intake_adds) + len(plan.intake_refreshes) <= SCORES_PER_RUN:
            self.progress(SyncStage.SCORING)
            refresh_best_scores(session, since=now, today=today)
        run.finished_at, run.outcome, run.counts = utcnow(), RunOutcome.OK, json.dumps(report.counts.to_json())
        return RunOutcome.OK, run.id

    def attempt(self, step: Callable[[], tuple[RunOutcome, int | None]]) -> None:
        report = self.report
        try:
            with _no_full_collections():
                report.outcome, report.run_id = step()  # only now: the commit has returned
        except (PreviewOutdated, StaleFeed) as exc:
            report.outcome, report.message = RunOutcome.REFUSED, str(exc)
        except ExportError as exc:
            # It may quote the export (an Xporter error envelope): enough to
            # recognise, never a whole record.
            report.message = one_line(exc, QUOTED_LIMIT)
        except LibraryBusy as exc:
            report.outcome, report.message = RunOutcome.LOCKED, str(exc)
        except Refusal as exc:  # a Koha library that cannot be used or take the run (engine.koha): failed
            report.message = str(exc)
        except CommitFailed as exc:
            report.message = f"the library database did not save the run, nothing written: {exc}"
        except SQLAlchemyError as exc:
            report.message = (
                f"library database error, nothing written: {driver_reason(exc)}" if self.engine else
                f"cannot open the library database {mask_url(self.config.library_url)}: {driver_reason(exc)}")
        except Exception as exc:  # noqa: BLE001 - a nightly run must end with a report, not a traceback
            # The exception's own text may quote a pupil's data: stderr gets where
            # it happened, the report and the log its kind only.
            log.error("sync failed:\n%s", stack_only(exc))
            report.message = f"unexpected error ({type(exc).__name__}), nothing written"

    def finish(self) -> SyncReport:
        report = self.report
        if report.outcome == RunOutcome.FAILED:
            report.counts, report.run_id = None, None  # nothing of the plan happened
        if report.outcome in (RunOutcome.FAILED, RunOutcome.REFUSED) and self.engine is not None:
            _record_unapplied_run(self.engine, report, self.started, self.fed())
        if self.engine is not None:
            self.engine.dispose()
        _append_log(self.config, report)
        return report


# More collections of the middle generation than a run makes: none of them
# leads to a full collection.
RUN_MIDDLE_COLLECTIONS = 1_000_000


@contextmanager
def _no_full_collections():
    """A run builds millions of long-lived objects (the parsed export, the
    snapshot, the plan), and each full collection walks them all again: 17 of
    them cost 16% of a 100,000-person first sync's CPU (benchmarks/sync_speed).
    The young generations are still collected, so a run's short-lived cycles
    are freed as before and its peak memory does not move (turning the
    collector off did raise it); the threshold is the process's, put back
    after the run."""
    threshold = gc.get_threshold()
    gc.set_threshold(threshold[0], threshold[1], RUN_MIDDLE_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


# What a recorded run's message may hold: every database keeps this much text.
MESSAGE_LIMIT = 1000


def _fit(column: str, value: str | None) -> str | None:
    """A value for a ``sync_runs`` column that every database accepts: one
    line, no control characters (PostgreSQL refuses a NUL), and no longer than
    the column (the model's width)."""
    if value is None:
        return None
    return one_line(value, SyncRun.__table__.c[column].type.length or MESSAGE_LIMIT)


def _record_unapplied_run(engine: Engine, report: SyncReport, started: datetime, fed: dict | None = None) -> None:
    """A run that wrote nothing is still part of the library's history: the
    sync log shows it, with why. Whatever the values it records hold, they
    fit: a long or garbled establishment number cannot hide the run."""
    try:
        with Session(engine) as session, session.begin():
            session.add(SyncRun(kind="sync", source=_fit("source", report.source), started_at=started,
                                finished_at=utcnow(), outcome=report.outcome, message=_fit("message", report.message),
                                estab=_fit("estab", report.plan.estab if report.plan else None),
                                mis_name=_fit("mis_name", report.plan.mis_name if report.plan else None),
                                counts=json.dumps(report.counts.to_json()) if report.counts else None, **(fed or {})))
    except SQLAlchemyError:
        log.warning("could not record the %s run in the library database", report.outcome)


def _append_log(config: Config, report: SyncReport) -> None:
    """The run happened whether or not its log line can be written: a log
    problem is a warning in the report, never a failed run."""
    problem = log_problem(config.log_path, run_log_lines(report))
    if problem:
        report.log_problem = problem
        report.message = f"{report.message}; {problem}" if report.message else problem
