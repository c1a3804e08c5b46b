"""Faults injected into the library's connection, as a network or a full disk
would cause them."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session


def kill_own_connection(session) -> None:
    """Have the server drop this session's connection, as a network fault would."""
    url = session.get_bind().url
    admin = create_engine(url)
    with admin.connect() as connection:
        if url.get_backend_name() == "postgresql":
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        else:
            pid = session.execute(text("SELECT CONNECTION_ID()")).scalar()
            connection.execute(text(f"KILL CONNECTION {int(pid)}"))
    admin.dispose()


@contextmanager
def failing_commit(url: str, kind: str):
    """The next session commit fails: in the driver, as a full disk does
    ("disk"), because the server dropped the connection just before it
    ("lost"), or with any other error raised at commit ("bug"). Only once, so
    that the failed run can still be recorded."""
    dialect = type(create_engine(url).dialect)
    armed = []

    def arm(session):
        if not armed:
            armed.append(True)
            if kind == "bug":
                raise RuntimeError("injected at commit")
            if kind == "lost":
                kill_own_connection(session)

    real = dialect.do_commit

    def do_commit(self, dbapi_connection):
        if armed and armed[0] is True and kind == "disk":
            armed[0] = "fired"
            raise self.loaded_dbapi.OperationalError("database or disk is full (injected)")
        return real(self, dbapi_connection)

    event.listen(Session, "before_commit", arm)
    dialect.do_commit = do_commit
    try:
        yield armed
    finally:
        event.remove(Session, "before_commit", arm)
        dialect.do_commit = real
