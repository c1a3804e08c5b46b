"""A decision made on the screen whose commit fails is never shown as done:
the librarian is told nothing was written, the library is as it was, and the
next decision works (the failed connection is never reused)."""
from __future__ import annotations

from engine.config import load_config
from tests.support.faults import failing_commit
from tests.support.schools import build_school, library_of
from tests.support.tui import drives_the_app, highlight, press, running
from tui.dialogs.error import ErrorDialog


@drives_the_app
async def test_a_decision_whose_commit_fails_says_nothing_was_written(tmp_path):
    path = build_school(tmp_path)
    library = library_of(load_config(path))
    before = library.rows("intake")
    async with running(path) as pilot:
        app = pilot.app
        await highlight(pilot, "101")
        with failing_commit(load_config(path).library_url, "disk"):
            await press(pilot, "1")
        assert isinstance(app.screen, ErrorDialog)
        shown = " ".join(str(label.render()) for label in app.screen.query("Label"))
        assert "nothing was written" in shown and "disk is full" in shown
        assert library.rows("intake") == before
        await press(pilot, "escape")
        await highlight(pilot, "101")
        await press(pilot, "1")
        assert not isinstance(app.screen, ErrorDialog)
    assert next(r for r in library.rows("intake") if r["mis_id"] == "101")["status"] == "matched"
