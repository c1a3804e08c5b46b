"""Properties that hold for any export and any library (hypothesis):

- a sync followed by the same sync changes nothing;
- a plan computed after applying a plan is empty;
- no borrower is ever deleted by a sync;
- no two borrowers are ever linked to one MIS person.

Exports and libraries are drawn from small pools of names, dates and ids
(tests/support/strategies.py), so twins, duplicates, shared UPNs and
near-collisions turn up often.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from engine.library import load_snapshot
from engine.export import read_export
from engine.models import Borrower, SyncEvent
from engine.plan import plan_sync
from engine.sync import run_sync
from tests.builders import library_session, make_config, write_export
from tests.support.strategies import as_student, exports, libraries


def _library(url: str, borrowers: list[dict]) -> None:
    with library_session(url) as session:
        for number, values in enumerate(borrowers):
            session.add(Borrower(barcode=f"B{number}", borrower_type="student",
                                 mis_person_type="student" if values["mis_id"] else None, **values))


def _state(url: str) -> tuple[list[tuple], int]:
    with library_session(url) as session:
        borrowers = [tuple(r) for r in session.execute(select(Borrower.__table__)).all()]
        events = len(session.scalars(select(SyncEvent.id)).all())
    return borrowers, events


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports, libraries)
def test_sync_is_idempotent_keeps_every_borrower_and_links_one_to_one(pupils, borrowers):
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        url = f"sqlite:///{base / 'library.sqlite'}"
        _library(url, borrowers)
        write_export(base / "export", Students=[as_student(p) for p in pupils])
        config = make_config(base, url)
        before_ids = {row[0] for row in _state(url)[0]}

        first = run_sync(config, force=True)
        assert first.outcome == "ok", first.message
        after_first, events_after_first = _state(url)
        assert before_ids <= {row[0] for row in after_first}, "a sync deleted a borrower"
        with library_session(url) as session:
            links = Counter((b.mis_person_type, b.mis_id) for b in session.scalars(select(Borrower)) if b.mis_id)
            assert all(n == 1 for n in links.values()), "two borrowers linked to one MIS person"
            replan = plan_sync(read_export(config.source_path, config.data), load_snapshot(session), config)
        assert replan.is_empty, "planning after applying a plan found more to do"

        second = run_sync(config, force=True)
        assert second.outcome == "ok" and second.plan.is_empty
        assert _state(url) == (after_first, events_after_first), "the same sync twice changed something"
