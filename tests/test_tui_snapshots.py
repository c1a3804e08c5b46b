"""What the librarian sees: the main screen at 80×24 (a plain SSH terminal)
and at 120×40, on the small fixed school. Update with --snapshot-update only
after looking at the difference."""
from __future__ import annotations

import time

import pytest

from tests.test_tui_school import app_for, build_school, press, settle


@pytest.fixture
def school(tmp_path, monkeypatch):
    # Times are stored in UTC and shown in local time: fix the zone too.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield build_school(tmp_path)
    monkeypatch.undo()
    time.tzset()


async def on_alfie(pilot):
    """The first entry highlighted, its suggestions shown."""
    await settle(pilot)


async def on_ben_twin(pilot):
    """Ben Twin: his sister is the only borrower like him."""
    await settle(pilot)
    await press(pilot, "down", "down", "down", "down")


def test_main_screen_80x24(school, snap_compare):
    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=on_alfie)


def test_main_screen_120x40(school, snap_compare):
    assert snap_compare(app_for(school), terminal_size=(120, 40), run_before=on_ben_twin)


def test_sync_log_80x24(school, snap_compare):
    async def on_the_log(pilot):
        await settle(pilot)
        await press(pilot, "f2")

    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=on_the_log)
