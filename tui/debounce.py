"""Acting once the librarian pauses: typing in a box, or running the cursor
down the queue, should not start a search or a suggestion per key press.

``waiting(app)`` says how many debounced calls are still to come in ``app``:
with no worker running and no message queued, none waiting means the app has
done all it was asked to (what tests wait on, rather than the clock)."""
from __future__ import annotations

from typing import Callable
from weakref import WeakKeyDictionary

from textual.app import App
from textual.timer import Timer
from textual.widget import Widget

# The debounces with a call still to come, by app.
_waiting: WeakKeyDictionary[App, set[Debounce]] = WeakKeyDictionary()


def waiting(app: App) -> int:
    """How many debounced calls are still to come in ``app`` (a widget taken
    off the screen takes its timer with it)."""
    return sum(1 for debounce in _waiting.get(app, ()) if debounce.widget.is_running)


class Debounce:
    """``debounce(callback)`` calls ``callback`` after ``pause`` seconds
    unless called again first; ``cancel`` forgets the waiting call."""

    def __init__(self, widget: Widget, pause: float):
        self.widget, self.pause = widget, pause
        self._timer: Timer | None = None
        self._app: App | None = None

    def __call__(self, callback: Callable[[], object]) -> None:
        self.cancel()

        def call() -> object:
            self._done()
            return callback()

        self._app = self.widget.app
        _waiting.setdefault(self._app, set()).add(self)
        self._timer = self.widget.set_timer(self.pause, call)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._done()

    def _done(self) -> None:
        self._timer = None
        if self._app is not None:
            _waiting.get(self._app, set()).discard(self)
            self._app = None
