"""What the librarian sees: the main screen at 80×24 (a plain SSH terminal)
and at 120×40, on the small fixed school. Update with --snapshot-update only
after looking at the difference."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.config import load_config
from engine.models import Borrower
from tests.support.schools import SHOWN_AT, build_school, library_of, optional_school
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


async def on_the_log(pilot):
    await settle(pilot)
    await press(pilot, "f2")


def test_sync_log_80x24(school, snap_compare):
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


# --- the librarian's hour (issue 14) ----------------------------------------------------------------

def test_most_keys_and_a_notice_80x24(school, snap_compare):
    """Ben Twin (two keys more than most: ←/→ compare) and a notice: the
    footer ends with ? Help, the notice sits over the tabs, not the comparison."""
    async def told(pilot):
        await on_ben_twin(pilot)
        pilot.app.notify("A sync has just run: everything shown is up to date.", title="Library changed")
        await settle(pilot)

    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=told)


def test_sync_log_120x40(school, snap_compare):
    assert snap_compare(app_for(school), terminal_size=(120, 40), run_before=on_the_log)


def test_recycle_bin_80x24(school, snap_compare):
    with library_of(load_config(school)).session() as session:  # recycled at a fixed time, as shown
        session.execute(update(Borrower).values(recycled_at=SHOWN_AT))

    async def on_the_bin(pilot):
        await settle(pilot)
        await press(pilot, "f3")

    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=on_the_bin)


def test_a_linked_borrower_in_the_search_80x24(school, snap_compare):
    async def searched(pilot):
        await settle(pilot)
        await press(pilot, "s", *"hopper", "enter")

    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=searched)


def test_the_command_palette_80x24(school, snap_compare):
    async def opened(pilot):
        await settle(pilot)
        await press(pilot, "ctrl+p", *"go")

    assert snap_compare(app_for(school), terminal_size=(80, 24), run_before=opened)


def test_settings_120x40(settings_app, snap_compare):
    """Wide boxes and plain labels; the focused box is lit. (Scrolled to the
    end: the paths above are the test's own folders.)"""
    async def on_settings(pilot):
        await settle(pilot)
        await press(pilot, "f4")
        pilot.app.query_one("#setting-barcodes-scheme").focus()
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)

    assert snap_compare(settings_app, terminal_size=(120, 40), run_before=on_settings)
