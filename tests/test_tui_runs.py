"""Undoing a whole run from the sync log: u on the highlighted run shows what
the undo would put back (a dry run) and asks, Cancel focused; y undoes it,
and the log shows the undo as a run of its own. Checked where it lands: the
library. The run to undo moves Grace to 9G and adds Nora to Intake."""
from __future__ import annotations

import pytest
from sqlalchemy import update
from textual.widgets import Label

from engine.config import load_config
from engine.models import IntakeEntry
from tests.builders import student
from tests.support.schools import GRACE, PUPILS, build_school, library_of, sync_export
from tests.support.tui import drives_the_app, press, running
from tui.dialogs.confirm import Confirm
from tui.dialogs.error import ErrorDialog

# A name that looks like markup, and must be shown as it is.
NORA = student("Nora [b]", "Newcomer", "2013-02-02", Id="107", YearGroup="Year  7", RegGroup="7A")


@pytest.fixture
def school(tmp_path):
    path = build_school(tmp_path)
    pupils = [dict(p, RegGroup="9G") if p is GRACE else p for p in PUPILS]
    sync_export(tmp_path, pupils + [NORA])
    return path


def runs(path) -> dict[int, dict]:
    return {row["id"]: row for row in library_of(load_config(path)).rows("sync_runs")}


def waiting(path) -> set[str]:
    return {entry["mis_id"] for entry in library_of(load_config(path)).intake()}


def grace_group(path) -> str:
    return library_of(load_config(path)).borrower("S0002")["tutor_group"]


def decide_nora(path) -> None:
    """A change made since the run: Nora's entry rejected."""
    with library_of(load_config(path)).session() as session:
        session.execute(update(IntakeEntry).where(IntakeEntry.mis_id == "107").values(status="rejected"))


def question(app) -> str:
    return " ".join(str(label.render()) for label in app.screen.query(Label))


@drives_the_app
async def test_the_sync_log_undoes_the_highlighted_run_once_asked(school):
    last = max(runs(school))
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f2")
        assert app.sync_log.wanted.run_id == last
        await press(pilot, "u")
        assert isinstance(app.screen, Confirm)
        assert f"This puts back 2 changes run {last} made (borrowers updated: 1; Intake entries removed: 1)" \
            in question(app)
        await press(pilot, "enter")  # Cancel has the focus: nothing is undone by habit
        assert not isinstance(app.screen, Confirm)
        assert runs(school)[last]["undone_by_run"] is None and "107" in waiting(school)
        await press(pilot, "u")
        await press(pilot, "y")
        undo = runs(school)[last]["undone_by_run"]
        assert undo is not None and runs(school)[undo]["undo_of"] == last
        assert "107" not in waiting(school) and grace_group(school) == "8A"
        assert app.sync_log.wanted.run_id == undo  # the undo, highlighted in the log
        assert "107" not in [e.mis_id for e in app.intake.queue.entries]
        await press(pilot, "down")
        assert app.sync_log.wanted.run_id == last
        assert app.sync_log.highlighted.undone_by_run == undo
        assert app.sync_log.check_action("undo_run", (False,)) is False  # u is not offered again


@drives_the_app
async def test_what_was_changed_since_is_named_and_left_alone_unless_forced(school):
    decide_nora(school)
    last = max(runs(school))
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f2")
        await press(pilot, "u")
        assert isinstance(app.screen, Confirm)
        assert "It leaves 1 alone: Intake entry" in question(app)
        assert "(Nora [b] Newcomer): changed since the run (status)" in question(app)
        assert "U (shift+u) undoes the run putting back what was changed since too." in question(app)
        await press(pilot, "escape")
        await press(pilot, "U")
        assert isinstance(app.screen, Confirm) and f"Undo run {last} (forced)?" in question(app)
        assert "It leaves" not in question(app)
        await press(pilot, "y")
        assert runs(school)[last]["undone_by_run"] is not None
        assert grace_group(school) == "8A" and "107" not in waiting(school)


@drives_the_app
async def test_an_undo_with_nothing_left_to_put_back_says_why(school, tmp_path):
    decide_nora(school)
    sync_export(tmp_path, [dict(p, RegGroup="9H") if p is GRACE else p for p in PUPILS])  # Grace moved on
    last = max(runs(school)) - 1
    async with running(school) as pilot:
        app = pilot.app
        await press(pilot, "f2")
        await press(pilot, "down")
        assert app.sync_log.wanted.run_id == last
        await press(pilot, "u")
        assert isinstance(app.screen, ErrorDialog)
        assert f"Nothing of run {last}" in question(app) and "changed since the run (status)" in question(app)
        assert runs(school)[last]["undone_by_run"] is None
