"""Reading what the planner needs from the library, in a few bulk queries."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, Loan, SyncRun
from engine.person import PersonType
from engine.plan import SEEN_KEYS, Snapshot

BORROWER_COLUMNS = [c for c in Borrower.__table__.columns if c.name not in ("created_at", "updated_at")]
INTAKE_COLUMNS = [IntakeEntry.id, IntakeEntry.person_type, IntakeEntry.mis_id, IntakeEntry.status,
                  IntakeEntry.reason, IntakeEntry.record]


def load_snapshot(session: Session) -> Snapshot:
    borrowers = [dict(row._mapping) for row in session.execute(select(*BORROWER_COLUMNS))]
    intake = {(PersonType(row.person_type), row.mis_id): dict(row._mapping)
              for row in session.execute(select(*INTAKE_COLUMNS))}
    loans_out = dict(session.execute(
        select(Loan.borrower_id, func.count()).where(Loan.returned_at.is_(None)).group_by(Loan.borrower_id)).all())
    return Snapshot(borrowers, intake, loans_out, _last_estab(session), _last_seen(session))


def _last_estab(session: Session) -> str | None:
    """The school of the last successful sync that said which school it was."""
    return session.scalar(select(SyncRun.estab).where(SyncRun.outcome == "ok", SyncRun.kind == "sync",
                                                      SyncRun.estab.is_not(None))
                          .order_by(SyncRun.id.desc()).limit(1))


def _last_seen(session: Session) -> dict[PersonType, int]:
    """How many of each person type the last full exports held: a delta
    export's handful of changed rows says nothing about the school's size."""
    seen: dict[PersonType, int] = {}
    runs = session.scalars(select(SyncRun.counts).where(SyncRun.outcome == "ok", SyncRun.kind == "sync")
                           .order_by(SyncRun.id.desc()).limit(50))
    for counts in map(json.loads, filter(None, runs)):
        for person_type in PersonType:
            if person_type not in seen and counts.get("full_exports", {}).get(person_type.value):
                seen[person_type] = counts[SEEN_KEYS[person_type]]
    return seen
