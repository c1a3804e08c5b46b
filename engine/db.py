"""Connecting to the library database and creating its tables on first use."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import Refusal
from engine.schema import bring_up_to_date


class LibraryMissing(Refusal):
    """There is no library database at the configured place yet."""


# The Engines of the last few libraries opened are kept for the life of the
# process: SQLAlchemy compiles each statement once per Engine, and a run
# compiles dozens (a quarter of a small sync's time went on it). Callers still
# dispose() an Engine when they are done, which closes its connections; it
# opens new ones when next used.
KEPT_ENGINES = 4
_kept: OrderedDict[str, Engine] = OrderedDict()
_kept_lock = threading.Lock()


def connect(url: str, *, create: bool = True, check: Callable[[Engine], None] | None = None) -> Engine:
    """An Engine for the library. With ``create`` the tables are made if they
    are missing (and a new SQLite file readable by its owner only); without
    it, a missing SQLite file is an error rather than a new empty library at a
    mistyped path. ``check`` may refuse the database before any table is
    made (a Koha library: ``engine.koha.bridge``)."""
    engine = _engine(url)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not Path(database).exists():
        if not create:
            raise LibraryMissing(f"there is no library at {database} yet; run a sync first")
        _create_private(Path(database))
    if check is not None:
        try:
            check(engine)
        except BaseException:
            engine.dispose()
            raise
    bring_up_to_date(engine, create=create)
    return engine


def _engine(url: str) -> Engine:
    with _kept_lock:
        engine = _kept.pop(url, None) or _new_engine(url)
        _kept[url] = engine
        if len(_kept) > KEPT_ENGINES:
            _kept.popitem(last=False)  # whoever still uses it keeps it; nothing is closed under them
        return engine


def _new_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url)
    # Several processes (the TUI, a scheduled sync) share one file: wait for
    # each other's short write transactions rather than failing at once.
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    # pysqlite's own transaction handling delays BEGIN; take it over so that
    # a transaction begins when SQLAlchemy says so.
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def _create_private(path: Path) -> None:
    """Pupils' records: a new library file starts readable by its owner only
    (SQLite's -wal and -shm files follow its mode). Where it cannot be made,
    SQLite itself reports why when it tries."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError:
        pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A large sync touches most pages of the borrowers and events indexes.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def driver_reason(exc: SQLAlchemyError) -> str:
    """The database driver's own words, without the SQL statement and its
    parameters that SQLAlchemy appends (they may hold a pupil's data)."""
    original = getattr(exc, "orig", None)
    return str(original or exc).splitlines()[0][:300]
