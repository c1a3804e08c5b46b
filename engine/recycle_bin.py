"""The borrowers' recycle bin: list, restore, hold, and purge after a retention period.

A sync only ever moves leavers into the bin. Taking a borrower out of the
library for good is a separate, deliberate step: ``purge_recycled`` removes
borrowers recycled more than N days ago, and only those with no loans out.

A restore may hold the borrower (``held_at``, ``held_by``): the sync then
leaves them out of the recycle bin though the MIS has them leaving, and counts
them in its report, until the MIS has them on roll again (the sync ends the
hold, recorded as an event) or a person releases it (``release_hold``).
Without a hold, a restored borrower who is linked to an MIS person is
recycled again by the next sync unless the MIS has changed its mind: the
result says so (``returns_to_bin``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.apply import EventLog
from engine.koha.bridge import session_bridge
from engine.barcodes import stored_barcode, did_you_mean
from engine.errors import NextStep, Refusal
from engine.models import (Borrower, BorrowerPhoto, Guardian, IntakeEntry, Loan, RunChange, SyncEvent, SyncRun,
                           utcnow)


class RecycleBinError(Refusal):
    """The request cannot be carried out; the message says why."""


@dataclass(frozen=True)
class RecycledBorrower:
    borrower_id: int
    barcode: str
    forename: str
    surname: str
    tutor_group: str | None
    recycled_at: datetime | None
    reason: str | None
    loans_out: int
    # Set for a borrower restored with a hold (then active, not recycled).
    held_at: datetime | None = None
    held_by: str | None = None
    # A restore without a hold of a borrower the MIS had leaving at the last
    # sync: the next sync recycles them again.
    returns_to_bin: bool = False

    @property
    def held(self) -> bool:
        return self.held_at is not None

    @property
    def hold_note(self) -> str:
        """"held since 2026-09-03 by jsmith", or "" if not held."""
        return hold_note(self.held_at, self.held_by)


def hold_note(held_at: datetime | None, held_by: str | None) -> str:
    return f"held since {held_at:%Y-%m-%d} by {held_by}" if held_at is not None else ""


HELD_BY_WIDTH = Borrower.__table__.c.held_by.type.length


def list_recycled(session: Session, *, with_held: bool = False) -> list[RecycledBorrower]:
    """The recycled borrowers, longest in the bin first; ``with_held`` adds,
    after them, the borrowers restored with a hold, oldest hold first."""
    loans = (select(Loan.borrower_id, func.count().label("n")).where(Loan.returned_at.is_(None))
             .group_by(Loan.borrower_id).subquery())
    columns = select(Borrower.id, Borrower.barcode, Borrower.forename, Borrower.surname, Borrower.tutor_group,
                     Borrower.recycled_at, Borrower.recycled_reason, func.coalesce(loans.c.n, 0), Borrower.held_at,
                     Borrower.held_by).outerjoin(loans, loans.c.borrower_id == Borrower.id)
    rows = list(session.execute(columns.where(Borrower.status == "recycled")
                                .order_by(Borrower.recycled_at, Borrower.barcode)))
    if with_held:
        rows += session.execute(columns.where(Borrower.status == "active", Borrower.held_at.is_not(None))
                                .order_by(Borrower.held_at, Borrower.barcode))
    return [RecycledBorrower(*row) for row in rows]


def restore(session: Session, barcode: str, actor: str, *, hold: bool = False) -> RecycledBorrower:
    """Put a recycled borrower back, with the tutor group they had (none if
    they had none). With ``hold``, hold them too; an active borrower who is
    not held yet (restored earlier without a hold) is then only held. The
    barcode may be typed in any case or accent form (``stored_barcode``), so
    every database finds the same borrower."""
    borrower = _borrower(session, barcode)
    now = utcnow()
    events = EventLog(None, actor, now)
    if borrower.status == "recycled":
        events.add("restored", borrower_id=borrower.id, field="status", old="recycled", new="active")
        if borrower.tutor_group != borrower.group_before_recycle:
            events.add("updated", borrower_id=borrower.id, field="tutor_group", old=borrower.tutor_group,
                       new=borrower.group_before_recycle)
            borrower.tutor_group = borrower.group_before_recycle
        borrower.status, borrower.recycled_at, borrower.recycled_reason = "active", None, None
        borrower.group_before_recycle, borrower.updated_at = None, now
    elif not hold:
        raise RecycleBinError(f"borrower {borrower.barcode} is not in the recycle bin",
                              next_step=NextStep.LIST_RECYCLED)
    elif borrower.held_at is not None:
        raise RecycleBinError(f"borrower {borrower.barcode} is already {hold_note(borrower.held_at, borrower.held_by)}",
                              next_step=NextStep.RELEASE, subject=borrower.barcode)
    if hold:
        borrower.held_at, borrower.held_by, borrower.updated_at = now, actor[:HELD_BY_WIDTH], now
        events.add("held", borrower_id=borrower.id, field="held_by", new=borrower.held_by)
    events.flush(session)
    return _result(borrower, returns_to_bin=not hold and borrower.mis_id is not None)


def release_hold(session: Session, barcode: str, actor: str) -> RecycledBorrower:
    """End a borrower's hold: from the next sync on, the MIS decides again
    whether they are recycled (``returns_to_bin`` if they are linked to it)."""
    borrower = _borrower(session, barcode)
    if borrower.held_at is None:
        raise RecycleBinError(f"borrower {borrower.barcode} is not held", next_step=NextStep.LIST_RECYCLED)
    now = utcnow()
    events = EventLog(None, actor, now)
    events.add("hold_released", borrower_id=borrower.id, field="held_by", old=borrower.held_by)
    borrower.held_at, borrower.held_by, borrower.updated_at = None, None, now
    events.flush(session)
    return _result(borrower, returns_to_bin=borrower.mis_id is not None)


def _borrower(session: Session, barcode: str) -> Borrower:
    found = stored_barcode(barcode, session.scalars(select(Borrower.barcode)))
    borrower = None if found is None else session.scalars(select(Borrower).where(Borrower.barcode == found)).first()
    if borrower is None:
        raise RecycleBinError(f"no borrower has barcode {barcode}"
                              + did_you_mean(barcode, session.scalars(select(Borrower.barcode))),
                              next_step=NextStep.SEARCH_BORROWERS)
    return borrower


def _result(borrower: Borrower, *, returns_to_bin: bool) -> RecycledBorrower:
    return RecycledBorrower(borrower.id, borrower.barcode, borrower.forename, borrower.surname,
                            borrower.tutor_group, None, None, 0, borrower.held_at, borrower.held_by, returns_to_bin)


def purgeable(session: Session, older_than_days: int, now: datetime | None = None) -> list[RecycledBorrower]:
    """Recycled borrowers past the retention period with no loans out."""
    if session_bridge(session) is not None:
        raise RecycleBinError("a Koha library has no recycle bin to purge: leavers stay in Koha's leaver category "
                              "(koha.leaver_category), and mislink never deletes a Koha patron")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    return [b for b in list_recycled(session)
            if b.recycled_at is not None and b.recycled_at <= cutoff and b.loans_out == 0]


def purge_recycled(session: Session, older_than_days: int, actor: str,
                   now: datetime | None = None) -> list[RecycledBorrower]:
    """Remove them for good: with their loan history, photos, guardians, their
    Intake entries and every audit event about them, since those hold their
    names and details too. The audit trail keeps one 'purged' event per
    borrower, naming only the barcode."""
    now = now or utcnow()
    doomed = purgeable(session, older_than_days, now)
    if not doomed:
        return []
    run = SyncRun(kind="purge", source="recycle bin", started_at=now, finished_at=now, outcome="ok")
    session.add(run)
    session.flush()
    events = EventLog(run.id, actor, now)
    for chunk in _chunks([b.borrower_id for b in doomed], 500):
        entries = select(IntakeEntry.id).where(IntakeEntry.borrower_id.in_(chunk)).scalar_subquery()
        session.execute(delete(SyncEvent).where(SyncEvent.intake_id.in_(entries)))
        # What runs recorded of them holds their details too (and an id the
        # database may hand out again): it goes, and those runs cannot bring them back.
        session.execute(delete(RunChange).where(RunChange.table_name == "intake", RunChange.row_id.in_(entries)))
        session.execute(delete(RunChange).where(RunChange.table_name == "borrowers", RunChange.row_id.in_(chunk)))
        session.execute(delete(IntakeEntry).where(IntakeEntry.borrower_id.in_(chunk)))
        for model in (Loan, BorrowerPhoto, Guardian, SyncEvent):
            session.execute(delete(model).where(model.borrower_id.in_(chunk)))
        session.execute(delete(Borrower).where(Borrower.id.in_(chunk)))
    for borrower in doomed:
        events.add("purged_from_recycle_bin", field="barcode", old=borrower.barcode)
    events.flush(session)
    return doomed


def _chunks(items: list[int], size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
