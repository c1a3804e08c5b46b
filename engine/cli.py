"""The ``mislink`` command line.

stdout carries only the report (text, or JSON with ``--json``); diagnostics go
to stderr. Exit codes are ``ExitCode``. Heavy imports are deferred so that a
headless command never loads the terminal UI.
"""
from __future__ import annotations

import argparse
import json
import sys
from enum import IntEnum
from pathlib import Path

from engine.cli_intake import add_intake_commands, run_intake
from engine.config import Config, ConfigError, load_config, mask_url


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    GUARD = 3
    LOCKED = 4


def _shared_options() -> argparse.ArgumentParser:
    """--config and --json work before or after a subcommand. SUPPRESS keeps a
    subcommand from resetting a value given before it."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="configuration file")
    shared.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    return shared


def build_parser() -> argparse.ArgumentParser:
    shared = _shared_options()
    parser = argparse.ArgumentParser(
        prog="mislink", description="Keep the library's borrowers in step with the school's MIS.")
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="configuration file")
    parser.add_argument("--sync", action="store_true", help="run a sync now, without the terminal UI")
    parser.add_argument("--dry-run", action="store_true", help="with --sync: show the plan, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--force", action="store_true", help="with --sync: override the safety guards")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(group, name: str, **options) -> argparse.ArgumentParser:
        return group.add_parser(name, parents=[shared], **options)

    borrowers = add(commands, "borrowers", help="the library's borrower list")
    borrower_commands = borrowers.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = add(borrower_commands, "import", help="load existing borrowers from an MLS-style CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--skip-invalid", action="store_true", help="import the good rows, skip bad ones")
    add_intake_commands(commands, add)
    bin_parser = add(commands, "recycle-bin", help="borrowers who have left")
    bin_commands = bin_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add(bin_commands, "list", help="list recycled borrowers")
    restorer = add(bin_commands, "restore", help="put a recycled borrower back")
    restorer.add_argument("barcode")
    purger = add(bin_commands, "purge", help="remove recycled borrowers for good (never with loans out)")
    purger.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    purger.add_argument("--dry-run", action="store_true", help="show who would be removed")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return ExitCode.OK if exc.code == 0 else ExitCode.USAGE
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"mislink: configuration error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.command == "borrowers":
        return _import_borrowers(config, args)
    if args.command == "intake":
        return run_intake(config, args)
    if args.command == "recycle-bin":
        return _recycle_bin(config, args)
    if args.sync:
        return _sync(config, args)
    if args.dry_run or args.force:
        print("mislink: --dry-run and --force go with --sync", file=sys.stderr)
        return ExitCode.USAGE
    from tui.app import run  # deferred: a headless command never loads Textual

    return run(config, args.config)


def _sync(config: Config, args: argparse.Namespace) -> int:
    from engine.sync import run_sync

    report = run_sync(config, dry_run=args.dry_run, force=args.force)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(report.to_text())
    if report.outcome == "dry-run":
        # A scheduled pre-check learns that the real run would be stopped.
        return ExitCode.GUARD if report.guard_stops else ExitCode.OK
    return {"ok": ExitCode.OK, "refused": ExitCode.GUARD, "locked": ExitCode.LOCKED}.get(report.outcome,
                                                                                    ExitCode.FAILED)


def in_library(config: Config, work, *, write: bool):
    """Run ``work(session)`` in one transaction on the library: (result, None),
    or (None, exit code) after saying on stderr why it could not be done."""
    from sqlalchemy.exc import SQLAlchemyError

    from engine.db import LibraryMissing, driver_reason
    from engine.lock import LibraryBusy
    from engine.session import open_library

    try:
        with open_library(config, write=write) as session:
            return work(session), None
    except LibraryBusy as exc:
        print(f"mislink: {exc}", file=sys.stderr)
        return None, ExitCode.LOCKED
    except SQLAlchemyError as exc:
        print(f"mislink: library database {mask_url(config.library_url)}: {driver_reason(exc)}", file=sys.stderr)
        return None, ExitCode.FAILED
    except (CommandRefused, LibraryMissing) as exc:
        print(f"mislink: {exc}", file=sys.stderr)
        return None, ExitCode.FAILED


class CommandRefused(Exception):
    """The command cannot be carried out as asked; nothing is written."""


def _import_borrowers(config: Config, args: argparse.Namespace) -> int:
    from engine.borrower_import import ImportFileError, import_borrowers

    def work(session):
        try:
            result = import_borrowers(session, args.file, config.barcodes, skip_invalid=args.skip_invalid)
        except ImportFileError as exc:
            raise CommandRefused(str(exc)) from exc
        if not result.written:
            session.rollback()
        return result

    result, failed = in_library(config, work, write=True)
    if failed is not None:
        return failed
    if args.json:
        print(json.dumps({"imported": result.imported, "already_present": result.already_present,
                          "written": result.written, "problems": [vars(p) for p in result.problems]}, indent=2))
    else:
        for problem in result.problems:
            print(f"  {args.file.name} {problem}", file=sys.stderr)
        verdict = "imported" if result.written else "NOT imported (fix the rows above, or use --skip-invalid)"
        print(f"{args.file.name}: {result.imported} borrowers {verdict}; {result.already_present} already in the "
              f"library; {len(result.problems)} bad rows{' skipped' if result.written and result.problems else ''}")
    return ExitCode.OK if result.written else ExitCode.FAILED


def _recycle_bin(config: Config, args: argparse.Namespace) -> int:
    from engine import recycle_bin
    from engine.runlog import append_lines
    from engine.users import current_user

    if args.action == "purge" and args.older_than < 0:
        print("mislink: --older-than takes a number of days, 0 or more", file=sys.stderr)
        return ExitCode.USAGE

    def work(session):
        try:
            if args.action == "list":
                return recycle_bin.list_recycled(session)
            if args.action == "restore":
                return [recycle_bin.restore(session, args.barcode, actor=current_user())]
            if args.dry_run:
                return recycle_bin.purgeable(session, args.older_than)
            return recycle_bin.purge_recycled(session, args.older_than, actor=current_user())
        except recycle_bin.RecycleBinError as exc:
            raise CommandRefused(str(exc)) from exc

    writes = args.action == "restore" or (args.action == "purge" and not args.dry_run)
    rows, failed = in_library(config, work, write=writes)
    if failed is not None:
        return failed
    if args.action == "purge" and not args.dry_run:
        append_lines(config.log_path, [f"recycle bin: removed {r.barcode} for good (recycled "
                                       f"{r.recycled_at:%Y-%m-%d}, no loans out)" for r in rows]
                     or [f"recycle bin: nobody recycled over {args.older_than} days ago to remove"])
    if args.json:
        print(json.dumps([{**vars(r), "recycled_at": r.recycled_at.isoformat() if r.recycled_at else None}
                          for r in rows], indent=2, ensure_ascii=False))
        return ExitCode.OK
    verb = {"list": "in the recycle bin", "restore": "restored",
            "purge": "would be removed" if args.dry_run else "removed for good"}[args.action]
    for row in rows:
        when = row.recycled_at.date().isoformat() if row.recycled_at else ""
        print(f"  {row.barcode:<12} {row.forename} {row.surname:<24} {row.tutor_group or '':<28} {when}"
              f"{f'  {row.loans_out} loans out' if row.loans_out else ''}")
    print(f"{len(rows)} borrower(s) {verb}")
    return ExitCode.OK
