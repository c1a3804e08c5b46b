"""Running a sync from the screen, noticing one that ran elsewhere, and
changing settings: each checked where it lands (the database, config.toml)."""
from __future__ import annotations

import tomllib

import pytest
from textual.widgets import Input, Label

from engine.config import load_config, save_config
from tests.builders import make_config, student, write_export
from tests.support.schools import PUPILS, build_school, library_of, sync_export
from tests.support.tui import drives_the_app, press, running, settle
from tui.dialogs.error import ErrorDialog
from tui.dialogs.sync_preview import SyncPreview

NEWCOMER = student("Nora", "Newcomer", "2013-02-02", Id="107", YearGroup="Year  7", RegGroup="7A")


@pytest.fixture
def school(tmp_path):
    return build_school(tmp_path)


def run_ids(path):
    return [row["id"] for row in library_of(load_config(path)).rows("sync_runs")]


@drives_the_app
async def test_a_sync_run_from_the_screen_previews_then_applies_and_shows_in_the_log(school, tmp_path):
    write_export(tmp_path / "export", Students=PUPILS + [NEWCOMER])
    before = run_ids(school)
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "ctrl+r")
        dialog = app.screen
        assert isinstance(dialog, SyncPreview)
        assert dialog.preview.outcome == "dry-run" and dialog.preview.counts["intake_added"] == 1
        assert run_ids(school) == before  # a preview writes nothing
        await press(pilot, "enter")
        assert dialog.applied
        await press(pilot, "escape")
        (new_run,) = set(run_ids(school)) - set(before)
        assert new_run in [run.run_id for run in app.sync_log.runs]
        assert app.sync_log.wanted.run_id == new_run  # highlighted, its events shown
        assert "107" in [e.mis_id for e in app.intake.queue.entries]


@drives_the_app
async def test_a_sync_that_ran_elsewhere_is_noticed_and_shown(school, tmp_path):
    async with running(school) as pilot:
        app = pilot.app
        sync_export(tmp_path, PUPILS + [NEWCOMER])
        app.check_for_changes()  # what the timer does every few seconds
        await settle(pilot)
        assert max(run_ids(school)) in [run.run_id for run in app.sync_log.runs]
        assert "107" in [e.mis_id for e in app.intake.queue.entries]


@drives_the_app
async def test_a_setting_changed_on_screen_is_saved_to_config_toml_and_read_again(school):
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f4")
        app.query_one("#setting-data-address").focus()
        await press(pilot, "space")
        assert app.config.data.address is True
    saved = tomllib.loads(school.read_text(encoding="utf-8"))
    assert saved["data"]["address"] is True
    assert load_config(school).data.address is True


@drives_the_app
async def test_a_refused_setting_is_explained_beside_its_field_and_not_saved(school):
    before = school.read_text(encoding="utf-8")
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f4")
        box = app.query_one("#setting-sync-max_recycle_share", Input)
        box.focus()
        box.value = ""
        await press(pilot, "2", "enter")
        note = app.query_one("#setting-sync-max_recycle_share-note", Label)
        assert "must be between 0.0 and 1.0" in str(note.render())
        assert app.config.sync.max_recycle_share == 1.0
    assert school.read_text(encoding="utf-8") == before


@drives_the_app
async def test_a_recycled_borrower_is_restored_from_the_recycle_bin(school):
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f3")
        assert app.recycle_bin.highlighted.barcode == "S0004"
        await press(pilot, "r")
        await press(pilot, "r")  # restore only: no hold (tests/test_restore_hold_tui.py holds)
        assert app.recycle_bin.borrowers == {}
    leaver = library_of(load_config(school)).borrower("S0004")
    assert (leaver["status"], leaver["tutor_group"]) == ("active", "10A")


@drives_the_app
async def test_an_unreachable_library_is_a_message_not_a_traceback(tmp_path):
    path = tmp_path / "config.toml"
    save_config(make_config(tmp_path, f"sqlite:///{tmp_path / 'missing' / 'library.sqlite'}"), path)
    async with running(path) as pilot:
        app = pilot.app
        assert isinstance(app.screen, ErrorDialog)
        assert "could not be used" in app.screen.message
        app.check_for_changes()  # the timer's next try: no second message
        await settle(pilot)
        assert len([s for s in app.screen_stack if isinstance(s, ErrorDialog)]) == 1


@drives_the_app
async def test_apply_applies_the_previewed_plan_and_refuses_once_the_export_has_moved(school, tmp_path):
    """The dialog's Apply is the plan it showed, never a fresh one: an export
    rewritten between preview and apply is refused and nothing is written."""
    write_export(tmp_path / "export", Students=PUPILS + [NEWCOMER])
    before = library_of(load_config(school)).rows("intake")
    async with running(school) as pilot:
        await press(pilot, "ctrl+r")
        dialog = pilot.app.screen
        assert dialog.preview.counts["intake_added"] == 1
        write_export(tmp_path / "export", Students=PUPILS + [NEWCOMER, student(
            "Olive", "Later", "2013-03-03", Id="108", YearGroup="Year  7", RegGroup="7A")])
        await press(pilot, "enter")
        assert not dialog.applied
        shown = str(dialog.query_one("#sync-message", Label).render())
        assert "the export changed since the preview" in shown
    assert library_of(load_config(school)).rows("intake") == before
