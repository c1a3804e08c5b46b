"""A change of MIS from the screen: the sync preview says so, with the numbers,
and re-links only after the librarian confirms (Cancel focused). And Intake
offers a borrower whose MIS person left, marked, to move its link."""
from __future__ import annotations

from engine.config import load_config
from tests.builders import write_export
from tests.support.schools import GRACE, PUPILS, build_school, library_of, sync_export
from tests.support.tui import drives_the_app, highlight, press, running
from tui.dialogs.confirm import Confirm
from tui.dialogs.sync_preview import SyncPreview


def arbor_export(tmp_path) -> None:
    """The school's pupils as Arbor numbers them: every id new."""
    moved = [{**p, "Id": f"A{p['Id']}", "IdaasId": f"AR-{p['Id']}", "ExternalId": f"bbbb-{p['Id']}"} for p in PUPILS]
    write_export(tmp_path / "export", Students={"Students": moved, "meta": [{"Id": 1, "MIS": "arbor"}]})


@drives_the_app
async def test_the_preview_shows_the_change_of_mis_and_relinks_only_once_confirmed(tmp_path):
    school = build_school(tmp_path)
    library = library_of(load_config(school))
    assert library.borrower("S0002")["mis_id"] == "102"  # Grace, linked by the first sync
    arbor_export(tmp_path)
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "ctrl+r")
        dialog = app.screen
        assert isinstance(dialog, SyncPreview)
        change = dialog.preview.plan.mis_change
        assert change is not None and change.needs_rekey
        assert dialog.query_one("#rekey").display and app.focused.id == "rekey"
        shown = str(dialog.query_one("#sync-message").render())
        assert "MIS change: 0 pupils re-linked by UPN, 1 pupil by name and date of birth" in shown
        assert "the export is from arbor, but earlier syncs were from simsnet" in shown
        await press(pilot, "r")
        assert isinstance(app.screen, Confirm) and app.focused.id == "no"
        await press(pilot, "enter")  # Cancel, focused: nothing happens
        assert app.screen is dialog and not dialog.applied
        assert library.borrower("S0002")["mis_id"] == "102"
        await press(pilot, "r")
        await press(pilot, "y")
        assert dialog.applied
        assert dialog.query_one("#rekey").display is False
    grace = library.borrower("S0002")
    assert (grace["mis_id"], grace["idaas_id"], grace["status"]) == ("A102", "AR-102", "active")


@drives_the_app
async def test_intake_offers_a_borrower_whose_mis_person_left_marked_and_accepting_it_moves_the_link(tmp_path):
    """Grace's MIS record was made again under a new id: her borrower, recycled
    as no longer in the export, is offered for the new record, marked ⇄."""
    school = build_school(tmp_path)
    remade = {**GRACE, "Id": "202", "IdaasId": "PL-202", "ExternalId": "cccc-202"}
    sync_export(tmp_path, [p if p is not GRACE else remade for p in PUPILS])
    library = library_of(load_config(school))
    assert library.borrower("S0002")["status"] == "recycled"
    async with running(school) as pilot:
        app = pilot.app
        await highlight(pilot, "202")
        (best, *_) = app.intake.suggestions.candidates
        assert (best.suggestion.barcode, best.suggestion.absent_link) == ("S0002", "student 102")
        comparison = app.intake.suggestions.query_one("#comparison")
        assert "MIS student 102" in [str(comparison.get_row_at(i)[3]) for i in range(comparison.row_count)]
        await press(pilot, "1")
    grace = library.borrower("S0002")
    assert (grace["mis_id"], grace["status"]) == ("202", "active")
