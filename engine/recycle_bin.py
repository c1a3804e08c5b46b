"""The borrowers' recycle bin: list, restore, and purge after a retention period.

A sync only ever moves leavers into the bin. Taking a borrower out of the
library for good is a separate, deliberate step: ``purge_recycled`` removes
borrowers recycled more than N days ago, and only those with no loans out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.apply import EventLog
from engine.barcodes import stored_barcode
from engine.errors import Refusal
from engine.models import Borrower, BorrowerPhoto, Guardian, IntakeEntry, Loan, SyncEvent, SyncRun, utcnow


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


def list_recycled(session: Session) -> list[RecycledBorrower]:
    loans = (select(Loan.borrower_id, func.count().label("n")).where(Loan.returned_at.is_(None))
             .group_by(Loan.borrower_id).subquery())
    rows = session.execute(
        select(Borrower.id, Borrower.barcode, Borrower.forename, Borrower.surname, Borrower.tutor_group,
               Borrower.recycled_at, Borrower.recycled_reason, func.coalesce(loans.c.n, 0))
        .outerjoin(loans, loans.c.borrower_id == Borrower.id)
        .where(Borrower.status == "recycled").order_by(Borrower.recycled_at, Borrower.barcode))
    return [RecycledBorrower(*row) for row in rows]


def restore(session: Session, barcode: str, actor: str) -> RecycledBorrower:
    """Put a recycled borrower back, with the tutor group they had. The
    barcode may be typed in any case or accent form (``stored_barcode``), so
    every database finds the same borrower."""
    found = stored_barcode(barcode, session.scalars(select(Borrower.barcode)))
    borrower = None if found is None else session.scalars(select(Borrower).where(Borrower.barcode == found)).first()
    if borrower is None:
        raise RecycleBinError(f"no borrower has barcode {barcode}")
    if borrower.status != "recycled":
        raise RecycleBinError(f"borrower {barcode} is not in the recycle bin")
    now = utcnow()
    events = EventLog(None, actor, now)
    events.add("restored", borrower_id=borrower.id, field="status", old="recycled", new="active")
    if borrower.group_before_recycle:
        events.add("updated", borrower_id=borrower.id, field="tutor_group", old=borrower.tutor_group,
                   new=borrower.group_before_recycle)
        borrower.tutor_group = borrower.group_before_recycle
    borrower.status, borrower.recycled_at, borrower.recycled_reason = "active", None, None
    borrower.group_before_recycle, borrower.updated_at = None, now
    events.flush(session)
    return RecycledBorrower(borrower.id, borrower.barcode, borrower.forename, borrower.surname,
                            borrower.tutor_group, None, None, 0)


def purgeable(session: Session, older_than_days: int, now: datetime | None = None) -> list[RecycledBorrower]:
    """Recycled borrowers past the retention period with no loans out."""
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
