"""A run makes no full garbage collection (engine.sync._no_full_collections),
and the process's collector is as it was once the run is over."""
from __future__ import annotations

import gc

import pytest

import engine.sync
from tests.builders import student, sync


@pytest.fixture
def thresholds_seen(monkeypatch) -> list[tuple[int, int, int]]:
    """The collector's thresholds while each run plans."""
    seen = []
    plan_sync = engine.sync.plan_sync

    def planning(*args, **kwargs):
        seen.append(gc.get_threshold())
        return plan_sync(*args, **kwargs)

    monkeypatch.setattr(engine.sync, "plan_sync", planning)
    return seen


@pytest.fixture
def own_thresholds():
    """Thresholds of the process's own, put back after the test."""
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 3)
    yield 500, 7, 3
    gc.set_threshold(*before)


def test_a_run_plans_with_no_full_collection_and_gives_the_thresholds_back(tmp_path, thresholds_seen,
                                                                          own_thresholds):
    report = sync(tmp_path, "sqlite:///" + str(tmp_path / "library.sqlite"), [student("Ann", "Lee")])
    assert report.outcome == "ok"
    assert thresholds_seen == [(500, 7, engine.sync.RUN_MIDDLE_COLLECTIONS)]
    assert gc.get_threshold() == own_thresholds


def test_a_failed_run_gives_the_thresholds_back_too(tmp_path, thresholds_seen, own_thresholds, monkeypatch):
    monkeypatch.setattr(engine.sync._Run, "apply", lambda *args: 1 / 0)
    report = sync(tmp_path, "sqlite:///" + str(tmp_path / "library.sqlite"), [student("Ann", "Lee")])
    assert report.outcome == "failed"
    assert len(thresholds_seen) == 1
    assert gc.get_threshold() == own_thresholds
