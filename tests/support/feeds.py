"""Live feeds under test: a config for one, the school a fake Xporter on
Demand serves, and the pupils a fake Wonde pages through.

Two fixtures, registered for every test module by ``pytest_plugins`` in
tests/conftest.py: ``sleeps``, the retry waits of the feeds' HTTP client,
recorded rather than slept; and ``fake``, a ``FakeXod`` serving the school
(``fake.url``), the feed's secret set."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from engine.config import config_from_dict
from engine.feeds import http
from tests.builders import student, write_export
from tests.support.fake_wonde import SCHOOL_ID
from tests.support.fake_xod import FakeXod, serving

ESTAB = "3281101"
XOD_PUPILS = [student("Ada", "Lovelace", Id="10"), student("Alan", "Turing", Id="11"),
              student("Grace", "Hopper", Id="12"), student("Nia", "Newman", "2013-05-06", Id="13"),
              student("Omar", "Okafor", "2013-01-02", Id="14")]
FRESH = datetime.now().replace(microsecond=0).isoformat()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def responses_of(folder) -> dict[str, dict]:
    """An export folder's files as the responses the fake serves."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in folder.glob("*.json")}


def school_export(folder, pupils=XOD_PUPILS, **endpoints):
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
    # A second: well above a loaded CI machine's answer from the local fake,
    # below its "timeout" fault's hang (fake_xod.HANG_SECONDS).
    monkeypatch.setattr(http, "DEFAULT_SETTINGS", http.HttpSettings(timeout=1.0, retries=3, max_wait=30,
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


def wonde_config(tmp_path, url, library_url="sqlite://", **data):
    """A config fetching from the fake Wonde at ``url``, two records a page, with these [data] keys."""
    return feed_config(tmp_path, library_url, {"kind": "wonde", "url": url, "school_id": SCHOOL_ID, "page_size": 2},
                       data=data)


def pupils(count: int) -> list[dict]:
    """``count`` pupils with no UPN, MIS ids 100 on."""
    return [student(f"Pupil{n}", "Jones", "2012-03-04", Id=str(100 + n), UPN=None) for n in range(count)]
