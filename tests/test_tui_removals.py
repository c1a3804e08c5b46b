"""Switching data off says what it will remove: the engine's count
(``engine.removals``) is what the next sync removes, on every database; the
Settings pane shows it before saving, and the sync preview lists it as
``--dry-run`` does."""
from __future__ import annotations

import pytest
from rich.console import Console
from sqlalchemy.orm import Session
from textual.widgets import Checkbox, Label, Static

from engine.config import load_config
from engine.db import connect
from engine.removals import removals
from tests.builders import Library, sync
from tests.optional_builders import link_borrower, write_optional_school
from tests.support.schools import EVERY_OPTION_ON, optional_school
from tests.support.tui import drives_the_app, press, running, switch_photos_off
from tui.dialogs.confirm import Confirm
from tui.dialogs.sync_preview import SyncPreview

SWITCHES = ["address", "phones", "email", "photos", "guardians"]


def school_with_everything(tmp_path, library_url) -> None:
    """The optional school synced with every kind of data on: the pupil is a
    linked borrower, the member of staff waits in Intake."""
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(Library(library_url), pupil, "student")
    assert sync(tmp_path, library_url, data=EVERY_OPTION_ON).outcome == "ok"


def counted(library_url, switched_off) -> dict[str, int]:
    engine = connect(library_url)
    try:
        with Session(engine) as session:
            return removals(session, switched_off)
    finally:
        engine.dispose()


@pytest.mark.parametrize("switched_off", [[s] for s in SWITCHES] + [SWITCHES], ids=lambda s: "+".join(s))
def test_the_count_before_switching_off_is_what_the_next_sync_removes(tmp_path, library_url, switched_off):
    school_with_everything(tmp_path, library_url)
    expected = sync(tmp_path, library_url, dry_run=True,
                    data={**EVERY_OPTION_ON, **dict.fromkeys(switched_off, False)}).counts["fields_purged"]
    assert expected  # there is something to remove
    assert counted(library_url, switched_off) == expected


def test_borrowers_and_intake_records_are_counted_apart(tmp_path, library_url):
    school_with_everything(tmp_path, library_url)
    assert counted(library_url, ["photos", "email"]) == {"photo_digest": 1, "email": 1, "intake.photo": 1,
                                                         "intake.email": 1}
    assert counted(library_url, []) == {}
    assert counted(library_url, ["staff"]) == {}  # staff borrowers stay; nothing is removed


def note(app, key: str) -> str:
    return str(app.query_one(f"#setting-data-{key}-note", Label).render())


@drives_the_app
async def test_switching_photos_off_says_what_the_next_sync_removes_before_saving(tmp_path):
    path = optional_school(tmp_path)
    before = path.read_text(encoding="utf-8")
    async with running(path) as pilot:
        app = pilot.app
        await switch_photos_off(pilot)
        assert isinstance(app.screen, Confirm)
        assert "photos of 1 borrower and 1 Intake record" in app.screen.explanation
        assert "not saved yet" in note(app, "photos") and "photos of 1 borrower" in note(app, "photos")
        assert path.read_text(encoding="utf-8") == before
        await press(pilot, "y")
        assert "✓ saved" in note(app, "photos") and "photos of 1 borrower" in note(app, "photos")
    assert load_config(path).data.photos is False


@drives_the_app
async def test_keeping_the_switch_on_saves_nothing(tmp_path):
    path = optional_school(tmp_path)
    before = path.read_text(encoding="utf-8")
    async with running(path) as pilot:
        app = pilot.app
        await switch_photos_off(pilot)
        await press(pilot, "enter")  # Enter is Cancel: nothing is switched off by habit
        assert app.query_one("#setting-data-photos", Checkbox).value is True
        assert "kept on" in note(app, "photos")
    assert path.read_text(encoding="utf-8") == before


@drives_the_app
async def test_the_sync_preview_lists_what_switched_off_data_removes(tmp_path):
    path = optional_school(tmp_path)
    async with running(path) as pilot:
        app = pilot.app
        await switch_photos_off(pilot)
        await press(pilot, "y")
        await press(pilot, "ctrl+r")
        dialog = app.screen
        assert isinstance(dialog, SyncPreview)
        assert dialog.preview.counts["fields_purged"] == {"photo_digest": 1, "intake.photo": 1}
        console = Console(record=True, width=100)
        console.print(dialog.query_one("#sync-counts", Static).content)
        rows = [line.split() for line in console.export_text().splitlines()]
        assert "Photos removed (switched off) 1 borrower and 1 Intake record".split() in rows
