"""Opening the library for one command: one transaction, and for a command
that writes, the library lock, so that no two writers ever interleave.

Work is done only once the commit has returned. Whatever goes wrong in the
commit itself (a full disk, a connection lost at commit, a constraint the
database checks only then) raises ``CommitFailed``: nothing was written, and a
caller must not report anything of that work as done.

A Koha library (``engine.koha``) is brought into the mirror right after a
locked transaction begins and written back just before it commits, so a
failed write to Koha is a failed commit too: nothing written. An unlocked
transaction first brings the mirror up to date in a short locked one of its
own, unless Koha's patrons look unchanged since (``engine.koha.fingerprint``)
or another writer holds the lock (then it reads the mirror as last seen).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.config import Config
from engine.db import driver_reason
from engine.koha.bridge import bridge_for, connect_library
from engine.lock import LibraryBusy, library_lock

log = logging.getLogger(__name__)


class CommitFailed(Exception):
    """The library did not save the transaction; nothing was written. The
    message says why in the driver's words (never the SQL or its values)."""


@contextmanager
def open_library(config: Config, *, write: bool) -> Iterator[Session]:
    """A session in one transaction, committed when the block ends without an
    error. A read-only command never creates a library at a mistyped path."""
    engine = connect_library(config, create=write)
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
    bridge = bridge_for(engine)
    if bridge is not None and not lock and not bridge.unchanged(engine):
        _refresh(engine)
    with library_lock(engine) if lock else nullcontext(), Session(engine) as session:
        session.begin()
        if bridge is not None and lock:
            bridge.pull(session)
        yield session
        # A caller that rolled back already has nothing for Koha.
        pushed = bridge is not None and lock and session.in_transaction()
        if pushed:
            bridge.push(session)
        connection = session.connection()
        try:
            session.commit()
            if pushed:
                bridge.committed(session)
        except Exception as exc:  # noqa: BLE001 - any failure here means nothing was saved
            # Whatever state the failed commit left the connection in, it is
            # closed, never reused: the database rolls back what it still holds.
            connection.invalidate()
            reason = driver_reason(exc) if isinstance(exc, SQLAlchemyError) else \
                f"unexpected error ({type(exc).__name__})"
            raise CommitFailed(reason) from exc


def _refresh(engine: Engine) -> None:
    """Bring a Koha library's mirror up to date before a read: a locked
    transaction that pulls and commits, writing nothing when Koha has not
    changed."""
    try:
        with transaction(engine, lock=True):
            pass
    except LibraryBusy:
        log.info("another mislink process is writing: reading the Koha mirror as last brought up to date")
