"""A property (hypothesis), on every database: for any library and any three
exports in turn, syncing the third and then undoing that sync leaves the
library (borrowers, their links, Intake entries: every column but
updated_at) exactly as it was before the sync. The first two syncs give the
third something to refresh, close, reopen, restore and recycle; names,
dates and ids come from small pools (``tests.support.strategies``), so twins,
shared UPNs, leavers and returners turn up often."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from engine.config import Config
from engine.models import Base
from engine.runs import RunUndoRefused, undo_run
from engine.session import open_library
from engine.sync import run_sync
from tests.builders import TODAY, Library, make_config, write_export
from tests.support.strategies import as_student, exports, libraries

COMPARED = ("borrowers", "intake", "borrower_photos", "guardians")


def _empty(url: str) -> None:
    with Library(url).session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def _seed(library: Library, borrowers: list[dict]) -> None:
    for number, values in enumerate(borrowers):
        library.add_borrower(f"B{number}", values["forename"], values["surname"], None,
                             **{k: v for k, v in values.items() if k not in ("forename", "surname")})


def _sync(config: Config, base: Path, pupils: list[dict]):
    folder = base / "export"
    shutil.rmtree(folder, ignore_errors=True)
    write_export(folder, Students=[as_student(p) for p in pupils])
    report = run_sync(config, force=True, today=TODAY)
    assert report.outcome == "ok", report.message
    return report


def _library_state(library: Library) -> dict[str, list[dict]]:
    return {table: [{k: v for k, v in row.items() if k != "updated_at"} for row in library.rows(table)]
            for table in COMPARED}


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(libraries, st.lists(exports, min_size=3, max_size=3))
def test_sync_then_undo_leaves_the_library_as_it_was(library_url, borrowers, three_exports):
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        url = f"sqlite:///{base / 'library.sqlite'}" if library_url.startswith("sqlite") else library_url
        _empty(url)
        library = Library(url)
        _seed(library, borrowers)
        config = make_config(base, url)
        for pupils in three_exports[:2]:
            _sync(config, base, pupils)
        before = _library_state(library)
        report = _sync(config, base, three_exports[2])
        try:
            with open_library(config, write=True) as session:
                result = undo_run(session, report.run_id, actor="property")
        except RunUndoRefused as refusal:
            assert "changed nothing" in str(refusal) and _library_state(library) == before
            return
        assert result.left_alone == ()
        assert _library_state(library) == before
