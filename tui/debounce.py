"""Acting once the librarian pauses: typing in a box, or running the cursor
down the queue, should not start a search or a suggestion per key press."""
from __future__ import annotations

from typing import Callable

from textual.timer import Timer
from textual.widget import Widget


class Debounce:
    """``debounce(callback)`` calls ``callback`` after ``pause`` seconds
    unless called again first; ``cancel`` forgets the waiting call."""

    def __init__(self, widget: Widget, pause: float):
        self.widget, self.pause = widget, pause
        self._timer: Timer | None = None

    def __call__(self, callback: Callable[[], object]) -> None:
        self.cancel()
        self._timer = self.widget.set_timer(self.pause, callback)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
