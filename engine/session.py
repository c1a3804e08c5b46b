"""Opening the library for one command: one transaction, and for a command
that writes, the library lock, so that no two writers ever interleave.

Work is done only once the commit has returned. Whatever goes wrong in the
commit itself (a full disk, a connection lost at commit, a constraint the
database checks only then) raises ``CommitFailed``: nothing was written, and a
caller must not report anything of that work as done.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.config import Config
from engine.db import connect, driver_reason
from engine.lock import library_lock


class CommitFailed(Exception):
    """The library did not save the transaction; nothing was written. The
    message says why in the driver's words (never the SQL or its values)."""


@contextmanager
def open_library(config: Config, *, write: bool) -> Iterator[Session]:
    """A session in one transaction, committed when the block ends without an
    error. A read-only command never creates a library at a mistyped path."""
    engine = connect(config.library_url, create=write)
    try:
        with transaction(engine, lock=write) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def transaction(engine: Engine, *, lock: bool) -> Iterator[Session]:
    """A session in one transaction on ``engine`` (holding the library lock if
    ``lock``), committed when the block ends without an error; rolled back if
    it raises or the caller rolled back already."""
    with library_lock(engine) if lock else nullcontext(), Session(engine) as session:
        session.begin()
        yield session
        connection = session.connection()
        try:
            session.commit()
        except Exception as exc:  # noqa: BLE001 - any failure here means nothing was saved
            # Whatever state the failed commit left the connection in, it is
            # closed, never reused: the database rolls back what it still holds.
            connection.invalidate()
            reason = driver_reason(exc) if isinstance(exc, SQLAlchemyError) else \
                f"unexpected error ({type(exc).__name__})"
            raise CommitFailed(reason) from exc
