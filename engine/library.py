"""Reading what the planner needs from the library, in a few bulk queries.

Nothing stored in the library may stop a sync: a value the engine cannot use
(a date SQLite holds as any text, a person type it does not know, a run's
counts that are not JSON) is reported by barcode or id and left alone.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, func, select
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, Loan, SyncRun
from engine.person import PersonType
from engine.plan import SEEN_KEYS, Snapshot
from engine.run_status import RunOutcome
from engine.stored_values import RAW, lenient_columns, read_as, stored_time
from engine.text import json_object

_PERSON_TYPES = {t.value for t in PersonType}
_SNAPSHOT_COLUMNS = [c for c in Borrower.__table__.columns if c.name not in ("created_at", "updated_at")]
# For every reader of borrowers: an unreadable stored date reads as None.
BORROWER_COLUMNS = lenient_columns(Borrower.__table__, leave_out=("created_at", "updated_at"))
# The snapshot reads dates raw, to report the ones it cannot use.
_RAW_COLUMNS = [read_as(c, RAW) for c in _SNAPSHOT_COLUMNS]
_TIME_KINDS = {c.name: date if isinstance(c.type, Date) else datetime
               for c in _SNAPSHOT_COLUMNS if isinstance(c.type, (Date, DateTime))}
INTAKE_COLUMNS = [IntakeEntry.id, IntakeEntry.person_type, IntakeEntry.mis_id, IntakeEntry.status,
                  IntakeEntry.reason, IntakeEntry.record]


def load_snapshot(session: Session) -> Snapshot:
    warnings: list[str] = []
    borrowers = [b for b in _borrower_rows(session, warnings) if _usable(b, warnings)]
    intake = {}
    for row in session.execute(select(*INTAKE_COLUMNS)):
        if row.person_type in _PERSON_TYPES:
            intake[(PersonType(row.person_type), row.mis_id)] = dict(row._mapping)
        else:
            warnings.append(f"Intake entry {row.id}: its person type is not student or staff; left alone")
    loans_out = dict(session.execute(
        select(Loan.borrower_id, func.count()).where(Loan.returned_at.is_(None)).group_by(Loan.borrower_id)).all())
    return Snapshot(borrowers, intake, loans_out, _last_estab(session), _last_seen(session), warnings,
                    last_mis_name=_last_mis_name(session))


def _borrower_rows(session: Session, warnings: list[str]) -> list[dict]:
    """Every borrower; dates as the database gives them, unless one cannot be
    read (only SQLite can hold such a value): then all are read raw, and each
    unreadable one is reported and taken as empty."""
    try:
        return [dict(row._mapping) for row in session.execute(select(*_SNAPSHOT_COLUMNS))]
    except (ValueError, TypeError):
        pass
    borrowers = [dict(row._mapping) for row in session.execute(select(*_RAW_COLUMNS))]
    for borrower in borrowers:
        for name, kind in _TIME_KINDS.items():
            raw = borrower[name]
            borrower[name] = stored_time(raw, kind)
            if raw is not None and borrower[name] is None:
                warnings.append(f"borrower {borrower['barcode']}: the stored {name} is not a {kind.__name__}; "
                                "read as empty")
    return borrowers


def _usable(borrower: dict, warnings: list[str]) -> bool:
    if borrower["mis_person_type"] is None or borrower["mis_person_type"] in _PERSON_TYPES:
        return True
    warnings.append(f"borrower {borrower['barcode']}: its MIS person type is not student or staff; "
                    "left alone by this sync")
    return False


# A sync that stands: it succeeded and has not been undone since (an undone
# run's export is not the last word on the school, its MIS or its size).
_STANDING_SYNC = (SyncRun.outcome == RunOutcome.OK, SyncRun.kind == "sync", SyncRun.undone_by_run.is_(None))


def _last_estab(session: Session) -> str | None:
    """The school of the last standing sync that said which school it was."""
    return session.scalar(select(SyncRun.estab).where(*_STANDING_SYNC, SyncRun.estab.is_not(None))
                          .order_by(SyncRun.id.desc()).limit(1))


def _last_mis_name(session: Session) -> str | None:
    """The MIS of the last standing sync that said which MIS it was."""
    return session.scalar(select(SyncRun.mis_name).where(*_STANDING_SYNC, SyncRun.mis_name.is_not(None))
                          .order_by(SyncRun.id.desc()).limit(1))


def _last_seen(session: Session) -> dict[PersonType, int]:
    """How many of each person type the last full exports held: a delta
    export's handful of changed rows says nothing about the school's size.
    A run whose counts cannot be read is passed over."""
    seen: dict[PersonType, int] = {}
    runs = session.scalars(select(SyncRun.counts).where(*_STANDING_SYNC).order_by(SyncRun.id.desc()).limit(50))
    for counts in (json_object(run) or {} for run in runs):
        full = counts.get("full_exports")
        for person_type in PersonType:
            number = counts.get(SEEN_KEYS[person_type])
            if (person_type not in seen and isinstance(full, dict) and full.get(person_type.value)
                    and type(number) is int):
                seen[person_type] = number
    return seen
