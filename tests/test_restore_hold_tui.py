"""A restore that sticks, from the screen: r in the recycle bin asks whether to
hold (Cancel focused), a held borrower is listed as held and marked in the
borrower search, and x releases the hold. Checked in the library database."""
from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable

from engine.config import load_config
from tests.support.schools import PUPILS, build_school, library_of, sync_export
from tests.support.tui import drives_the_app, highlight, press, running
from tui.dialogs.confirm import Confirm
from tui.dialogs.restore_hold import RestoreChoice

LEAVER = "S0004"  # Old Leaver: linked, and absent from the school's export


@pytest.fixture
def school(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGNAME", "jsmith")  # the login the audit trail names
    return build_school(tmp_path)


def leaver(path) -> dict:
    return library_of(load_config(path)).borrower(LEAVER)


async def restore_choice(pilot) -> RestoreChoice:
    await press(pilot, "f3")
    assert pilot.app.recycle_bin.highlighted.barcode == LEAVER
    await press(pilot, "r")
    dialog = pilot.app.screen
    assert isinstance(dialog, RestoreChoice)
    return dialog


async def restore(pilot, answer: str) -> None:
    """Restore the leaver from the recycle bin: y holds them too, r does not."""
    await restore_choice(pilot)
    await press(pilot, answer)


@drives_the_app
async def test_restore_asks_whether_to_hold_and_enter_restores_nobody(school):
    async with running(school) as pilot:
        dialog = await restore_choice(pilot)
        assert dialog.focused.id == "no"
        assert [b.id for b in dialog.query(Button)] == ["yes", "only", "no"]
        await press(pilot, "enter")
        assert not isinstance(pilot.app.screen, RestoreChoice)
    assert leaver(school)["status"] == "recycled"


@drives_the_app
async def test_restore_and_hold_keeps_them_out_of_the_recycle_bin_at_the_next_sync(tmp_path, library_url, monkeypatch):
    monkeypatch.setenv("LOGNAME", "jsmith")
    school = build_school(tmp_path, url=library_url)
    async with running(school) as pilot:
        app = pilot.app
        await restore(pilot, "y")
        row = leaver(school)
        assert (row["status"], row["tutor_group"], row["held_by"]) == ("active", "10A", "jsmith")
        (held,) = app.recycle_bin.borrowers.values()
        assert held.held
        table = app.recycle_bin.query_one("#bin-table", DataTable)
        assert table.get_row(LEAVER)[2] == "held" and "held since " in table.get_row(LEAVER)[4]
        assert "1 held out of it" in str(app.recycle_bin.query_one("#bin-summary").render())
        assert "F3 Recycle bin (0)" in str(app.query_one("#--content-tab-bin").render())
    report = sync_export(tmp_path, PUPILS)
    assert (report.counts["recycled"], report.counts["held_not_recycled"]) == (0, 1)
    assert leaver(school)["status"] == "active"


@drives_the_app
async def test_restore_only_restores_without_a_hold_and_warns(school):
    async with running(school) as pilot:
        await restore(pilot, "r")
        assert pilot.app.recycle_bin.borrowers == {}
        (note,) = [n for n in pilot.app._notifications if n.title == "Restored"]
        assert "The next sync will recycle them again" in note.message and note.severity == "warning"
    row = leaver(school)
    assert (row["status"], row["held_at"]) == ("active", None)


@drives_the_app
async def test_x_releases_a_hold_after_asking(school):
    async with running(school) as pilot:
        await restore(pilot, "y")
        for answer in ("escape", "y"):
            await press(pilot, "x")
            dialog = pilot.app.screen
            assert isinstance(dialog, Confirm) and "Release the hold" in dialog.title_text
            await press(pilot, answer)
            assert (leaver(school)["held_at"] is None) == (answer == "y")
        assert pilot.app.recycle_bin.borrowers == {}
    assert (leaver(school)["held_at"], leaver(school)["held_by"]) == (None, None)


@drives_the_app
async def test_a_held_borrower_is_marked_in_the_borrower_search(school):
    async with running(school) as pilot:
        await restore(pilot, "y")
        await press(pilot, "f1")
        await highlight(pilot, "104")
        await press(pilot, "s", *"leaver")
        table = pilot.app.intake.search.query_one("#search-results", DataTable)
        assert str(table.get_row(LEAVER)[-1]).startswith("held since ")
        assert str(table.get_row(LEAVER)[-1]).endswith(" by jsmith; student 99")
