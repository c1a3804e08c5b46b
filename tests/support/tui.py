"""Driving the terminal UI in tests: the app on a school, keys pressed as the
librarian presses them, and waiting until the app has done what they set off.

Every wait here is on the app's own state, never on the clock: no worker
waiting or running, no debounced call to come (``tui.debounce.waiting``), no
message waiting to be handled."""
from __future__ import annotations

import asyncio
import functools
import time
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from engine.config import load_config
from tests.builders import TODAY
from tui.app import MislinkApp, make_app
from tui.debounce import waiting

# How long to look away while a debounce's timer runs, or the app is at work in
# a way the checks below do not see: a look again, not a stand-in for the work.
POLL = 0.005
TIMEOUT = 30.0


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


def _nodes(app: App) -> list:
    return [app, *(node for screen in app.screen_stack for node in screen.walk_children(with_self=True))]


async def _queues_handled(app: App) -> None:
    """Until the messages already queued for the app, its screen, and any
    widget with messages waiting have been handled: a callback queued behind
    them on each comes back. (Hopping through every widget, idle or not,
    costs more than the rest of a test's waiting.)"""
    nodes = [app, app.screen, *(node for node in _nodes(app) if node.message_queue_size)]
    left = len(nodes)
    done = asyncio.Event()

    def one_more() -> None:
        nonlocal left
        left -= 1
        if not left:
            done.set()

    for node in nodes:
        if not node.call_later(one_more):
            one_more()  # not running: nothing to wait for
    await done.wait()


def _idle(app: App) -> bool:
    """No worker running, no debounced call to come, no message waiting, and
    nothing the screen holds back until it next repaints (Textual's
    ``call_after_refresh``, which fills a long table a chunk at a time)."""
    return all(worker.is_finished for worker in app.workers) and not waiting(app) and \
        not app.screen._callbacks and not any(node.message_queue_size for node in _nodes(app))


async def settle(pilot: Pilot, timeout: float = TIMEOUT) -> None:
    """Until the app has done all it was asked to: every worker finished,
    every debounced call made, every message handled. Idle twice in a row:
    a callback the screen runs after a repaint (the footer rebuilding its
    keys) queues nothing while it waits for widgets to go, and the second
    look waits behind it."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    idle_before = False
    while True:
        # A failed worker is the app's to show (ErrorDialog), not the test's to raise.
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await _queues_handled(app)
        idle = _idle(app)
        if idle and idle_before:
            return
        idle_before = idle
        if not idle:
            # A debounce, or the screen's next repaint, waits on the clock by design.
            await asyncio.sleep(POLL if waiting(app) or app.screen._callbacks else 0)
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")


def send_keys(app: App, *keys: str) -> None:
    """Keys as the terminal delivers them, all queued at once (a printable
    key carries its character, as typing into a box needs)."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def type_keys(pilot: Pilot, *keys: str) -> None:
    """Keys as a quick typist presses them: each acted on, and the messages
    that set off handled, before the next; no waiting for the work they
    started (a worker, a debounce)."""
    for key in keys:
        send_keys(pilot.app, key)
        await keys_handled(pilot.app)
        await messages_handled(pilot.app)


async def messages_handled(app: App) -> None:
    """Until no message waits anywhere in the app (a worker or a debounce
    may still be at work)."""
    while True:
        await _queues_handled(app)
        if not any(node.message_queue_size for node in _nodes(app)):
            return


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys as the librarian would, then wait for what they set off."""
    await type_keys(pilot, *keys)
    await settle(pilot)


async def highlight(pilot: Pilot, mis_id: str) -> None:
    """Move the Intake cursor, with the keyboard, to this pupil's entry."""
    app = pilot.app
    for _ in range(len(app.intake.queue.entries) + 1):
        if app.intake.entry is not None and app.intake.entry.mis_id == mis_id:
            await settle(pilot)
            return
        await type_keys(pilot, "down")
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


async def until_steady(pilot: Pilot, timeout: float = TIMEOUT) -> None:
    """Until the app has settled and the Intake pane is not deciding and
    shows the highlighted record's own suggestions (or the results of the
    search typed), unless a dialog is waiting for an answer."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await keys_handled(app)
    while True:
        await settle(pilot, timeout)
        pane = app.intake
        asking = len(app.screen_stack) > 1
        intake_ready = not pane.busy and pane.suggestions.shown == pane.entry == pane.queue.under_cursor and \
            not (pane.searching and pane.search.searching)
        if asking or intake_ready:
            return
        await asyncio.sleep(POLL)
        if time.monotonic() > deadline:
            raise AssertionError("the app did not settle")


async def switch_photos_off(pilot) -> None:
    """On the Settings pane, the photos switch pressed off (which asks first)."""
    await press(pilot, "f4")
    pilot.app.query_one("#setting-data-photos").focus()
    await pilot.wait_for_scheduled_animations()  # focusing scrolls the switch into view
    await press(pilot, "space")
