"""``mislink koha setup``: make a Koha library ready for mislink (the patron
attribute types, ``engine.koha.setup``). Says what it created, or that
nothing was needed; a database that is not Koha is refused, exit 1."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Callable

from cli.common import ExitCode, emit, emit_json, library_errors

if TYPE_CHECKING:
    from engine.api import Config


def add_koha_commands(subparsers, add: Callable[..., argparse.ArgumentParser]) -> None:
    koha = add(subparsers, "koha", help="a Koha library (library.kind = \"koha\")")
    actions = koha.add_subparsers(dest="action", required=True, metavar="ACTION")
    add(actions, "setup", help="create the patron attribute types mislink uses, where missing")


def run_koha(config: Config, args: argparse.Namespace) -> int:
    from engine.api import setup_koha

    with library_errors(config, write=True):
        created = setup_koha(config)
    if args.json:
        emit_json({"created": created})
    elif created:
        emit(f"created the patron attribute type{'s' if len(created) > 1 else ''} {', '.join(created)}")
    else:
        emit("nothing to do: every patron attribute type mislink uses exists")
    return ExitCode.OK
