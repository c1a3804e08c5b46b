"""A small, deterministic school and library for the terminal UI's tests
(shared by the ``test_tui_*`` files; it holds no tests itself).

Four borrowers typed in by hand; five pupils in the export: Alfie Smith is
Alfred Smyth (a suggestion), Grace Hopper matches on her own, Zed Newman is
new, Rita Stone is to be rejected, Bea and Ben Twin are twins the library has
only one record like. Every time the app shows is fixed, so screenshots
repeat.
"""
from __future__ import annotations

import asyncio
import functools
import time
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from engine.config import Config, load_config, save_config
from engine.models import SyncEvent, SyncRun
from engine.sync import run_sync
from tests.builders import TODAY, Library, make_config, student, write_export
from tui.app import MislinkApp, make_app

SHOWN_AT = datetime(2024, 3, 1, 7, 30)
POLL = 0.005
ALFIE = student("Alfie", "Smith", "2012-03-04", Id="101", LegalForename="Alfred", Gender="M")
GRACE = student("Grace", "Hopper", "2011-12-09", Id="102")
ZED = student("Zed", "Newman", "2011-10-09", Id="103", YearGroup="Year  9", RegGroup="9C", Gender="M")
RITA = student("Rita", "Stone", "2012-06-30", Id="104")
BEA = student("Bea", "Twin", "2012-01-15", Id="105", RegGroup="8B")
BEN = student("Ben", "Twin", "2012-01-15", Id="106", RegGroup="8B", Gender="M")
PUPILS = [ALFIE, GRACE, ZED, RITA, BEA, BEN]


def build_school(tmp_path: Path, pupils: list[dict] = PUPILS, url: str | None = None) -> Path:
    """The library (SQLite unless ``url`` names another, empty one) after its
    first sync; returns the path of its config.toml."""
    url = url or f"sqlite:///{tmp_path / 'library.sqlite'}"
    library = Library(url)
    library.add_borrower("S0001", "Alfred", "Smyth", "2012-03-04", gender="M", year_group="Year 8",
                         tutor_group="8A")
    library.add_borrower("S0002", "Grace", "Hopper", "2011-12-09", gender="F", year_group="Year 8",
                         tutor_group="8A")
    library.add_borrower("S0003", "Bea", "Twin", "2012-01-15", gender="F", year_group="Year 8", tutor_group="8B")
    library.add_borrower("S0004", "Old", "Leaver", "2010-05-05", gender="M", year_group="Year 10",
                         tutor_group="10A", mis_id="99")
    # A handful of pupils: one leaver is already more than the guards allow.
    config = make_config(tmp_path, url, barcodes={"prefix": "S", "digits": 4},
                         sync={"max_recycle_share": 1.0, "min_export_share": 0.0})
    path = tmp_path / "config.toml"
    save_config(config, path)
    sync_export(tmp_path, pupils)
    return path


def sync_export(tmp_path: Path, pupils: list[dict]):
    """Write the export and sync it as the scheduled ``mislink --sync`` would;
    every time it records is then set to ``SHOWN_AT``."""
    write_export(tmp_path / "export", Students=pupils)
    config = load_config(tmp_path / "config.toml")
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    with library_of(config).session() as session:
        session.execute(update(SyncRun).values(started_at=SHOWN_AT, finished_at=SHOWN_AT))
        session.execute(update(SyncEvent).values(at=SHOWN_AT))
    return report


def library_of(config: Config) -> Library:
    return Library(config.library_url)


def app_for(path: Path) -> MislinkApp:
    return make_app(load_config(path), path, today=TODAY)


@asynccontextmanager
async def running(path: Path, size: tuple[int, int] = (80, 24)):
    """The app on this school, its first loads done: the pilot to drive it."""
    app = app_for(path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield pilot


def drives_the_app(scenario):
    """Run an ``async def`` test (no asyncio plugin is installed): the test
    keeps its fixtures, the scenario runs in a fresh event loop."""
    @functools.wraps(scenario)
    def test(*args, **kwargs):
        asyncio.run(scenario(*args, **kwargs))
    return test


async def settle(pilot: Pilot, rounds: int = 4) -> None:
    """Let every worker finish and every short pause (debounces) pass."""
    for _ in range(rounds):
        # A failed worker is the app's to show (ErrorDialog), not the test's to raise.
        with suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys as the librarian would, then wait for what they set off."""
    await pilot.press(*keys)
    await settle(pilot)


async def highlight(pilot: Pilot, mis_id: str) -> None:
    """Move the Intake cursor, with the keyboard, to this pupil's entry."""
    app = pilot.app
    for _ in range(len(app.intake.queue.entries) + 1):
        if app.intake.entry is not None and app.intake.entry.mis_id == mis_id:
            await settle(pilot)
            return
        await pilot.press("down")
    raise AssertionError(f"no Intake entry for MIS id {mis_id}")


async def keys_handled(app) -> None:
    """Until the keys sent so far have been acted on. The app hands a key to
    the focused widget, from which it bubbles up through every container back
    to the app, which runs its binding: a callback passed along the same
    queues arrives behind it."""
    done = asyncio.Event()

    def hop(path: list) -> None:
        if path:
            path[0].call_later(hop, path[1:])
        else:
            done.set()

    hop([app, *(app.focused or app.screen).ancestors_with_self])
    await done.wait()


async def until_steady(pilot: Pilot, timeout: float = 30.0) -> None:
    """Wait on the app's state, not the clock: until no worker is waiting or
    running and the Intake pane is not deciding and shows the highlighted
    record's own suggestions (or the results of the search typed), unless a
    dialog is waiting for an answer."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await keys_handled(app)
    while True:
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        # A short look again, not a pause that stands for the work being done.
        await asyncio.sleep(POLL)
        pane = app.intake
        working = any(not worker.is_finished for worker in app.workers)
        asking = len(app.screen_stack) > 1
        intake_ready = not pane.busy and pane.suggestions.shown == pane.entry == pane.queue.under_cursor and \
            not (pane.searching and pane.search.searching)
        if not working and (asking or intake_ready):
            return
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")
