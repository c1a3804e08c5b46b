"""Safety guards: a plan that looks like a broken feed is stopped before writing.

An empty or much-shrunken full export, a run that would recycle a large share
of the library unexpectedly, or an export from a different school than last
time all stop the run (exit code 3) unless the technician passes ``--force``.
Leavers the school expects (marked or dated by the MIS, a leaving year at the
summer roll-over: engine.rollover) are not counted against the share. A delta or
partial export is never judged by its size: it only ever holds some rows.
"""
from __future__ import annotations

from engine.config import SyncSettings
from engine.person import PersonType
from engine.plan import Snapshot, SyncPlan
from engine.rollover import EXPECTED, Departure
from engine.text import counted


def guard_failures(plan: SyncPlan, snapshot: Snapshot, settings: SyncSettings) -> list[str]:
    """Reasons this plan should not be applied without --force; empty if none."""
    reasons = []
    for person_type in PersonType:
        if not plan.complete.get(person_type):
            continue
        seen, before = plan.seen[person_type], snapshot.last_seen.get(person_type)
        label = "students" if person_type is PersonType.STUDENT else "staff"
        held = counted(seen, "student") if person_type is PersonType.STUDENT else f"{seen:,} staff"
        if seen == 0 and (person_type is PersonType.STUDENT or before):
            reasons.append(f"the export holds no {label} at all")
        elif before and seen < settings.min_export_share * before:
            reasons.append(f"the export holds {held}, under {settings.min_export_share:.0%} of the "
                           f"{before} in the last full export")
    unexpected = sum(1 for r in plan.recycles if r.departure is Departure.UNEXPECTED)
    if plan.active_borrowers and unexpected > settings.max_recycle_share * plan.active_borrowers:
        expected = sum(1 for r in plan.recycles if r.departure in EXPECTED)
        reasons.append(f"it would recycle {unexpected} of {plan.active_borrowers} active borrowers unexpectedly, "
                       f"more than sync.max_recycle_share ({settings.max_recycle_share:.0%})"
                       + (f"; {expected} more are expected leavers" if expected else ""))
    if snapshot.last_estab and plan.estab and plan.estab != snapshot.last_estab:
        reasons.append(f"the export is from establishment {plan.estab}, but earlier syncs were from "
                       f"{snapshot.last_estab}: a different school")
    return reasons


def guard_warnings(plan: SyncPlan, snapshot: Snapshot) -> list[str]:
    """Things worth a line in the report that do not stop the run."""
    if snapshot.last_estab and not plan.estab:
        return [f"the export has no SchoolInfo, so it cannot be checked to be the same school "
                f"(establishment {snapshot.last_estab}) as before"]
    return []


def mis_change_stop(plan: SyncPlan) -> str | None:
    """Why a change of MIS (``plan.mis_change``, engine.rekey) stops this plan
    until a person confirms it with ``--rekey``; None when the plan shows no
    change, or one that moves no link (an MIS renamed with its ids kept).
    ``--force`` also passes it: the plan, re-links included, is the same."""
    change = plan.mis_change
    if change is None or not change.needs_rekey:
        return None
    return (f"a change of MIS was detected ({change.why}). {change.summary}; "
            "run `mislink --sync --rekey` to re-link them")
