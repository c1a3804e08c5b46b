"""``mislink --sync``: run a sync and report it.

The report goes on stdout, ending with the next step (how many wait in
Intake, and where to decide them). Why a run stopped or failed is a problem,
so it goes on stderr, with the command that gets past a safety guard; stdout
then holds the report without it. Exit codes: 0 done (or a dry run that a
real run would follow), 3 stopped by a guard (or a dry run that would be), 4
another process holds the library, 1 any other failure.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Callable

from cli.common import ExitCode, Failure, complain, counted, emit, emit_json, in_library
from cli.progress import page_bars

if TYPE_CHECKING:
    from engine.api import Config, SyncReport


def run(config: Config, args: argparse.Namespace, show_names: Callable[[], bool]) -> int:
    from engine.api import RunOutcome, run_sync

    if args.snapshot and not args.snapshot.is_dir():
        raise Failure(ExitCode.USAGE, f"--snapshot {args.snapshot}: no such folder")
    report = run_sync(config, dry_run=args.dry_run, force=args.force, rekey=args.rekey, snapshot=args.snapshot,
                      pages=page_bars())
    if report.outcome == RunOutcome.DRY_RUN:
        # A scheduled pre-check learns that the real run would be stopped.
        code = ExitCode.GUARD if report.guard_stops else ExitCode.OK
    else:
        code = {RunOutcome.OK: ExitCode.OK, RunOutcome.REFUSED: ExitCode.GUARD,
                RunOutcome.LOCKED: ExitCode.LOCKED}.get(report.outcome, ExitCode.FAILED)
    names = show_names()
    if args.json:
        emit_json({**report.to_json(names=names), "exit_code": int(code)}
                  | ({"error": report.message} if code != ExitCode.OK else {}))
    elif code == ExitCode.OK:
        emit(report.to_text(names=names))
        emit(_next_step(config, report))
    else:
        emit(dataclasses.replace(report, message="").to_text(names=names))
    if report.log_problem:
        complain(f"warning: {report.log_problem}")
    if code != ExitCode.OK:
        complain(f"sync {report.outcome}: {report.message}")
    if report.guard_stops and not report.forced:
        complain("if the export is right, `mislink --sync --force` applies it anyway")
    return code


def _next_step(config: Config, report: SyncReport) -> str:
    from engine.api import RunOutcome, list_entries

    if report.outcome == RunOutcome.DRY_RUN:
        return "Nothing was written: `mislink --sync` makes these changes."
    try:
        waiting = len(in_library(config, lambda session: list_entries(session, score_missing=False), write=False))
    except Failure as failure:  # the sync is done all the same; only the count is missing
        return f"Intake could not be counted: {failure}"
    if not waiting:
        return "Nobody is waiting in Intake."
    return f"{counted(waiting, 'record')} waiting in Intake: open `mislink`, or `mislink intake list`."
