"""A sync's result, row for row, is what it was before the speed work.

The demo school's library, with every optional field and staff on, is synced
three times: the first sync (matches, updates, Intake, leavers), an unchanged
re-sync, and one with phones and email switched off (a purge). Every mislink_
table is then dumped, without its timestamps (DateTime columns, also where a
run's recorded changes or an event name one), to canonical JSON, a row a line, and compared with tests/fixtures/sync_dump.json, written from
the code before any optimisation. A changed row or value fails.

    python -m tests.test_sync_dump      # rewrite the golden file (only for an intended change)
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import DateTime, select
from sqlalchemy.orm import Session

from engine.borrower_import import import_borrowers
from engine.config import config_from_dict
from engine.db import connect
from engine.models import Base
from engine.sync import run_sync

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "fixtures" / "sync_dump.json"
TODAY = date(2026, 9, 16)  # the demo school's third week of term
EVERY_OPTION_ON = {"address": True, "phones": True, "email": True, "photos": True, "guardians": True,
                   "staff": True, "staff_year_group": 14}


def _config(base: Path, **data):
    return config_from_dict({"source": {"path": "school"}, "library": {"url": "sqlite:///library.sqlite"},
                             "data": {**EVERY_OPTION_ON, **data}, "sync": {"log_file": "mislink.log"}},
                            base_dir=base)


def synced_demo_library(base: Path) -> str:
    """The three syncs on a copy of the demo school; the library's URL."""
    shutil.copytree(REPO / "demo" / "school", base / "school")
    config = _config(base)
    with Session(connect(config.library_url)) as session, session.begin():
        import_borrowers(session, REPO / "demo" / "borrowers.csv", config.barcodes, skip_invalid=True)
    for step in (config, config, _config(base, phones=False, email=False)):
        report = run_sync(step, force=True, today=TODAY)
        assert report.outcome == "ok", report.message
    return config.library_url


TIMESTAMPS = {c.name for t in Base.metadata.sorted_tables for c in t.columns if isinstance(c.type, DateTime)}
RECORDED = {"mislink_run_changes": ("before", "after"), "mislink_intake_decisions": ("changes",)}


def _value(value: object, base: Path) -> object:
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):  # the paths of the run's source and of the borrower CSV
        return value.replace(str(base), "<base>").replace(str(REPO), "<repo>")
    return value


def _untimed(recorded: str | None) -> object:
    """A recorded row's columns (JSON) without its timestamps, at any depth."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMESTAMPS}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return None if recorded is None else strip(json.loads(recorded))


def _row(table: str, row: dict, base: Path) -> dict:
    values = {k: _value(v, base) for k, v in row.items()}
    for column in RECORDED.get(table, ()):
        values[column] = _untimed(values[column])
    if table == "mislink_sync_events" and values["field"] in TIMESTAMPS:
        values["old_value"] = values["new_value"] = "<timestamp>"
    return values


def dump(url: str, base: Path) -> dict[str, list[dict]]:
    """Every mislink_ table's rows in primary-key order, timestamps left out."""
    tables: dict[str, list[dict]] = {}
    engine = connect(url)
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if not table.name.startswith("mislink_"):
                continue
            columns = [c for c in table.columns if not isinstance(c.type, DateTime)]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            tables[table.name] = [_row(table.name, dict(row._mapping), base) for row in rows]
    engine.dispose()
    return tables


def canonical(tables: dict) -> str:
    """Tables in name order, a row a line, so a changed row is a one-line diff."""
    def line(value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "{\n" + ",\n".join(f"{line(name)}: [\n" + ",\n".join(line(row) for row in tables[name]) + "\n]"
                               for name in sorted(tables)) + "\n}\n"


def test_a_sync_of_the_demo_school_leaves_exactly_the_rows_it_always_has(tmp_path):
    tables = dump(synced_demo_library(tmp_path), tmp_path)
    assert all(tables[name] for name in ("mislink_borrowers", "mislink_intake", "mislink_sync_events",
                                         "mislink_run_changes", "mislink_guardians")), "the dump covers each kind"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(tables) == sorted(expected)
    for name in expected:
        assert len(tables[name]) == len(expected[name]), name
        for got, want in zip(tables[name], expected[name]):
            assert got == want, name


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(canonical(dump(synced_demo_library(Path(folder)), Path(folder))), encoding="utf-8")
    sys.exit(0)
