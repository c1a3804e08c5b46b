"""``mislink borrowers unlink BARCODE``: take a borrower's MIS link off by hand
(``engine.links``). One transaction; printed once it has committed. A refusal
(no such barcode, no link) says why on stderr and exits 1, nothing written."""
from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from cli.common import ExitCode, emit, emit_json, in_library

if TYPE_CHECKING:
    from engine.api import Config


def unlink(config: Config, args: argparse.Namespace, names: bool) -> int:
    from engine.api import current_user, unlink_borrower

    done = in_library(config, lambda session: unlink_borrower(session, args.barcode, actor=current_user()),
                      write=True)
    if args.json:
        emit_json(dataclasses.asdict(done) | ({} if names else {"name": None}))
        return ExitCode.OK
    who = f"{done.barcode} ({done.name})" if names else done.barcode
    emit(f"Unlinked borrower {who} from {done.linked_to}; the next sync may match it again by UPN, or by name and "
         f"date of birth. Undo with `mislink intake undo {done.decision_id}`.")
    return ExitCode.OK
