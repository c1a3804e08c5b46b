"""A Koha library for tests: Koha's real patron tables, read at run time from
``../shared/koha/patron-tables.sql`` (never copied into this project), in a
MariaDB database of this test process's own.

The schema is loaded once per process; each test starts with every table
(Koha's and mislink's) emptied and a branch, the pupil, staff and leaver
categories, a category of adults and mislink's attribute types seeded. Tests
that need it are skipped, saying why, where MISLINK_TEST_MARIADB_URL is unset
or ``../shared/koha`` is absent.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url

from engine.config import Config
from engine.koha.setup import setup_attribute_types
from engine.koha.tables import KohaTables
from tests.builders import make_config

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "koha"
SCHEMA = SHARED / "patron-tables.sql"
# Koha's whole schema file, unabridged, for the full-schema check.
FULL_SCHEMA = SHARED / "kohastructure.sql"
MARIADB = "MISLINK_TEST_MARIADB_URL"
# The tables holding patrons' data, for comparing Koha before and after.
PATRON_TABLES = ("borrowers", "borrower_attributes", "patronimage", "issues", "old_issues", "categories",
                 "branches", "borrower_attribute_types", "deletedborrowers")
KOHA = {"branchcode": "MAIN", "student_category": "ST", "staff_category": "S", "leaver_category": "LEAVER"}

needs_koha = pytest.mark.skipif(
    not os.environ.get(MARIADB) or not SCHEMA.is_file(),
    reason=f"Koha tests need {MARIADB} and Koha's schema at {SCHEMA}")

_database: dict[str, str] = {}


def _statements(sql: str):
    """The dump's statements: comment lines dropped; its /*!…*/ lines are
    MariaDB's versioned comments and run as the statements they hold."""
    for chunk in sql.split(";\n"):
        body = "\n".join(line for line in chunk.splitlines() if line.strip() and not line.startswith("--")).strip()
        if body:
            yield body


def load_schema(schema: Path, name: str) -> str:
    """A new MariaDB database ``name`` (dropped first if there) holding the
    tables of ``schema`` (a mysqldump of Koha's); its URL."""
    base = make_url(os.environ[MARIADB])
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    loader = create_engine(url, isolation_level="AUTOCOMMIT")
    with loader.connect() as connection:
        for statement in _statements(schema.read_text(encoding="utf-8")):
            connection.exec_driver_sql(statement)
    loader.dispose()
    return url


def drop_database(name: str) -> None:
    admin = create_engine(os.environ[MARIADB], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def koha_database() -> str:
    """This process's Koha database, its schema loaded (once)."""
    if "url" not in _database:
        name = f"mislink_koha_{os.getpid()}"
        _database.update(url=load_schema(SCHEMA, name), name=name)
    return _database["url"]


@contextmanager
def empty_database() -> Iterator[str]:
    """The URL of a new, empty MariaDB database (not Koha), dropped after."""
    base = make_url(os.environ[MARIADB])
    name = f"mislink_not_koha_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def drop_koha_database() -> None:
    if "url" in _database:
        drop_database(_database["name"])


class Koha:
    """The test's Koha database seen directly, as a librarian using Koha
    would see and change it."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as connection:
            self.tables = KohaTables.reflect(connection)

    def config(self, tmp_path: Path, **sections) -> Config:
        sections["library"] = {"kind": "koha", **sections.get("library", {})}
        sections["koha"] = {**KOHA, **sections.get("koha", {})}
        return make_config(tmp_path, self.url, **sections)

    def empty(self) -> None:
        with self.engine.connect() as connection:
            names = inspect(connection).get_table_names()
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            for name in names:
                connection.exec_driver_sql(f"DELETE FROM `{name}`")
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")

    def seed(self) -> None:
        t = self.tables
        with self.engine.connect() as connection:
            connection.execute(insert(t.branches), [{"branchcode": "MAIN", "branchname": "Main library"}])
            for row in ({"categorycode": "ST", "description": "Pupils", "enrolmentperiod": 12, "category_type": "C"},
                        {"categorycode": "S", "description": "Staff", "enrolmentperiod": 24, "category_type": "S"},
                        {"categorycode": "LEAVER", "description": "Leavers", "enrolmentperiod": 1},
                        {"categorycode": "AD", "description": "Adults", "enrolmentperioddate": date(2030, 8, 31)}):
                connection.execute(insert(t.categories).values(row))

    def add_patron(self, cardnumber: str | None, firstname: str, surname: str, dob: str | None = "2012-03-04",
                   category: str = "ST", **columns) -> int:
        """A patron as typed into Koha's own form."""
        row = {"cardnumber": cardnumber, "firstname": firstname, "surname": surname, "branchcode": "MAIN",
               "categorycode": category, "dateofbirth": date.fromisoformat(dob) if dob else None,
               "dateenrolled": date(2023, 9, 1), "dateexpiry": date(2024, 9, 1), **columns}
        with self.engine.connect() as connection:
            return connection.execute(insert(self.tables.borrowers).values(row)).inserted_primary_key[0]

    def add_issue(self, borrowernumber: int, itemnumber: int, due: datetime = datetime(2024, 3, 20)) -> None:
        with self.engine.connect() as connection:
            connection.execute(insert(self.tables.issues).values(
                borrowernumber=borrowernumber, itemnumber=itemnumber, issuedate=datetime(2024, 2, 20, 10, 0),
                date_due=due, branchcode="MAIN"))

    def execute(self, statement, *rows) -> None:
        with self.engine.connect() as connection:
            connection.execute(statement, *rows)

    def patrons(self) -> dict[str, dict]:
        """Every patron by cardnumber (borrowernumber if none)."""
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(select(self.tables.borrowers))]
        return {row["cardnumber"] or row["borrowernumber"]: row for row in rows}

    def patron(self, cardnumber: str) -> dict:
        return self.patrons()[cardnumber]

    def rows(self, table: str) -> list[dict]:
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM `{table}`"))]

    def attributes(self, borrowernumber: int) -> dict[str, list[str]]:
        a = self.tables.attributes.c
        found: dict[str, list[str]] = {}
        with self.engine.connect() as connection:
            for code, value in connection.execute(select(a.code, a.attribute).where(a.borrowernumber == borrowernumber)
                                                  .order_by(a.id)):
                found.setdefault(code, []).append(value)
        return found

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of Koha's patron tables, for an exact before and after."""
        with self.engine.connect() as connection:
            return {name: sorted(map(tuple, connection.execute(text(f"SELECT * FROM `{name}`"))), key=repr)
                    for name in PATRON_TABLES}

    def show_create(self) -> dict[str, str]:
        """Koha's tables' shapes (the next AUTO_INCREMENT value aside: a row count, not a shape)."""
        with self.engine.connect() as connection:
            names = [n for n in inspect(connection).get_table_names() if not n.startswith("mislink_")]
            return {n: re.sub(r" AUTO_INCREMENT=\d+", "", connection.execute(text(f"SHOW CREATE TABLE `{n}`")).one()[1])
                    for n in names}

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def koha(tmp_path) -> Koha:
    """An empty Koha, seeded with the branch, categories and attribute types."""
    if not os.environ.get(MARIADB) or not SCHEMA.is_file():
        pytest.skip(f"Koha tests need {MARIADB} and Koha's schema at {SCHEMA}")
    library = Koha(koha_database())
    library.empty()
    library.seed()
    setup_attribute_types(library.config(tmp_path))
    yield library
    library.close()


def pytest_sessionfinish(session, exitstatus):
    drop_koha_database()
