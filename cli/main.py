"""The ``mislink`` command line: the parser, ``main()`` and the headless commands.

stdout carries only the report (text, or JSON with ``--json``); diagnostics go
to stderr, one line each, whatever the values in them hold. Exit codes are
``ExitCode``. Heavy imports are deferred so that a headless command never loads
the terminal UI.

Every error ends the same way (``Failure``): its message on stderr and, with
``--json``, ``{"error": …, "exit_code": …}`` on stdout. A writer's work is done
only when its commit has returned: an error before that exits 1 ("nothing
written"), and nothing after it (a run log that cannot be written, a reader
that stopped reading) turns done work into a failure. The sync's and the
recycle bin's output, when it is not going to a terminal (a scheduled run, a
pipe), names records by MIS id and barcode only.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from cli.common import (ExitCode, Failure, closest, complain, counted, emit, emit_json, fail, in_library, listed, saved,
                        silence, whole)
from cli.holds import release_hold
from cli.intake import add_intake_commands, run_intake
from cli.koha import add_koha_commands, run_koha
from cli.runs import add_runs_commands, run_runs
from cli.links import unlink
from cli import recycle_bin, sync
from cli.progress import page_bars

if TYPE_CHECKING:
    from engine.api import Config


CONFIG = "config.toml"


def show_names() -> bool:
    """Names only for a person at a terminal; a scheduled run's output, or a
    pipe's, names records by MIS id and barcode."""
    return sys.stdout.isatty()


# Options that are commands of their own, as a command might be mistyped for
# them: "mislink sync" means "mislink --sync".
_COMMAND_FLAGS = {"sync": "--sync"}


class _Parser(argparse.ArgumentParser):
    """A usage error is a ``Failure`` like any other, so ``--json`` gets it as
    JSON too. A mistyped command or option is answered with the one most
    likely meant."""

    def error(self, message: str):
        raise Failure(ExitCode.USAGE, f"{message} (see `{self.prog} --help`)")

    def _check_value(self, action, value):
        if action.choices is None or value in action.choices:
            return
        flags = _COMMAND_FLAGS if action.dest == "command" else {}
        near = closest(value, [*action.choices, *flags])
        meant = f"; did you mean `{self.prog} {flags.get(near, near)}`?" if near else ""
        raise argparse.ArgumentError(None, f"{value!r} is not a `{self.prog}` command{meant} "
                                           f"(choose {listed(action.choices)})")

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            near = closest(extra[0], self._options()) if extra[0].startswith("--") else None
            self.error(f"unrecognized arguments: {' '.join(extra)}" + (f"; did you mean {near}?" if near else ""))
        return parsed

    def _options(self) -> set[str]:
        """Every long option of this parser and its subcommands'."""
        options = set()
        for action in self._actions:
            options.update(o for o in action.option_strings if o.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    options |= parser._options()
        return options

    def _print_message(self, message: str, file=None) -> None:
        # argparse ignores a failed write, but not the flush at exit: --help
        # into a closed pipe would end with "Exception ignored".
        file = file or sys.stderr
        super()._print_message(message, file)
        try:
            file.flush()
        except BrokenPipeError:
            silence(file)


def _shared_options() -> argparse.ArgumentParser:
    """--config and --json work before or after a subcommand. SUPPRESS keeps a
    subcommand from resetting a value given before it."""
    shared = _Parser(add_help=False)
    shared.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="configuration file")
    shared.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    return shared


def build_parser() -> argparse.ArgumentParser:
    shared = _shared_options()
    parser = _Parser(
        prog="mislink", description="Keep the library's borrowers in step with the school's MIS.")
    parser.add_argument("--config", type=Path, help=f"configuration file (default: {CONFIG} in this folder)")
    parser.add_argument("--sync", action="store_true", help="run a sync now, without the terminal UI")
    parser.add_argument("--dry-run", action="store_true", help="with --sync: show the plan, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--force", action="store_true", help="with --sync: override the safety guards")
    parser.add_argument("--rekey", action="store_true",
                        help="with --sync: after a change of MIS, re-link borrowers to their new MIS records")
    parser.add_argument("--snapshot", type=Path, metavar="DIR",
                        help="with --sync: replay this saved snapshot of a live feed instead of fetching")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(group, name: str, **options) -> argparse.ArgumentParser:
        return group.add_parser(name, parents=[shared], **options)

    borrowers = add(commands, "borrowers", help="the library's borrower list")
    borrower_commands = borrowers.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = add(borrower_commands, "import", help="load existing borrowers from an MLS-style CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--skip-invalid", action="store_true", help="import the good rows, skip bad ones")
    releaser = add(borrower_commands, "release", help="end a borrower's hold: the sync may recycle them again")
    releaser.add_argument("barcode")
    add(borrower_commands, "unlink", help="take a borrower's MIS link off (a hand fix; undo with intake undo)"
        ).add_argument("barcode")
    add(commands, "fetch", help="fetch the school's live feed into a new snapshot folder, nothing more; "
                                "prints the folder")
    add_intake_commands(commands, add)
    add_runs_commands(commands, add)
    add_koha_commands(commands, add)
    bin_parser = add(commands, "recycle-bin", help="borrowers who have left")
    bin_commands = bin_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add(bin_commands, "list", help="list recycled borrowers")
    restorer = add(bin_commands, "restore", help="put a recycled borrower back")
    restorer.add_argument("barcode")
    restorer.add_argument("--hold", action="store_true",
                          help="and hold them: the sync leaves them out of the recycle bin until the MIS has them on "
                               "roll again or 'borrowers release BARCODE'")
    purger = add(bin_commands, "purge", help="remove recycled borrowers for good (never with loans out)")
    purger.add_argument("--older-than", type=whole, required=True, metavar="DAYS")
    purger.add_argument("--dry-run", action="store_true", help="show who would be removed")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    # Before parsing succeeds, --json (or an abbreviation of it) is looked for by hand.
    as_json = any(len(a) > 2 and "--json".startswith(a) for a in argv)
    saved.set(False)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return ExitCode.OK if exc.code == 0 else ExitCode.USAGE
        as_json = args.json
        return _command(args)
    except Failure as failure:
        return fail(failure, as_json=as_json)
    except Exception as exc:  # noqa: BLE001 - a bug must not print a traceback that quotes a pupil's data
        from engine.api import stack_only

        print(f"mislink: unexpected error:\n{stack_only(exc)}", file=sys.stderr)
        done = saved.get()
        message = (f"unexpected error ({type(exc).__name__}) after the change was saved" if done
                   else f"unexpected error ({type(exc).__name__}), nothing written")
        if as_json:
            emit_json({"error": message, "exit_code": int(ExitCode.OK if done else ExitCode.FAILED)})
        return ExitCode.OK if done else ExitCode.FAILED


def _command(args: argparse.Namespace) -> int:
    from engine.api import ConfigError, load_config

    given = args.config is not None
    args.config = args.config or Path(CONFIG)
    if not args.config.is_file():
        raise Failure(ExitCode.USAGE, _no_config(args.config, given))
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise Failure(ExitCode.USAGE, f"configuration error: {exc}") from None
    if args.command == "borrowers" and args.action == "unlink":
        return unlink(config, args, show_names())
    if args.command == "borrowers" and args.action == "release":
        return release_hold(config, args, show_names())
    if args.command == "borrowers":
        return _import_borrowers(config, args)
    if args.command == "intake":
        return run_intake(config, args)
    if args.command == "runs":
        return run_runs(config, args)
    if args.command == "koha":
        return run_koha(config, args)
    if args.command == "recycle-bin":
        return recycle_bin.run(config, args, show_names)
    if args.command == "fetch":
        return _fetch(config, args)
    if args.sync:
        return sync.run(config, args, show_names)
    if args.snapshot:
        raise Failure(ExitCode.USAGE, "--snapshot goes with --sync")
    if args.dry_run or args.force:
        raise Failure(ExitCode.USAGE, "--dry-run and --force go with --sync")
    if args.rekey:
        raise Failure(ExitCode.USAGE, "--rekey goes with --sync")
    from tui.app import run  # deferred: a headless command never loads Textual

    return run(config, args.config)


def _no_config(path: Path, given: bool) -> str:
    where = path.absolute()
    if given:
        return f"no configuration file at {where} (given with --config): check the path"
    return (f"no configuration file at {where}: run mislink in the folder that holds {CONFIG}, or name the file "
            f"with `mislink --config PATH`")


def _fetch(config: Config, args: argparse.Namespace) -> int:
    """Fetch only: the snapshot folder on stdout; a failure is exit 1 (nothing
    kept), stale data exit 3, as for a sync."""
    from engine.api import ExportError, NotAFeed, StaleFeed, fetch_snapshot, one_line

    try:
        fetched = fetch_snapshot(config, pages=page_bars())
    except NotAFeed as exc:
        raise Failure(ExitCode.USAGE, str(exc)) from None
    except StaleFeed as exc:
        raise Failure(ExitCode.GUARD, f"fetch refused: {exc}") from None
    except ExportError as exc:
        raise Failure(ExitCode.FAILED, f"fetch failed, nothing kept: {one_line(exc, 300)}") from None
    if args.json:
        emit_json({"snapshot": str(fetched.snapshot), "full": fetched.full, "warnings": fetched.warnings,
                   "exit_code": int(ExitCode.OK)})
    else:
        for warning in fetched.warnings:
            complain(f"warning: {warning}")
        emit(str(fetched.snapshot))
    return ExitCode.OK


def _import_borrowers(config: Config, args: argparse.Namespace) -> int:
    from engine.api import import_borrowers

    def work(session):
        result = import_borrowers(session, args.file, config.barcodes, skip_invalid=args.skip_invalid)
        if not result.written:
            session.rollback()
        return result

    result = in_library(config, work, write=True)
    code = ExitCode.OK if result.written else ExitCode.FAILED
    name = args.file.name
    bad = len(result.problems)
    refusal = (f"{name}: nothing imported: {counted(bad, 'bad row')} (listed above); fix {'it' if bad == 1 else 'them'}"
               f", or import the rest with `mislink borrowers import {shlex.quote(str(args.file))} --skip-invalid`")
    if args.json:
        emit_json({"imported": result.imported, "already_present": result.already_present,
                   "written": result.written, "problems": [vars(p) for p in result.problems],
                   "warnings": [vars(w) for w in result.warnings],
                   "exit_code": int(code)} | ({} if result.written else {"error": refusal}))
        return code
    for problem in result.problems:
        complain(f"{name} {problem}")
    for warning in result.warnings:
        complain(f"warning: {name} {warning}")
    if result.written:
        emit(f"{name}: {_imported(result)}")
    else:
        complain(refusal)
    return code


def _imported(result) -> str:
    """"all 783 borrowers imported", "12 borrowers imported, 771 already in
    the library; 1 bad row skipped (see above)"."""
    imported, already, bad = result.imported, result.already_present, len(result.problems)
    if not imported:
        text = f"nothing new to import: {counted(already, 'borrower')} already in the library" if already \
            else "nothing imported"
    elif already:
        text = f"{counted(imported, 'borrower')} imported, {already:,} already in the library"
    else:
        text = f"{'all ' if imported > 1 and not bad else ''}{counted(imported, 'borrower')} imported"
    blank = len({w.line for w in result.warnings})
    return (text + (f"; {counted(bad, 'bad row')} skipped (see above)" if bad else "")
            + (f"; {blank:,} with a field left blank (see the warnings above)" if blank else ""))
