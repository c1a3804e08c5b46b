"""``mislink runs …``: the runs, what each changed, and undoing a whole one.

    mislink runs list [--limit N]
    mislink runs show ID
    mislink runs undo ID [--dry-run] [--force]

Each is one call into ``engine.runs`` in one transaction: an undo holds the
library lock, a dry run only reads. ``--json`` (before or after the action)
prints one JSON object. A refusal (no such run, one that wrote nothing or was
undone already, nothing left to put back) prints its reason on stderr (and,
with ``--json``, as a JSON error) and exits 1; nothing is written. These are
commands a person runs to look at records, so they name borrowers.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Callable

from cli.common import ExitCode, Failure, emit, emit_json, fail, in_library, whole

if TYPE_CHECKING:
    from engine.api import Config

LISTED = 20


def add_runs_commands(subparsers, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``runs`` and its actions to the top-level parser's subcommands
    (``add`` as for ``cli.intake.add_intake_commands``)."""
    runs = add(subparsers, "runs", help="the sync runs and imports, what each changed, and undoing one")
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    add(actions, "list", help="the latest runs, newest first").add_argument(
        "--limit", type=whole, help=f"how many (the latest {LISTED})")
    add(actions, "show", help="what a run changed, by kind, with counts").add_argument("id", type=whole)
    undo = add(actions, "undo", help="put back every change a run made (a run of its own, which can be undone)")
    undo.add_argument("id", type=whole)
    # SUPPRESS: the top-level --dry-run and --force (for --sync) already give the defaults.
    undo.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS,
                      help="say what would be put back and what left alone; write nothing")
    undo.add_argument("--force", action="store_true", default=argparse.SUPPRESS,
                      help="put back even what was changed since the run")


def run_runs(config: Config, args: argparse.Namespace) -> int:
    from engine import api

    as_json = getattr(args, "json", False)
    try:
        data, text = in_library(config, lambda session: _run(api, session, args),
                                write=args.action == "undo" and not args.dry_run)
    except Failure as failure:
        return fail(failure, as_json=as_json)
    emit_json(data) if as_json else emit(text)
    return ExitCode.OK


def _run(api, session, args: argparse.Namespace) -> tuple[dict, str]:
    """One action: its JSON form and its text for people."""
    if args.action == "list":
        return _list(api.list_runs(session, args.limit or LISTED))
    if args.action == "show":
        return _show(api, api.show_run(session, args.id))
    return _undone(api, api.undo_run(session, args.id, force=args.force, dry_run=args.dry_run,
                                     actor=api.current_user()))


def _list(runs) -> tuple[dict, str]:
    lines = [f"{'ID':>6}  {'STARTED':<16}  {'KIND':<7} {'OUTCOME':<8} {'ROWS':>6}  NOTE"]
    lines += [f"{r.run_id:>6}  {_when(r.started_at):<16}  {r.kind:<7} {r.outcome:<8} {r.rows_changed:>6}  {_note(r)}"
              .rstrip() for r in runs]
    lines.append(f"{len(runs)} run{'s' if len(runs) != 1 else ''}; see one with `mislink runs show ID`")
    return {"runs": [dataclasses.asdict(r) for r in runs]}, "\n".join(lines)


def _note(run) -> str:
    notes = [f"undoes run {run.undo_of}" if run.undo_of else "", f"undone by run {run.undone_by_run}"
             if run.undone_by_run else ""]
    return "; ".join(n for n in notes if n)


def _show(api, detail) -> tuple[dict, str]:
    run = detail.run
    lines = [f"Run {run.run_id}: {run.kind} started {_when(run.started_at)}, {run.outcome}"
             + (f", from {run.source}" if run.source else "")]
    if run.message:
        lines.append(f"  {run.message}")
    lines += _kinds(api, detail.changes, detail.fields)
    if not detail.changes:
        lines.append("  no change recorded")
    note = _note(run)
    if note:
        lines.append(f"  {note[0].upper()}{note[1:]}.")
    lines.append(f"It cannot be undone: {detail.not_undoable}." if detail.not_undoable else
                 f"Undo it with `mislink runs undo {run.run_id}` (--dry-run first says what it would put back).")
    return dataclasses.asdict(detail), "\n".join(lines)


def _kinds(api, changes: dict[str, int], fields: dict[str, int]) -> list[str]:
    lines = []
    for kind, text in api.RUN_CHANGE_KINDS.items():
        if changes.get(kind):
            detail = ", ".join(f"{f} {n}" for f, n in sorted(fields.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"  {text}: {changes[kind]}" + (f" ({detail})" if kind == "updated" and detail else ""))
    return lines


def _undone(api, result) -> tuple[dict, str]:
    put, left = len(result.put_back), len(result.left_alone)
    if result.dry_run:
        head = f"Undoing run {result.run_id} would put back {put} change{'s' if put != 1 else ''}" + \
            (f" and leave {left} alone" if left else "") + ". Nothing was written."
    else:
        head = f"Undid run {result.run_id} (as run {result.undo_run_id}): {put} change{'s' if put != 1 else ''} " \
               f"put back" + (f", {left} left alone" if left else "") + "."
    lines = [head, *_kinds(api, result.changes, result.fields), "Put back:" if put else ""]
    lines += [f"  {_item(api, item)}" for item in result.put_back]
    if left:
        lines.append("Left alone" + ("" if result.forced else " (--force puts back what was changed since)") + ":")
        lines += [f"  {_item(api, item)}: {item.why}" for item in result.left_alone]
    return dataclasses.asdict(result), "\n".join(line for line in lines if line)


def _item(api, item) -> str:
    if item.field == api.WHOLE_ROW:
        return f"{item.label}: {item.now} → {item.back_to}"
    was = f" (the run left {_value(item.run_left)})" if item.run_left is not None else ""
    return f"{item.label} {item.field}: {_value(item.now)}{was} → {_value(item.back_to)}"


def _value(value) -> str:
    return "(none)" if value is None else str(value)


def _when(stamp) -> str:
    return f"{stamp:%Y-%m-%d %H:%M}" if stamp else ""
