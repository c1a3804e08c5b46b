"""The librarian's hour (issue 14), at 80×24 and at 120×40: the screen fits
an SSH terminal, says things in plain words with the same numbers
everywhere, and every list and command is found from the keyboard."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import update
from textual.command import CommandPalette
from textual.widgets import Footer, Input, Label, Select

from engine.config import load_config
from engine.models import Borrower
from engine.runlog import WARNING, append_lines, logged_warnings
from tests.builders import student
from tests.support.schools import PUPILS, build_school, library_of, sync_export
from tests.support.tui import app_for, drives_the_app, highlight, press, running, settle
from tui.dialogs.help import HelpScreen
from tui.dialogs.restore_hold import RestoreChoice
from tui.dialogs.sync_preview import NOTHING_TO_APPLY, SyncPreview
from tui.app import POLL_SECONDS
from tui.formatting import CUT

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
MOHAMMED = student("Mohammed", "Chowdhury", "2012-02-02", Id="201")
MUHAMMAD = student("Muhammad", "Chowdhury", "2012-05-05", Id="202")


@pytest.fixture
def school(tmp_path):
    return build_school(tmp_path)


def cells(table, column: str) -> list[str]:
    return [str(value) for value in table.get_column(column)]


def label_text(app, selector: str) -> str:
    return str(app.query_one(selector, Label).render())


# --- 80×24 works ---------------------------------------------------------------------------------

@SIZES
@drives_the_app
async def test_the_queue_shows_more_than_six_rows_and_the_evidence_why(tmp_path, size):
    pupils = PUPILS + [student(f"Extra{n}", "Pupil", f"2012-0{n}-1{n}", Id=f"30{n}") for n in range(1, 6)]
    async with running(build_school(tmp_path, pupils), size) as pilot:
        app = pilot.app
        table = app.intake.queue.table
        assert table.size.height - 1 >= 7  # rows under the header line
        await highlight(pilot, "101")
        comparison = app.intake.suggestions.query_one("#comparison")
        headings = [str(column.label) for column in comparison.ordered_columns]
        assert "Why" in headings
        why = comparison.ordered_columns[headings.index("Why")]
        assert why.width >= 12 and comparison.region.right <= size[0]


@SIZES
@drives_the_app
async def test_names_are_whole_or_marked_as_cut(tmp_path, size):
    async with running(build_school(tmp_path, PUPILS + [MOHAMMED, MUHAMMAD]), size) as pilot:
        table = pilot.app.intake.queue.table
        names = cells(table, "name")
        assert {"Mohammed Chowdhury", "Muhammad Chowdhury"} <= set(names)
        width = table.ordered_columns[0].width
        assert all(len(name) <= width for name in names)


@SIZES
@drives_the_app
async def test_the_footer_keeps_every_key_on_screen(school, size):
    async with running(school, size) as pilot:
        await highlight(pilot, "106")  # Ben Twin: candidates to compare, so the most keys
        footer = pilot.app.query_one(Footer)
        keys = list(footer.query("FooterKey"))
        assert keys and all(key.region.right <= size[0] for key in keys)
        assert "Help" in [key.description for key in keys]


@SIZES
@drives_the_app
async def test_a_notice_covers_neither_the_suggestions_nor_the_comparison(school, size):
    async with app_for(school).run_test(size=size, notifications=True) as pilot:
        app = pilot.app
        await settle(pilot)
        await highlight(pilot, "106")
        app.notify("A sync has just run: everything shown is up to date.", title="Library changed")
        await pilot.pause()  # the notice is laid out at the next repaint
        (toast,) = app.screen.query("Toast")
        lower = app.query_one("#intake-lower").region
        assert toast.region.height and not toast.region.overlaps(lower)
        assert not toast.region.overlaps(app.intake.queue.table.region.crop_size((size[0], 2)))  # its first row


@SIZES
@drives_the_app
async def test_sync_log_columns_end_on_whole_words(school, size):
    async with running(school, size) as pilot:
        await press(pilot, "f2")
        table = pilot.app.sync_log.query_one("#log-runs")
        changes = cells(table, "changes")
        for shown in changes:
            parts = shown.split(" · ")
            assert all(part == CUT or part[0].isdigit() for part in parts), shown


@SIZES
@drives_the_app
async def test_the_recycle_bin_shows_the_whole_group_why_and_loans(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await press(pilot, "f3")
        table = app.recycle_bin.query_one("#bin-table")
        (group,) = cells(table, "group")
        assert "10A" in group and not group.endswith(CUT)
        assert cells(table, "loans") == ["0"]
        assert "no longer in the MIS export" in label_text(app, "#bin-why")
        assert label_text(app, "#bin-summary").startswith("1 / 1")
        await press(pilot, "r")
        assert isinstance(app.screen, RestoreChoice)  # it asks first


# --- words and numbers -------------------------------------------------------------------------------

@SIZES
@drives_the_app
async def test_reasons_and_fields_in_plain_words(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        assert "possible twin" in cells(app.intake.queue.table, "why")
        await press(pilot, "f2")
        events = pilot.app.sync_log.query_one("#log-events")
        changes = " ".join(str(row[-1]) for row in (events.get_row_at(i) for i in range(events.row_count)))
        assert "tutor group:" in changes and "tutor_group" not in changes
        fields = [str(prompt) for prompt, _ in app.sync_log.query_one("#log-field", Select)._options]
        assert "tutor group" in fields and not any("_" in f for f in fields)


@SIZES
@drives_the_app
async def test_the_list_and_the_detail_give_the_same_score(school, size):
    # Alfred's record is tidied after the sync scored Alfie: the stored score is stale.
    with library_of(load_config(school)).session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "S0001").values(gender="F", tutor_group="7Z"))
    async with running(school, size) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        detail = app.intake.suggestions.candidates[0].suggestion.score
        entry = app.intake.entry
        assert entry.best_score != detail  # as stored by the sync
        assert str(app.intake.queue.table.get_cell(str(entry.id), "best")) == str(detail)


@SIZES
@drives_the_app
async def test_no_best_score_where_nobody_looks_like_them(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await highlight(pilot, "103")  # Zed Newman: new
        assert not app.intake.suggestions.candidates
        assert str(app.intake.queue.table.get_cell(str(app.intake.entry.id), "best")) == ""
        assert "No borrower looks like" in label_text(app, "#entry-heading")


@SIZES
@drives_the_app
async def test_the_sync_log_counts_people_and_shows_the_report(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await press(pilot, "f2")
        actions = dict((value, str(prompt)) for prompt, value in app.sync_log.query_one("#log-action", Select)._options)
        # One leaver: its status and its tutor group changed, one person recycled.
        assert actions["recycled"] == "recycled (1)"
        assert "people in the export" in label_text(app, "#log-run-report")


@SIZES
@drives_the_app
async def test_marks_in_the_suggestions_have_a_legend(tmp_path, size):
    # Back again: the recycled Old Leaver (MIS 99, gone) under a new MIS id.
    returning = student("Old", "Leaver", "2010-05-05", Id="400", YearGroup="Year 10", RegGroup="10A", Gender="M")
    async with running(build_school(tmp_path, PUPILS + [returning]), size) as pilot:
        app = pilot.app
        await highlight(pilot, "400")
        (candidate,) = app.intake.suggestions.candidates
        assert candidate.suggestion.barcode == "S0004"
        legend = app.query_one("#candidates-legend", Label)
        assert legend.display and "♻ in the recycle bin" in str(legend.render())


@SIZES
@drives_the_app
async def test_a_linked_borrower_is_found_but_cannot_be_matched(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        await press(pilot, "s", *"hopper", "enter")  # Grace Hopper: linked to the MIS's Grace
        search = app.intake.search
        assert search.highlighted.name == "Grace Hopper" and search.highlighted.linked_to
        assert search.check_action("match", ()) is False
        assert "cannot be matched: linked to" in label_text(app, "#search-found")


@SIZES
@drives_the_app
async def test_a_failed_search_keeps_the_query_and_the_results(school, monkeypatch, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        await press(pilot, "s", *"smyth")
        assert app.intake.search._hits
        monkeypatch.setattr("tui.app.search_borrowers", lambda session, text: 1 / 0)
        await press(pilot, "x")
        assert app.screen is app.screen_stack[0]  # said in place, no dialog to dismiss
        assert app.query_one("#search-text", Input).value == "smythx"
        assert [hit.barcode for hit in app.intake.search._hits] == ["S0001"]
        assert "Not searched" in label_text(app, "#search-found")


@drives_the_app
async def test_settings_speak_plainly_and_warn_of_a_missing_folder(school):
    async with running(school, (120, 40)) as pilot:
        app = pilot.app
        await press(pilot, "f4")
        labels = [str(label.render()) for label in app.settings.query(".setting-label")]
        assert "Library database" in labels and "Url" not in labels
        box = app.query_one("#setting-source-path", Input)
        assert box.size.width >= 50
        box.focus()
        box.value = "no/such/folder"
        await press(pilot, "enter")
        note = app.query_one("#setting-source-path-note", Label)
        assert note.has_class("-warning") and "there is no folder" in str(note.render())
        assert load_config(school).source.path != "no/such/folder"  # not saved yet
        box.value = str(load_config(school).source.path)
        await press(pilot, "enter")
        assert not note.display  # the stale warning is gone


@SIZES
@drives_the_app
async def test_the_sync_dialog_offers_apply_only_with_something_to_apply(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await press(pilot, "ctrl+r")
        dialog = app.screen
        assert isinstance(dialog, SyncPreview) and not dialog.something_to_apply
        assert not dialog.query_one("#apply").display
        assert NOTHING_TO_APPLY in str(dialog.query_one("#sync-outcome", Label).render())
        assert dialog.check_action("apply", (False,)) is False


# --- finding your way ------------------------------------------------------------------------------

@SIZES
@drives_the_app
async def test_lists_move_with_j_k_g_and_say_where_the_cursor_is(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        table = app.intake.queue.table
        await press(pilot, "G")
        assert table.cursor_row == 4 and label_text(app, "#queue-summary").startswith("5 / 5 records")
        await press(pilot, "k")
        assert table.cursor_row == 3
        await press(pilot, "g")
        assert table.cursor_row == 0
        await press(pilot, "j", "end")
        assert table.cursor_row == 4
        await press(pilot, "home")
        assert label_text(app, "#queue-summary").startswith("1 / 5")


@SIZES
@drives_the_app
async def test_q_quits_but_types_in_a_box(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await press(pilot, "slash", "q")
        assert app.query_one("#queue-name", Input).value == "q" and app.is_running
        await press(pilot, "escape", "q")
        assert not app.is_running


@SIZES
@drives_the_app
async def test_the_palette_offers_the_pane_actions_sync_and_the_panes(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        titles = [title for title, _, _ in app.palette_commands()]
        assert {"Accept 1", "New", "Reject", "Search", "Sync", "Go to the recycle bin", "Refresh"} <= set(titles)
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await press(pilot, *"go to the recycle", "enter")
        assert app.pane_in_view == "bin"
        assert "Restore" in [title for title, _, _ in app.palette_commands()]


@SIZES
@drives_the_app
async def test_focus_is_plain_to_see_on_a_filter(school, size):
    async with running(school, size) as pilot:
        app = pilot.app
        year = app.query_one("#queue-year", Select)
        current = year.query_one("SelectCurrent")
        blurred = current.styles.background
        year.focus()
        await settle(pilot)
        focused = current.styles.background
        assert focused != blurred and focused.a > 0.3


@SIZES
@drives_the_app
async def test_help_shows_the_pane_in_view_first(school, size):
    async with running(school, size) as pilot:
        await press(pilot, "f2", "question_mark")
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        assert [title for title, _ in help_screen.sections][:2] == ["Sync log", "Everywhere"]


@drives_the_app
async def test_another_process_is_noticed_without_a_key(school):
    async with running(school) as pilot:
        app = pilot.app
        assert len(app.intake.queue.entries) == 5
        sync_export(school.parent, [p for p in PUPILS if p["Id"] != "104"])  # Rita leaves: her entry closes
        deadline = time.monotonic() + 15 * POLL_SECONDS  # a guard against hanging, not a wait
        while "104" in [e.mis_id for e in app.intake.queue.entries]:
            assert time.monotonic() < deadline, "the change was not noticed"
            await asyncio.sleep(0.05)
        await settle(pilot)  # the rest of the reload (the runs, the recycle bin) done before the app closes


@drives_the_app
async def test_f5_reads_everything_again(school):
    async with running(school) as pilot:
        app = pilot.app
        with library_of(load_config(school)).session() as session:
            session.execute(update(Borrower).where(Borrower.barcode == "S0004").values(forename="Oldest"))
        await press(pilot, "f5")
        assert [b.forename for b in app.recycle_bin.borrowers.values()] == ["Oldest"]


@SIZES
@drives_the_app
async def test_a_sync_s_warnings_from_the_run_log_are_shown(school, size):
    config = load_config(school)
    (sync_run,) = [r for r in library_of(config).rows("sync_runs") if r["kind"] == "sync"]
    append_lines(config.log_path, [f"sync ok run={sync_run['id']} source=export",
                                   f"{WARNING}the export has no SchoolInfo",
                                   "import ok run=99 source=borrowers.csv", f"{WARNING}not this run's"])
    async with running(school, size) as pilot:
        await press(pilot, "f2")
        report = label_text(pilot.app, "#log-run-report")
        assert report.startswith("⚠ the export has no SchoolInfo") and "not this run's" not in report


def test_the_run_log_gives_each_sync_its_own_warnings(tmp_path):
    log = tmp_path / "mislink.log"
    append_lines(log, ["sync ok run=7 source=a", f"{WARNING}first", "  students_seen=1", f"{WARNING}second",
                       "sync ok run=8 source=a", f"{WARNING}eighth's"])
    assert logged_warnings(log, {7}) == {7: ("first", "second")}
    assert logged_warnings(tmp_path / "missing.log", {7}) == {}
