"""Taking a borrower's MIS link off by hand, for the rare fix a person must make
(``mislink borrowers unlink BARCODE``).

``unlink_borrower`` clears the borrower's link columns (MIS person type and
id, IdaasId, ExternalId) and nothing else: the borrower keeps its barcode,
names, loans and status. The next sync treats it as any unlinked borrower: a
person in the export may match it by UPN, or by name and date of birth, or
in Intake. It is recorded as an ``unlinked`` event per cleared column, with
the old value, and as an ``IntakeDecision`` (action ``unlink``), so that
``mislink intake undo`` puts the link back exactly, unless something has
changed it since. Refused, with nothing written, for a barcode no borrower
has or a borrower with no link. Works in the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.apply import EventLog
from engine.barcodes import did_you_mean
from engine.decisions import ChangeRecorder
from engine.errors import NextStep, Refusal
from engine.intake.queue import borrower_by_barcode
from engine.models import Borrower, utcnow
from engine.rekey import link_moves
from engine.suggest import link_label

UNLINK = "unlink"


class UnlinkRefused(Refusal):
    """The borrower cannot be unlinked; the message says why."""


@dataclass(frozen=True)
class Unlinked:
    decision_id: int
    barcode: str
    name: str
    # Who it was linked to ("student 3116"), and each cleared column's old value.
    linked_to: str
    cleared: dict[str, str | None]


def unlink_borrower(session: Session, barcode: str, *, actor: str, now: datetime | None = None) -> Unlinked:
    now = now or utcnow()
    row = borrower_by_barcode(session, barcode)
    if row is None:
        raise UnlinkRefused(f"there is no borrower with barcode {barcode}"
                            + did_you_mean(barcode, session.scalars(select(Borrower.barcode))),
                            next_step=NextStep.SEARCH_BORROWERS)
    barcode = row["barcode"]
    moves = link_moves(row, None)
    if not moves:
        raise UnlinkRefused(f"borrower {barcode} is not linked to an MIS person: there is nothing to unlink",
                            next_step=NextStep.SEARCH_BORROWERS)
    linked_to = link_label(row)
    recorder = ChangeRecorder(session)
    recorder.touch("borrowers", row["id"])
    session.execute(update(Borrower).where(Borrower.id == row["id"])
                    .values({**{column: None for column, _, _ in moves}, "updated_at": now}))
    events = EventLog(None, actor, now)
    for column, old, _ in moves:
        events.add("unlinked", borrower_id=row["id"], field=column, old=old)
    events.flush(session)
    decision = recorder.save(UNLINK, f"unlinked borrower {barcode} from {linked_to}", actor, now)
    name = " ".join(str(n) for n in (row["forename"], row["surname"]) if n)
    return Unlinked(decision.id, barcode, name, linked_to, {column: old for column, old, _ in moves})
