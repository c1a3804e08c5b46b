"""Shared fixtures. Engine tests run against every configured database:
SQLite always, PostgreSQL and MariaDB when their URLs are set (CI sets them).

Each test session works in a database of its own, created on the server named
by the URL and dropped at the end, so parallel runs never see each other."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session

from sqlalchemy.engine import make_url

from engine.db import connect
from engine.models import Base

SERVER_URLS = {"postgresql": "MISLINK_TEST_POSTGRES_URL", "mariadb": "MISLINK_TEST_MARIADB_URL"}
_engines: dict = {}
_created: list = []


def _server_engine(name: str):
    variable = SERVER_URLS[name]
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{variable} is not set, so the {name} tests are skipped (CI sets it)")
    if name not in _engines:
        _engines[name] = connect(_private_database(url))
    return _engines[name]


def _private_database(url: str) -> str:
    base = make_url(url)
    private = f"mislink_test_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {private}"))
        connection.execute(text(f"CREATE DATABASE {private}"))
    admin.dispose()
    _created.append((base, private))
    return base.set(database=private).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def library_url(request, tmp_path) -> str:
    """A URL to an empty library database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'library.sqlite'}"
    engine = _server_engine(request.param)
    with Session(engine) as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    return engine.url.render_as_string(hide_password=False)


def pytest_sessionfinish(session, exitstatus):
    for engine in _engines.values():
        engine.dispose()
    for base, private in _created:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if admin.dialect.name == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {private} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {private}"))
        admin.dispose()
