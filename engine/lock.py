"""One writer at a time, across processes, on every supported database.

A sync, a borrower import, a recycle-bin purge and an Intake decision each
take this lock while they write. A second writer never waits and never
interleaves: it fails at once with ``LibraryBusy``, so a librarian's decision
can never be overwritten by a nightly sync that planned before it. Each lock
is released by the operating system or the database server when its holder
dies, so a killed run never blocks the next one.

- SQLite: ``flock`` on a ``<database>.lock`` file beside the database, named
  after the file's real path, so that two configs reaching one file through a
  symlink or a ``..`` path still exclude each other.
- PostgreSQL: a session-level advisory lock.
- MariaDB/MySQL: ``GET_LOCK`` (a named lock owned by the connection), named
  after the library's database.
- SQL Server: ``sp_getapplock`` owned by the session.

The server locks belong to a connection, so the lock is held on a connection of
its own, outside the pool's reuse, and that connection is closed afterwards.
Releasing never fails the work it guarded: a lock whose connection is lost was
released by the server with it.
"""
from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import Refusal

log = logging.getLogger(__name__)

LOCK_NAME = "mislink-sync"
# pg_try_advisory_lock takes a bigint; any fixed number unique to mislink will do.
PG_LOCK_KEY = 0x6D69736C696E6B


BUSY = ("another mislink process is changing this library (a sync, an import or an Intake decision); "
        "try again when it has finished")


class LibraryBusy(Refusal):
    """Another mislink process is writing to the library."""


@contextmanager
def library_lock(engine: Engine) -> Iterator[None]:
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with _file_lock(engine.url.database):
            yield
        return
    connection = engine.connect()
    try:
        acquired = _try_server_lock(connection, dialect)
        if not acquired:
            raise LibraryBusy(BUSY)
        try:
            yield
        finally:
            try:
                _release_server_lock(connection, dialect)
            except SQLAlchemyError:
                log.warning("the library lock's connection was lost; the database server released the lock")
    finally:
        connection.invalidate()  # never hand a lock-holding connection back to the pool
        connection.close()


def _try_server_lock(connection, dialect: str) -> bool:
    if dialect == "postgresql":
        return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}).scalar())
    if dialect in ("mysql", "mariadb"):
        name = _server_lock_name(connection)
        return connection.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": name}).scalar() == 1
    if dialect == "mssql":
        result = connection.execute(text(
            "DECLARE @r int; EXEC @r = sp_getapplock @Resource = :name, @LockMode = 'Exclusive', "
            "@LockOwner = 'Session', @LockTimeout = 0; SELECT @r"), {"name": LOCK_NAME}).scalar()
        return result is not None and result >= 0
    raise LibraryBusy(f"cannot lock a {dialect} library: unsupported database; library.url must name a SQLite, "
                      "PostgreSQL, MariaDB/MySQL or SQL Server database")


def _server_lock_name(connection) -> str:
    """MariaDB's named locks are server-wide: name the library's own database
    so that two libraries on one server do not block each other."""
    return f"{LOCK_NAME}:{connection.engine.url.database}"[:64]


def _release_server_lock(connection, dialect: str) -> None:
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
    elif dialect in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _server_lock_name(connection)})
    elif dialect == "mssql":
        connection.execute(text("EXEC sp_releaseapplock @Resource = :name, @LockOwner = 'Session'"),
                           {"name": LOCK_NAME})


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:":
        yield  # a private in-memory library cannot be shared
        return
    path = Path(f"{os.path.realpath(database)}.lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LibraryBusy(BUSY) from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
