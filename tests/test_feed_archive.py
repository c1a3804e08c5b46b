"""Snapshot folders: private, written page by page, readable as an export folder, pruned by age."""
import stat
from datetime import datetime, timedelta, timezone

from engine.config import DataSettings
from engine.export import read_export
from engine.feeds.archive import Snapshot, prune
from tests.builders import student

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc)


def test_a_snapshot_is_private_and_reads_as_an_export_folder(tmp_path):
    snapshot = Snapshot(tmp_path / "snapshots", NOW)
    students = snapshot.endpoint("Students")
    students.add({"Students": [student("Ann", "Ash", Id="1")], "__pagination__": [{"PageNumber": 1, "PageCount": 2}]})
    students.add({"Students": [student("Bob", "Birch", Id="2")], "__pagination__": [{"PageNumber": 2, "PageCount": 2}]})
    snapshot.endpoint("SchoolInfo").add({"SchoolInfo": [{"EstabId": "3281101"}]})
    assert not snapshot.path.exists()  # only a whole fetch has the snapshot's name
    folder = snapshot.complete()
    assert folder.name == "20261201-050000"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()} == {0o600}
    export = read_export(folder, DataSettings())
    assert sorted(p.key[1] for p in export.persons) == ["1", "2"]
    assert export.kind == "full" and export.estab == "3281101"


def test_a_failed_fetch_leaves_nothing_and_names_never_collide(tmp_path):
    first = Snapshot(tmp_path, NOW)
    second = Snapshot(tmp_path, NOW)
    assert second.path.name == "20261201-050000-2"
    first.endpoint("Students").add({"Students": []})
    first.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["20261201-050000-2.partial"]


def test_prune_removes_only_snapshots_older_than_keep_days(tmp_path):
    old = Snapshot(tmp_path, NOW - timedelta(days=31)).complete()
    kept = Snapshot(tmp_path, NOW - timedelta(days=29)).complete()
    other = tmp_path / "notes"
    other.mkdir()
    assert prune(tmp_path, 30, NOW) == [old]
    assert kept.exists() and other.exists() and not old.exists()
