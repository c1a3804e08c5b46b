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
  exports held, and a warning for each stored value it cannot use (left
  alone, never a failed run).
- ``change_marker(session)``: a cheap, comparable value that moves whenever
  anything is written to the library (a run recorded, any change logged).
  Read it before the snapshot: then a write the snapshot might have missed
  always moves it.
- ``apply(session, plan, run_id, now)``: carry out a ``SyncPlan`` exactly:
  borrower updates, recycles and restores, attachments, Intake adds, refreshes
  and closes, each change a ``SyncEvent`` of run ``run_id``; a switched-off
  value leaves no copy behind.

mislink's own tables are the first implementation (``MislinkTarget``); runs,
events, Intake and decisions stay mislink's own whatever the target.
``target_for(config)`` chooses one.
"""
from __future__ import annotations

from datetime import datetime
from typing import Hashable, Protocol

from sqlalchemy.orm import Session

from engine.apply import apply_plan
from engine.config import Config
from engine.history import change_marker
from engine.library import load_snapshot
from engine.plan import Snapshot, SyncPlan

__all__ = ["LibraryTarget", "MislinkTarget", "target_for"]


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
        apply_plan(session, plan, run_id, now)


def target_for(config: Config) -> LibraryTarget:
    return MislinkTarget()
