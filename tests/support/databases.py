"""The tests' own way into a library database, for seeding it and reading it
back: apart from the engine's, and cheap, because tests open a library
thousands of times.

``engine.db.connect`` makes any missing table and column first: dozens of
catalogue queries on a server. So the engine it returns is kept and used
again. A server library is one database per test process
(tests/conftest.py), its tables made once and only ever emptied: its engine
is kept, with its pool, for the whole run (an idle pooled connection holds no
lock, so the engine's own runs never wait on it). A SQLite library is a file
of the test's own: the engines of the last few files are kept, and no
connection to a file outlives the block that used it."""
from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from engine.db import connect

SQLITE_KEPT = 8
_kept: OrderedDict[str, Engine] = OrderedDict()


@contextmanager
def library_engine(url: str) -> Iterator[Engine]:
    """An engine on the library at ``url``, its tables made, for one block."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and not os.path.isabs(parsed.database or ""):
        engine = connect(url)  # a file named relative to where the test runs: never kept
        try:
            yield engine
        finally:
            engine.dispose()
        return
    engine = _kept.get(url)
    if engine is None:
        engine = _kept[url] = connect(url)
    _kept.move_to_end(url)
    try:
        yield engine
    finally:
        if sqlite:
            engine.dispose()
            files = [kept for kept in _kept if kept.startswith("sqlite")]
            for old in files[:-SQLITE_KEPT]:
                _kept.pop(old).dispose()


def dispose_kept() -> None:
    """Close the kept engines' connections (at the end of the run)."""
    for engine in _kept.values():
        engine.dispose()
    _kept.clear()
