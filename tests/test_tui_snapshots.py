"""What the librarian sees: the main screen at 80×24 (a plain SSH terminal)
and at 120×40, on the small fixed school. Update with --snapshot-update only
after looking at the difference."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.schools import build_school, optional_school
from tests.support.tui import app_for, press, settle, switch_photos_off


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


async def alfie_matched(pilot):
    """Alfie accepted as Alfred (1): the line above the suggestions says so,
    and no notice covers the suggestions or the comparison."""
    await settle(pilot)
    await press(pilot, "1")


def test_a_decision_is_said_above_the_suggestions_80x24(school, snap_compare):
    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=alfie_matched)


def test_a_decision_is_said_above_the_suggestions_120x40(school, snap_compare):
    assert snap_compare(app_for(school), terminal_size=(120, 40), run_before=alfie_matched)


@pytest.fixture
def settings_app(tmp_path, monkeypatch):
    """The app on a school with every kind of data on, its config.toml named
    as the technician would name it: the screen shows that name, and the
    pane's height (so its scrolling) must not depend on where tests run."""
    optional_school(tmp_path)
    monkeypatch.chdir(tmp_path)
    return app_for(Path("config.toml"))


def test_switching_photos_off_asks_saying_what_goes_80x24(settings_app, snap_compare):
    assert snap_compare(settings_app, terminal_size=(80, 24), run_before=switch_photos_off)


def test_switched_off_photos_explained_beside_the_switch_80x24(settings_app, snap_compare):
    async def saved(pilot):
        await switch_photos_off(pilot)
        await press(pilot, "y")

    assert snap_compare(settings_app, terminal_size=(80, 24), run_before=saved)
