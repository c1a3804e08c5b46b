"""The library-target seam: the library system whose borrowers a sync keeps right.

A ``LibraryTarget`` is what the planner reads from the library and what apply
writes to it. Every method works in the caller's session and transaction on
the library database (``library.url``): it never commits, rolls back or opens
a connection of its own, so a run is still one transaction and the library
lock still covers it. Its contract:

- ``snapshot(session)`` -> ``engine.plan.Snapshot``: every borrower as a dict
  of the planner's columns (id, barcode, names, date of birth, year and group,
  status, the MIS link columns, the optional data), the open and decided
  Intake entries by person, loans out per borrower, the establishment number
  of the last successful sync, how many people of each type the last full
  exports held, the MIS the last successful sync said it was from, and a
  warning for each stored value it cannot use (left alone, never a failed
  run).
- ``change_marker(session)``: a cheap, comparable value that moves whenever
  anything is written to the library (a run recorded, any change logged).
  Read it before the snapshot: then a write the snapshot might have missed
  always moves it.
- ``apply(session, plan, run_id, now)``: carry out a ``SyncPlan`` exactly:
  borrower updates, recycles and restores, attachments, Intake adds, refreshes
  and closes, each change a ``SyncEvent`` of run ``run_id``; a switched-off
  value leaves no copy behind. After a change of MIS a re-link may give a
  borrower (or an Intake entry) an MIS id that another, moved by the same
  plan, still holds: every such move is made, whatever the order of the
  writes.

mislink's own tables are the first implementation (``MislinkTarget``); runs,
events, Intake and decisions stay mislink's own whatever the target.
``KohaTarget`` is a Koha library (``engine.koha``): mislink's borrowers are
then a mirror of Koha's pupil and staff patrons, brought up to date from Koha
when the transaction began and written back before it commits, so it reads
and writes as ``MislinkTarget`` does; its snapshot holds only the mirror rows
that are Koha patrons, with what the pull found unusable in its warnings, and writes the plan to Koha at the end of
``apply``, so that each value Koha would not take is a warning in the run's
report. ``target_for(config)`` chooses one.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Hashable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.apply import apply_plan, bulk_update
from engine.config import Config
from engine.history import change_marker
from engine.koha.bridge import pull_warnings, session_bridge
from engine.library import load_snapshot
from engine.matching import Tier
from engine.models import Borrower, IntakeEntry, KohaPatron, RunChange
from engine.plan import Snapshot, SyncPlan
from engine.text import json_object, unique_key

__all__ = ["KohaTarget", "LibraryTarget", "MislinkTarget", "target_for"]


class LibraryTarget(Protocol):
    def snapshot(self, session: Session) -> Snapshot: ...

    def change_marker(self, session: Session) -> Hashable: ...

    def apply(self, session: Session, plan: SyncPlan, run_id: int, now: datetime) -> None: ...


class MislinkTarget:
    """mislink's own schema (engine.models)."""

    def snapshot(self, session: Session) -> Snapshot:
        return load_snapshot(session)

    def change_marker(self, session: Session) -> Hashable:
        return change_marker(session)

    def apply(self, session: Session, plan: SyncPlan, run_id: int, now: datetime) -> None:
        vacated = _vacate_reused_ids(session, plan)
        apply_plan(session, plan, run_id, now)
        _recorded_as_before(session, run_id, vacated)


# Ids per IN (...) list: SQL Server takes at most 2,100 parameters.
IDS_PER_QUERY = 1000


def _vacate_reused_ids(session: Session, plan: SyncPlan) -> dict[int, tuple[str, str]]:
    """After a change of MIS, a new record's MIS id can be one that a stale
    borrower or Intake entry still holds until this same plan moves it (the
    new MIS numbers people afresh). The library keeps one borrower, and one
    Intake entry, per MIS id at every moment, and the plan's writes come in
    no order of ids, so each such holder gives up its old id first; the
    plan's own change then writes the id it says, and its event keeps the
    old one. Returns each Intake entry given a placeholder: id -> (the
    placeholder, its MIS id before)."""
    if plan.mis_change is None:
        return {}
    rekeyed = [u.person for u in plan.updates if u.tier is Tier.REKEY and u.person is not None]
    moving = {item.borrower_id for item in (*plan.updates, *plan.recycles) if _moves_id(item.changes)}
    holders = _holding(session, Borrower, Borrower.mis_person_type, moving, _keys(rekeyed))
    bulk_update(session, Borrower, [{"id": row_id, "mis_id": None} for row_id in holders])
    entries = [r for r in plan.intake_refreshes if r.person is not None and _moves_id(r.changes)]
    taken = _keys([*(a.person for a in plan.intake_adds), *(r.person for r in entries)])
    holders = _holding(session, IntakeEntry, IntakeEntry.person_type, {r.entry_id for r in entries}, taken)
    vacated = {row_id: (f"moving:{row_id}", mis_id) for row_id, mis_id in holders.items()}
    bulk_update(session, IntakeEntry, [{"id": row_id, "mis_id": moving} for row_id, (moving, _) in vacated.items()])
    return vacated


def _recorded_as_before(session: Session, run_id: int, vacated: dict[int, tuple[str, str]]) -> None:
    """What the run recorded of each Intake entry (``run_changes``, for ``runs
    undo``) says it was as it was before the run, not with its placeholder."""
    if not vacated:
        return
    rows = session.execute(select(RunChange.id, RunChange.row_id, RunChange.before).where(
        RunChange.run_id == run_id, RunChange.table_name == "intake")).all()
    fixed = []
    for change_id, row_id, before in rows:
        recorded = json_object(before)
        placeholder, mis_id = vacated.get(row_id, (None, None))
        if recorded is not None and placeholder is not None and recorded.get("mis_id") == placeholder:
            fixed.append({"id": change_id, "before": json.dumps({**recorded, "mis_id": mis_id})})
    bulk_update(session, RunChange, fixed)


def _moves_id(changes) -> bool:
    return any(c.field == "mis_id" for c in changes)


def _keys(people) -> set[tuple[str, str]]:
    """People's MIS keys as the library's unique indexes compare them (MariaDB ignores case)."""
    return {(p.person_type.value, unique_key(p.mis_id)) for p in people}


def _holding(session: Session, model, type_column, moving: set[int], taken: set[tuple[str, str]]) -> dict[int, str]:
    """Which of the rows with these ids hold one of the ``taken`` keys now: id -> MIS id."""
    ids, found = sorted(moving), {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        rows = session.execute(select(model.id, type_column, model.mis_id)
                               .where(model.id.in_(ids[start:start + IDS_PER_QUERY])))
        found.update((row[0], row[2]) for row in rows if row[2] is not None and (row[1], unique_key(row[2])) in taken)
    return found


class KohaTarget(MislinkTarget):
    def snapshot(self, session: Session) -> Snapshot:
        """Koha's patrons only: a mirror row whose patron was deleted in Koha
        (recycled and unlinked by the pull) is not the sync's to restore;
        only a person restores it, which adds it to Koha again."""
        snapshot = super().snapshot(session)
        in_koha = set(session.scalars(select(KohaPatron.borrower_id)))
        snapshot.borrowers = [row for row in snapshot.borrowers if row["id"] in in_koha]
        snapshot.warnings.extend(pull_warnings(session))
        return snapshot

    def apply(self, session: Session, plan: SyncPlan, run_id: int, now: datetime) -> None:
        super().apply(session, plan, run_id, now)
        left_on = {r.borrower_id: r.left_on for r in plan.recycles if r.left_on}
        plan.warnings.extend(session_bridge(session).push(session, left_on))


def target_for(config: Config) -> LibraryTarget:
    return KohaTarget() if config.library.kind == "koha" else MislinkTarget()
