"""Restore holds on the command line: ``recycle-bin restore BARCODE --hold``'s
advice and ``borrowers release BARCODE``, and the recycle bin's rows as JSON
(a held borrower is listed with the recycled ones, marked by ``held_at``)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import ExitCode, emit, emit_json, in_library

if TYPE_CHECKING:
    from engine.api import Config, RecycledBorrower


def bin_json(row: RecycledBorrower, names: bool) -> dict:
    return ({**vars(row), "recycled_at": row.recycled_at.isoformat() if row.recycled_at else None,
             "held_at": row.held_at.isoformat() if row.held_at else None}
            | ({} if names else {"forename": None, "surname": None}))


def hold_advice(row: RecycledBorrower) -> None:
    """What the next sync will do with a borrower just restored or released."""
    if row.held:
        emit(f"{row.barcode} is {row.hold_note}: the sync leaves them out of the recycle bin until the MIS has them "
             f"on roll again or `mislink borrowers release {row.barcode}` ends the hold")
    elif row.returns_to_bin:
        emit(f"the MIS had {row.barcode} leaving at the last sync: the next sync will recycle them again unless you "
             f"restore with --hold: `mislink recycle-bin restore {row.barcode} --hold`")


def release_hold(config: Config, args: argparse.Namespace, names: bool) -> int:
    """``borrowers release BARCODE``: the MIS decides again, from the next sync."""
    from engine.api import current_user, release_hold as release

    row = in_library(config, lambda session: release(session, args.barcode, actor=current_user()), write=True)
    if args.json:
        emit_json(bin_json(row, names))
        return ExitCode.OK
    emit(f"{row.barcode}: hold released")
    if row.returns_to_bin:
        emit(f"the next sync recycles {row.barcode} if the MIS still has them leaving")
    return ExitCode.OK
