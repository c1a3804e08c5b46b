"""Shared fixtures. Engine tests run against every configured database:
SQLite always, PostgreSQL and MariaDB when their URLs are set (CI sets them).
Where a URL is not set, that server's tests are deselected and the run says
so in one line at the end.

Each test process (each pytest-xdist worker too) works in a server database
of its own, created on the server named by the URL and dropped at the end, so
parallel runs never see each other. Its tables are made once; each test
starts from them emptied. A SQLite test starts from a copy of a file whose
tables were made once, rather than making them again. The tests' own reads
and writes go through tests/support/databases.py."""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from engine.db import connect
from engine.models import Base
from tests.support.databases import dispose_kept, library_engine

# Fixtures more than one test module uses (feeds: ``fake`` and ``sleeps``; ``koha``).
pytest_plugins = ["tests.support.feeds", "tests.support.koha"]

SERVERS = {"postgresql": ("PostgreSQL", "MISLINK_TEST_POSTGRES_URL"),
           "mariadb": ("MariaDB", "MISLINK_TEST_MARIADB_URL")}
_urls: dict[str, str] = {}
_created: list = []


def _unset_servers() -> list[str]:
    return [name for name, (_, variable) in SERVERS.items() if not os.environ.get(variable)]


def pytest_collection_modifyitems(config, items):
    """Leave out the tests of a server whose URL is not set: one line at the
    end says so, rather than a skip per test."""
    unset = set(_unset_servers())
    kept, left_out = [], []
    for item in items:
        server = getattr(item, "callspec", None) and item.callspec.params.get("library_url")
        (left_out if server in unset else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_terminal_summary(terminalreporter, config):
    unset = _unset_servers()
    if unset:
        names = " and ".join(SERVERS[name][0] for name in unset)
        variables = " and ".join(SERVERS[name][1] for name in unset)
        verb, pronoun = ("is", "it") if len(unset) == 1 else ("are", "them")
        terminalreporter.write_line(f"{names} tests not run: {variables} {verb} not set (CI sets {pronoun})")


def _server_url(name: str) -> str:
    if name not in _urls:
        _urls[name] = _private_database(os.environ[SERVERS[name][1]])
    return _urls[name]


def _private_database(url: str) -> str:
    base = make_url(url)
    private = f"mislink_test_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {private}"))
        connection.execute(text(f"CREATE DATABASE {private}"))
        if admin.dialect.name == "postgresql":
            # A test database need not outlive a server crash: a commit need
            # not wait for the disk (a few milliseconds each, thousands a run).
            connection.execute(text(f"ALTER DATABASE {private} SET synchronous_commit = off"))
    admin.dispose()
    _created.append((base, private))
    return base.set(database=private).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """A library file with every table made and no rows."""
    path = tmp_path_factory.mktemp("template") / "library.sqlite"
    connect(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def library_url(request, tmp_path) -> str:
    """A URL to an empty library database of each kind, its tables made."""
    if request.param == "sqlite":
        path = tmp_path / "library.sqlite"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        path.chmod(0o600)  # as the engine makes a library file
        return f"sqlite:///{path}"
    url = _server_url(request.param)
    with library_engine(url) as engine, Session(engine) as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    return url


def pytest_sessionfinish(session, exitstatus):
    dispose_kept()
    for base, private in _created:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if admin.dialect.name == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {private} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {private}"))
        admin.dispose()
