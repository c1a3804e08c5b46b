"""Safety guards: a plan that looks like a broken feed is stopped before writing.

An empty or much-shrunken export, a run that would recycle a large share of the
library, or an export from a different school than last time all stop the run
(exit code 3) unless the technician passes ``--force``.
"""
from __future__ import annotations

from engine.config import SyncSettings
from engine.plan import Snapshot, SyncPlan


def guard_failures(plan: SyncPlan, snapshot: Snapshot, settings: SyncSettings) -> list[str]:
    """Reasons this plan should not be applied without --force; empty if none."""
    reasons = []
    seen = sum(plan.seen.values())
    if seen == 0:
        reasons.append("the export holds nobody at all")
    elif snapshot.last_seen and seen < settings.min_export_share * snapshot.last_seen:
        reasons.append(f"the export holds {seen} people, under {settings.min_export_share:.0%} of the "
                       f"{snapshot.last_seen} in the last successful sync")
    if plan.active_borrowers and len(plan.recycles) > settings.max_recycle_share * plan.active_borrowers:
        reasons.append(f"it would recycle {len(plan.recycles)} of {plan.active_borrowers} active borrowers, "
                       f"more than sync.max_recycle_share ({settings.max_recycle_share:.0%})")
    if snapshot.last_estab and plan.estab and plan.estab != snapshot.last_estab:
        reasons.append(f"the export is from establishment {plan.estab}, but the last sync was from "
                       f"{snapshot.last_estab}: a different school")
    return reasons
