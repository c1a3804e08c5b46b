"""A live feed's progress on the terminal: one bar per endpoint, on stderr.

``page_bars()`` returns the ``pages`` callback for ``run_sync`` and
``fetch_snapshot``, or None when stderr is not a terminal (a scheduled run,
a pipe): then nothing is shown at all. Each endpoint's bar is redrawn in
place as its pages arrive (pages done / page count) and left on its own line
when the endpoint is complete.
"""
from __future__ import annotations

import sys
from typing import Callable, TextIO

WIDTH = 30


def page_bars(stream: TextIO | None = None) -> Callable[[str, int, int], None] | None:
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(endpoint: str, done: int, count: int) -> None:
        filled = WIDTH * done // max(count, 1)
        stream.write(f"\r{endpoint:<16} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{count} pages")
        if done >= count:
            stream.write("\n")
        stream.flush()

    return show
