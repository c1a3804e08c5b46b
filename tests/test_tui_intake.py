"""Working through Intake from the keyboard, checked in the library database:
accept, search and match, mark new and transfer, reject, undo, and a
decision refused because a sync changed the entry after it was shown."""
from __future__ import annotations

import pytest
from textual.widgets import Select

from engine.config import load_config
from tests.support.schools import ALFIE, PUPILS, build_school, library_of, sync_export
from tests.support.tui import drives_the_app, highlight, press, running, settle
from tui.dialogs.confirm_anyway import ConfirmAnyway
from tui.dialogs.confirm_transfer import ConfirmTransfer
from tui.dialogs.error import ErrorDialog


@pytest.fixture
def school(tmp_path):
    return build_school(tmp_path)


def borrowers(path):
    return library_of(load_config(path)).borrowers()


def intake_status(path, mis_id):
    rows = library_of(load_config(path)).intake()
    return next(row["status"] for row in rows if row["mis_id"] == mis_id)


@drives_the_app
async def test_the_queue_lists_who_waits_and_suggests_who_they_may_be(school):
    async with running(school) as pilot:
        app = pilot.app
        assert [e.mis_id for e in app.intake.queue.entries] == ["101", "103", "104", "105", "106"]
        await highlight(pilot, "101")
        candidates = app.intake.suggestions.candidates
        assert candidates[0].suggestion.barcode == "S0001"
        # Alfie agrees with Alfred through his legal name: alike, not the same.
        forename = next(f for f in candidates[0].fields if f.label == "Forename")
        assert (forename.incoming, forename.candidate, forename.verdict) == ("Alfie", "Alfred", "partial")


@drives_the_app
async def test_accepting_a_suggestion_links_the_borrower(school):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        await press(pilot, "1")
        assert not isinstance(app.screen, ErrorDialog)
        assert "101" not in [e.mis_id for e in app.intake.queue.entries]
    alfred = borrowers(school)["S0001"]
    assert (alfred["mis_id"], alfred["forename"], alfred["surname"]) == ("101", "Alfie", "Smith")
    assert intake_status(school, "101") == "matched"


async def search_and_pick_alfred_for_rita(pilot) -> None:
    """Rita Stone (104) is nothing like Alfred Smyth: the engine doubts the match."""
    await highlight(pilot, "104")
    await press(pilot, "s", *"smyth")
    await press(pilot, "down", "m")
    assert isinstance(pilot.app.screen, ConfirmAnyway)
    assert "looks like a different person" in pilot.app.screen.explanation


@drives_the_app
async def test_search_and_match_when_the_borrower_is_not_suggested(school):
    async with running(school) as pilot:
        await search_and_pick_alfred_for_rita(pilot)
        assert borrowers(school)["S0001"]["mis_id"] is None
        await press(pilot, "y")  # the librarian insists
    assert borrowers(school)["S0001"]["mis_id"] == "104"
    assert intake_status(school, "104") == "matched"


@drives_the_app
async def test_a_doubted_match_can_be_cancelled(school):
    async with running(school) as pilot:
        await search_and_pick_alfred_for_rita(pilot)
        await press(pilot, "escape")
    assert borrowers(school)["S0001"]["mis_id"] is None
    assert intake_status(school, "104") == "pending"


@drives_the_app
async def test_mark_new_then_transfer_creates_a_borrower_with_a_barcode(school):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "103")
        await press(pilot, "n")
        assert intake_status(school, "103") == "new"
        await press(pilot, "t")
        assert isinstance(app.screen, ConfirmTransfer) and app.screen.count == 1
        await press(pilot, "y")
    zed = next(b for b in borrowers(school).values() if b["mis_id"] == "103")
    assert zed["barcode"] == "S0005" and (zed["forename"], zed["surname"]) == ("Zed", "Newman")
    assert intake_status(school, "103") == "transferred"


@drives_the_app
async def test_a_rejection_is_remembered_by_the_next_sync(school, tmp_path):
    async with running(school) as pilot:
        await highlight(pilot, "104")
        await press(pilot, "r")
    assert intake_status(school, "104") == "rejected"
    report = sync_export(tmp_path, PUPILS)
    assert report.counts["skipped_rejected"] == 1
    assert intake_status(school, "104") == "rejected"


@drives_the_app
async def test_undo_takes_back_the_last_decision(school):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "103")
        await press(pilot, "n")
        await press(pilot, "u")
        assert app.intake.entry.status == "pending"
    assert intake_status(school, "103") == "pending"


@drives_the_app
async def test_a_decision_on_an_entry_a_sync_changed_since_is_refused(school, tmp_path):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        shown = app.intake.entry
        # A scheduled sync moves Alfie to another tutor group meanwhile.
        sync_export(tmp_path, [dict(ALFIE, RegGroup="8C")] + PUPILS[1:])
        await press(pilot, "1")
        assert isinstance(app.screen, ErrorDialog)
        assert "changed after it was shown" in app.screen.message
        await press(pilot, "enter")
        # The queue now shows the entry as it is.
        assert app.intake.entry.tutor_group == "8C"
        assert app.intake.entry.updated_at != shown.updated_at
    assert borrowers(school)["S0001"]["mis_id"] is None
    assert intake_status(school, "101") == "pending"


@drives_the_app
async def test_the_decision_keys_hide_when_they_would_do_nothing(school):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "103")  # no suggestion, pending
        pane = app.intake
        assert pane.check_action("accept", (0,)) is False
        assert pane.check_action("decide", ("new",)) is True
        assert pane.check_action("decide", ("unreject",)) is False
        assert pane.check_action("transfer", ()) is False
        await press(pilot, "n")
        assert pane.check_action("decide", ("new",)) is False
        assert pane.check_action("transfer", ()) is True


@drives_the_app
async def test_a_rejected_record_can_be_found_and_unrejected(school):
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "104")
        await press(pilot, "r")
        app.query_one("#queue-status", Select).value = "rejected"
        await settle(pilot)
        assert [e.mis_id for e in app.intake.queue.entries] == ["104"]
        await press(pilot, "r")
    assert intake_status(school, "104") == "pending"
