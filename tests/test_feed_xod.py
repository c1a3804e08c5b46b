"""Xporter on Demand: fetched from a fake server on 127.0.0.1 into a snapshot, then synced.

In every fault the library is exactly as it was and the message names the
endpoint and page. Retry waits are recorded, never slept.
"""
from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine.feeds import http
from engine.models import SyncRun
from engine.source import source_for
from engine.sync import run_sync
from engine.config import config_from_dict
from tests.builders import TODAY, Library, student, write_export
from tests.support.fake_xod import FakeXod, serving

ESTAB = "3281101"
PUPILS = [student("Ada", "Lovelace", Id="10"), student("Alan", "Turing", Id="11"),
          student("Grace", "Hopper", Id="12"), student("Nia", "Newman", "2013-05-06", Id="13"),
          student("Omar", "Okafor", "2013-01-02", Id="14")]
FRESH = datetime.now().replace(microsecond=0).isoformat()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def responses_of(folder) -> dict[str, dict]:
    """An export folder's files as the responses the fake serves."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in folder.glob("*.json")}


def school_export(folder, pupils=PUPILS, **endpoints):
    """The school as an export folder: its pupils, SchoolInfo, meta extracted just now."""
    write_export(folder, Students=pupils, SchoolInfo=[{"Id": "1", "Name": "Waters Edge", "EstabId": ESTAB}],
                 **endpoints)
    for path in folder.glob("*.json"):
        body = json.loads(path.read_text())
        body["meta"] = [{"Id": 1, "MIS": "simsnet", "Version": "4", "DateTime": FRESH}]
        path.write_text(json.dumps(body))
    return folder


@pytest.fixture
def sleeps(monkeypatch):
    recorded = Sleeps()
    monkeypatch.setattr(http, "DEFAULT_SETTINGS", http.HttpSettings(timeout=0.1, retries=3, max_wait=30,
                                                                     sleep=recorded))
    return recorded


@pytest.fixture
def fake(tmp_path, sleeps, monkeypatch):
    monkeypatch.setenv("MISLINK_SOURCE_SECRET", "s3cret")
    server = FakeXod(responses_of(school_export(tmp_path / "school")), estab=ESTAB)
    with serving(server) as url:
        server.url = url
        yield server


def feed_config(folder, library_url, source: dict, **sections):
    """A config in ``folder`` (the guards off: a handful of pupils) with these [source] keys."""
    raw = {"source": source, "library": {"url": library_url}, "sync": {"log_file": str(folder / "mislink.log"),
           "max_recycle_share": 1.0, "min_export_share": 0.0}, **sections}
    return config_from_dict(raw, base_dir=folder)


def xod_source(url: str, **keys) -> dict:
    return {"kind": "xod", "url": url, "token_url": f"{url}/token", "estab": ESTAB, "relying_party": "mislink.test",
            "page_size": 2, **keys}


def xod_config(tmp_path, library_url, fake, **source):
    return feed_config(tmp_path, library_url, xod_source(fake.url, **source))


def mis_ids(library: Library) -> list[str]:
    return sorted(b["mis_id"] for b in library.borrowers().values() if b["status"] == "active" and b["mis_id"]) + \
        sorted(e["mis_id"] for e in library.intake())


def last_run(library: Library) -> dict:
    return library.rows("sync_runs")[-1]


def test_a_full_fetch_is_saved_as_a_private_snapshot_and_synced(tmp_path, library_url, fake):
    config = xod_config(tmp_path, library_url, fake)
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    library = Library(library_url)
    assert mis_ids(library) == ["10", "11", "12", "13", "14"]
    run = last_run(library)
    snapshot = tmp_path / "snapshots" / run["snapshot"].rsplit("/", 1)[-1]
    assert run["snapshot"] == str(snapshot) and stat.S_IMODE(snapshot.stat().st_mode) == 0o700
    assert sorted(p.name for p in snapshot.iterdir()) == ["SchoolInfo.json", "Students.json"]
    assert len(json.loads((snapshot / "Students.json").read_text())) == 3  # five pupils, two a page
    assert run["estab"] == ESTAB and run["mis_name"] == "simsnet"
    # Only what the settings need, with leavers; every data call carries the token.
    asked = [name for method, name, _ in fake.requests if method == "GET"]
    assert asked == ["GDPRIDs", "Students", "Students", "Students", "SchoolInfo"]
    assert fake.data_requests("Students")[0] == {"pageSize": "2", "options": "includeLeavers", "changedRows": "*",
                                                 "page": "1"}
    assert json.loads(run["next_delta"])["tokens"].keys() == {"Students"}


def test_the_same_school_from_the_feed_and_from_a_folder_gives_identical_libraries(tmp_path, sleeps, monkeypatch):
    from tests.optional_builders import write_optional_school
    from tests.support.schools import EVERY_OPTION_ON

    monkeypatch.setenv("MISLINK_SOURCE_SECRET", "s3cret")
    folder = tmp_path / "school"
    write_optional_school(folder, Groups={"Group": [], "StaffMembers": [], "StudentMembers": []})
    school_export(folder, pupils=json.loads((folder / "Students.json").read_text())["Students"] + PUPILS)
    libraries = []
    with serving(FakeXod(responses_of(folder), estab=ESTAB)) as url:
        for name, source in (("feed", xod_source(url)), ("folder", {"path": str(folder)})):
            (tmp_path / name).mkdir()
            library_url = f"sqlite:///{tmp_path / name}.sqlite"
            config = feed_config(tmp_path / name, library_url, source, data=EVERY_OPTION_ON)
            assert run_sync(config, today=TODAY).outcome == "ok"
            libraries.append(_contents(Library(library_url)))
    assert libraries[0] == libraries[1]
    # Everyone came through, with the optional data the fake served page by page.
    assert len(libraries[0]["intake"]) == 7
    assert sum('"guardians": [{' in entry["record"] for entry in libraries[0]["intake"]) == 1


def _contents(library: Library) -> dict:
    """Every table but the runs' own records (their source and times), without times."""
    return {table: [{k: v for k, v in row.items() if not isinstance(v, datetime)} for row in rows]
            for table, rows in library.snapshot().items() if table not in ("sync_runs", "run_changes")}
