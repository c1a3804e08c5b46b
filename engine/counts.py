"""A sync's counts, typed.

``RunCounts`` has one field per count in the JSON report, the run log and the
stored ``sync_runs.counts``, in that order; ``to_json`` gives exactly the
dictionary those have always held. It is also a read-only mapping, so code
that still reads a count by its key (``counts["updated"]``) keeps working.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

from engine.plan import SyncPlan


# eq=False: equality is Mapping's, so counts equal the same counts as a dict
# (as read back from the library's JSON).
@dataclass(frozen=True, eq=False)
class RunCounts(Mapping):
    students_seen: int
    staff_seen: int
    # Person type -> was its export full (may absence mean leaving)?
    full_exports: dict[str, bool]
    matched_by_link: int
    matched_by_upn: int
    matched_by_name_dob: int
    matched_by_fuzzy: int
    # Borrowers re-linked to their person's new record after a change of MIS (engine.rekey).
    matched_by_rekey: int
    updated: int
    unchanged: int
    intake_added: int
    intake_refreshed: int
    intake_closed: int
    recycled: int
    # Of the recycled, those whose going was expected (marked or dated by the
    # MIS, or a leaving year at the roll-over) and those nobody expected; a
    # pre-admission who had not started is neither (engine.rollover).
    leavers_expected: int
    leavers_unexpected: int
    restored: int
    # Held borrowers the MIS has leaving, kept out of the recycle bin.
    held_not_recycled: int
    leavers_with_loans: int
    skipped_rejected: int
    # Switched-off field -> how many records it was removed from.
    fields_purged: dict[str, int]
    rejected: int

    @classmethod
    def of(cls, plan: SyncPlan) -> RunCounts:
        return cls(**plan.counts())

    def to_json(self) -> dict:
        return {name: dict(value) if isinstance(value, dict) else value for name, value in self.items()}

    def __getitem__(self, key: str):
        if key not in _NAMES:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_NAMES)

    def __len__(self) -> int:
        return len(_NAMES)


_NAMES = tuple(f.name for f in fields(RunCounts))
