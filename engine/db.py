"""Connecting to the library database and creating its tables on first use."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.models import Base


def connect(url: str, *, create: bool = True) -> Engine:
    """An Engine for the library; the tables are created if they are missing."""
    options: dict = {}
    if url.startswith("sqlite"):
        # Several processes (the TUI, a scheduled sync) share one file: wait for
        # each other's short write transactions rather than failing at once.
        options["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling delays BEGIN; take it over so that
        # a transaction begins when SQLAlchemy says so.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    if create:
        Base.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A large sync touches most pages of the borrowers and events indexes.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
