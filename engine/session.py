"""Opening the library for one command: one transaction, and for a command
that writes, the library lock, so that no two writers ever interleave."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy.orm import Session

from engine.config import Config
from engine.db import connect
from engine.lock import library_lock


@contextmanager
def open_library(config: Config, *, write: bool) -> Iterator[Session]:
    """A session in one transaction, committed when the block ends without an
    error. A read-only command never creates a library at a mistyped path."""
    engine = connect(config.library_url, create=write)
    try:
        with library_lock(engine) if write else nullcontext(), Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()
