"""Builders for Intake tests: a library with borrowers typed in by hand, a sync
of some students into it, and the plain rows ``SuggestionIndex`` reads."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from engine.config import Config
from engine.library import BORROWER_COLUMNS
from engine.models import Borrower, IntakeEntry
from engine.person import Person, PersonType
from engine.sync import run_sync
from tests.builders import library_session, make_config, write_export

_ids = itertools.count(1)
TODAY = date(2025, 1, 15)


def row(forename: str, surname: str, dob: str | None = "2012-03-04", **values) -> dict:
    """A borrower as ``Snapshot.borrowers`` holds it; keyword arguments override columns."""
    borrower_id = values.pop("id", next(_ids))
    result = {column.name: None for column in BORROWER_COLUMNS}
    result.update(id=borrower_id, barcode=f"B{borrower_id:05d}", borrower_type="student", status="active",
                  forename=forename, surname=surname, date_of_birth=date.fromisoformat(dob) if dob else None)
    result.update(values)
    return result


def person(forename: str, surname: str, dob: str | None = "2012-03-04", **values) -> Person:
    """An incoming student; keyword arguments override fields."""
    fields = dict(person_type=PersonType.STUDENT, mis_id=str(next(_ids) + 10_000), preferred_forename=forename,
                  preferred_surname=surname, legal_forename=forename, legal_surname=surname,
                  date_of_birth=date.fromisoformat(dob) if dob else None)
    fields.update(values)
    return Person(**fields)


def library(tmp_path: Path, library_url: str, *borrowers: dict, **sections) -> Config:
    """A config whose library holds these borrowers (``row`` dicts, or column values)."""
    config = make_config(tmp_path, library_url, **sections)
    with session_for(config) as session:
        for borrower in borrowers:
            session.execute(insert(Borrower).values(
                **{k: v for k, v in borrower.items() if k != "id" and v is not None}))
    return config


def sync(config: Config, *students: dict, **endpoints: list[dict]):
    """Sync an export of these students (``tests.builders.student`` dicts) and
    any other endpoints (``Photos=[...]``, ``Contacts=[...]``…)."""
    write_export(config.source_path, Students=list(students), **endpoints)
    report = run_sync(config)
    assert report.outcome == "ok", report.message
    return report


@contextmanager
def session_for(config: Config):
    """A session in one transaction, committed on leaving."""
    with library_session(config.library_url) as session:
        yield session


def entry_id(config: Config, mis_id: str) -> int:
    with session_for(config) as session:
        return session.execute(select(IntakeEntry.id).where(IntakeEntry.mis_id == mis_id)).scalar_one()


def borrower_by_barcode(config: Config, barcode: str) -> dict | None:
    with session_for(config) as session:
        found = session.execute(select(*BORROWER_COLUMNS).where(Borrower.barcode == barcode)).mappings().first()
        return dict(found) if found else None
