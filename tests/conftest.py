"""Shared fixtures. Engine tests run against every configured database:
SQLite always, PostgreSQL and MariaDB when their URLs are set (CI sets them)."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.db import connect
from engine.models import Base

SERVER_URLS = {"postgresql": "MISLINK_TEST_POSTGRES_URL", "mariadb": "MISLINK_TEST_MARIADB_URL"}
_engines: dict = {}


def _server_engine(name: str):
    variable = SERVER_URLS[name]
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{variable} is not set, so the {name} tests are skipped (CI sets it)")
    if name not in _engines:
        engine = connect(url, create=False)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        _engines[name] = engine
    return _engines[name]


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
