"""What the next sync will remove because data has been switched off: the
counts shown before a ``data.*`` switch is turned off.

Read only. The columns and Intake record keys each switch lets in are those
``engine.optional_data`` declares, as the planner's are, so this counts what
``plan_sync`` removes, keyed as a sync report's ``fields_purged`` is: a
borrower column (``photo_digest``), or ``intake.`` and a record key
(``intake.photo``). A photo or guardian column going also takes the
borrower's rows in ``borrower_photos`` or ``guardians`` with it.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Borrower, IntakeEntry
from engine.optional_data import fields_for
from engine.text import json_object


def removals(session: Session, switched_off: Iterable[str]) -> dict[str, int]:
    """For the ``[data]`` switches named (``"photos"``, ``"email"``…), how
    many borrowers and Intake records hold each field that the next sync will
    remove; fields nobody holds are left out."""
    off = fields_for(switched_off)
    counts: Counter = Counter()
    for column in (c for optional in off for c in optional.columns):
        counts[column] = session.scalar(select(func.count()).select_from(Borrower)
                                        .where(getattr(Borrower, column).is_not(None)))
    keys = [key for optional in off for key in optional.record_keys]
    if keys:
        for record in session.scalars(select(IntakeEntry.record)):
            # A record that cannot be read holds nothing to count.
            stored = json_object(record) or {}
            counts.update(f"intake.{key}" for key in keys if stored.get(key) is not None)
    return {field: count for field, count in counts.items() if count}

