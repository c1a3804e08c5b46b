"""Reading what the planner needs from the library, in a few bulk queries."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry, Loan, SyncRun
from engine.person import PersonType
from engine.plan import Snapshot

BORROWER_COLUMNS = [c for c in Borrower.__table__.columns if c.name not in ("created_at", "updated_at")]
INTAKE_COLUMNS = [IntakeEntry.id, IntakeEntry.person_type, IntakeEntry.mis_id, IntakeEntry.status,
                  IntakeEntry.reason, IntakeEntry.record]


def load_snapshot(session: Session) -> Snapshot:
    borrowers = [dict(row._mapping) for row in session.execute(select(*BORROWER_COLUMNS))]
    intake = {(PersonType(row.person_type), row.mis_id): dict(row._mapping)
              for row in session.execute(select(*INTAKE_COLUMNS))}
    loans_out = dict(session.execute(
        select(Loan.borrower_id, func.count()).where(Loan.returned_at.is_(None)).group_by(Loan.borrower_id)).all())
    last = session.execute(
        select(SyncRun.estab, SyncRun.counts).where(SyncRun.outcome == "ok", SyncRun.kind == "sync")
        .order_by(SyncRun.id.desc()).limit(1)).first()
    last_seen = None
    if last and last.counts:
        counts = json.loads(last.counts)
        last_seen = counts.get("students_seen", 0) + counts.get("staff_seen", 0)
    return Snapshot(borrowers, intake, loans_out, last.estab if last else None, last_seen)
