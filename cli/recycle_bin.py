"""``mislink recycle-bin list | restore BARCODE [--hold] | purge --older-than DAYS [--dry-run]``.

The list is a table with a header: each borrower's barcode, name (at a
terminal only), tutor group, since when, loans out (0 included) and why they
are there (the sync's reason, or the hold that keeps a restored borrower out).
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Callable

from cli.common import ExitCode, Failure, complain, counted, emit, emit_json, in_library
from cli.holds import bin_json, hold_advice
from cli.table import table

if TYPE_CHECKING:
    from engine.api import Config, RecycledBorrower


def run(config: Config, args: argparse.Namespace, show_names: Callable[[], bool]) -> int:
    """``show_names`` is asked only once the work is done: nothing after the
    commit may turn it into a failure."""
    from engine.api import current_user, list_recycled, log_problem, purge_recycled, purgeable, restore_recycled

    if args.action == "purge" and args.older_than < 0:
        raise Failure(ExitCode.USAGE, "--older-than takes a number of days, 0 or more")

    def work(session):
        if args.action == "list":
            return list_recycled(session, with_held=True)
        if args.action == "restore":
            return [restore_recycled(session, args.barcode, actor=current_user(), hold=args.hold)]
        if args.dry_run:
            return purgeable(session, args.older_than)
        return purge_recycled(session, args.older_than, actor=current_user())

    writes = args.action == "restore" or (args.action == "purge" and not args.dry_run)
    rows = in_library(config, work, write=writes)
    if args.action == "purge" and not args.dry_run:
        problem = log_problem(config.log_path, [f"recycle bin: removed {r.barcode} for good (recycled "
                                                f"{r.recycled_at:%Y-%m-%d}, no loans out)" for r in rows]
                              or [f"recycle bin: nobody recycled over {args.older_than} days ago to remove"])
        if problem:
            complain(f"warning: {problem}")
    names = show_names()
    if args.json:
        emit_json([bin_json(r, names) for r in rows])
    elif args.action == "restore":
        _restored(rows[0], names)
    elif args.action == "list":
        _listed(rows, names)
    else:
        _purged(rows, names, args)
    return ExitCode.OK


def _table(rows: list[RecycledBorrower], names: bool) -> list[str]:
    header = ["BARCODE", *(["NAME"] if names else []), "TUTOR GROUP", "SINCE", "LOANS OUT", "WHY"]
    return table(header, ([r.barcode, *([f"{r.forename} {r.surname}"] if names else []), r.tutor_group,
                           f"{r.recycled_at or r.held_at:%Y-%m-%d}", r.loans_out, r.reason or r.hold_note]
                          for r in rows), right={len(header) - 2})


def _listed(rows: list[RecycledBorrower], names: bool) -> None:
    held = sum(1 for r in rows if r.held)
    recycled = len(rows) - held
    if rows:
        emit("\n".join(_table(rows, names)))
    emit(f"{counted(recycled, 'borrower')} in the recycle bin" if recycled else "The recycle bin is empty")
    if held:
        emit(f"{held:,} held out of it (restored with a hold; `mislink borrowers release BARCODE` ends one)")


def _restored(row: RecycledBorrower, names: bool) -> None:
    who = f"{row.barcode} ({row.forename} {row.surname})" if names else row.barcode
    emit(f"{who} is an active borrower again, tutor group {row.tutor_group or '(none)'}")
    hold_advice(row)


def _purged(rows: list[RecycledBorrower], names: bool, args: argparse.Namespace) -> None:
    if not rows:
        emit(f"Nobody to remove: no borrower has been in the recycle bin over {counted(args.older_than, 'day')} "
             "without loans out")
        return
    emit("\n".join(_table(rows, names)))
    emit(f"{counted(len(rows), 'borrower')} {'would be removed' if args.dry_run else 'removed for good'}")
