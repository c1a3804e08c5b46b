"""The two seams: a sync reads only through its Source and its LibraryTarget,
and the folder source says what it read: kind, extract time, MIS, digest."""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

import engine.sync
from engine.config import DataSettings
from engine.export import ExportKind
from engine.source import FolderSource, source_for
from engine.target import MislinkTarget
from tests.builders import TODAY, Library, make_config, response, student, write_export

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "xporter-samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"the recorded Xporter samples are not at {SAMPLES}")


def samples(folder: Path, **files: list[str]) -> Path:
    """An export folder whose endpoint files are recorded responses (their pages)."""
    folder.mkdir(parents=True, exist_ok=True)
    for endpoint, pages in files.items():
        body = [json.loads((SAMPLES / page).read_text(encoding="utf-8")) for page in pages]
        (folder / f"{endpoint}.json").write_text(json.dumps(body if len(body) > 1 else body[0]), encoding="utf-8")
    return folder


def folder_source(folder: Path, **data) -> FolderSource:
    return FolderSource(folder, DataSettings(**data), TODAY)


# --- what the folder source says it read -----------------------------------------------

@needs_samples
@pytest.mark.parametrize("pages, kind", [
    (["students_page1.json", "students_page2.json"], ExportKind.FULL),
    (["students_page1.json"], ExportKind.PARTIAL),
    (["students_changedrows.json"], ExportKind.DELTA),
])
def test_the_recorded_shapes_are_full_partial_or_delta(tmp_path, pages, kind):
    assert folder_source(samples(tmp_path, Students=pages)).read().kind is kind


@needs_samples
def test_extract_time_and_mis_come_from_the_first_page_meta(tmp_path):
    export = folder_source(samples(tmp_path, Students=["students_page1.json", "students_page2.json"])).read()
    assert export.extract_time == datetime(2018, 6, 20, 2, 14, 47, 85000)
    assert export.mis_name == "simsnet"


@needs_samples
def test_the_export_is_as_fresh_as_its_oldest_file(tmp_path):
    folder = samples(tmp_path, Students=["students_page1.json"], SchoolInfo=["school_info.json"])
    export = folder_source(folder).read()
    # SchoolInfo was extracted at 02:25, the students at 02:14.
    assert export.extract_time == datetime(2018, 6, 20, 2, 14, 47, 85000)


@needs_samples
def test_a_delta_without_meta_has_no_extract_time(tmp_path):
    export = folder_source(samples(tmp_path, Students=["students_changedrows.json"])).read()
    assert (export.extract_time, export.mis_name) == (None, None)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_meta_is_read_from_json_and_xml_alike(tmp_path, fmt):
    body = response("Students", [student("Ada", "Lovelace")])
    body["meta"] = [{"Id": 1, "MIS": "arbor", "DateTime": "2024-02-29T23:05:00.1234567"}]
    export = folder_source(write_export(tmp_path / "export", fmt, Students=body)).read()
    assert (export.extract_time, export.mis_name) == (datetime(2024, 2, 29, 23, 5, 0, 123456), "arbor")


def test_meta_that_cannot_be_used_is_a_warning_never_a_failed_read(tmp_path):
    body = response("Students", [student("Ada", "Lovelace")])
    body["meta"] = [{"MIS": "sims\x00net", "DateTime": "yesterday"}]
    export = folder_source(write_export(tmp_path / "export", Students=body)).read()
    assert (export.extract_time, export.mis_name) == (None, None)
    assert len(export.persons) == 1
    assert {"Students.json: meta DateTime is not a date and time; extract time unknown",
            "Students.json: meta MIS contains a control character; MIS name unknown"} <= set(export.warnings)


# --- the digest --------------------------------------------------------------------------

def test_the_digest_is_stable_for_the_same_bytes_wherever_they_are(tmp_path):
    folder = write_export(tmp_path / "a", Students=[student("Ada", "Lovelace", Id="10")])
    shutil.copytree(folder, tmp_path / "b")
    first, again, elsewhere = (folder_source(f).read() for f in (folder, folder, tmp_path / "b"))
    assert first.digest == again.digest == elsewhere.digest
    assert len(first.digest) == 64
    assert folder_source(folder).digest_now() == first.digest


def test_the_digest_moves_with_any_byte_of_a_file_read(tmp_path):
    folder = write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10")])
    source = folder_source(folder)
    digest = source.read().digest
    students = folder / "Students.json"
    students.write_bytes(students.read_bytes().replace(b"Lovelace", b"Lovelacf"))
    assert source.digest_now() != digest
    assert source.read().digest == source.digest_now()


def test_the_digest_covers_the_files_the_settings_read_and_only_those(tmp_path):
    folder = write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10")])
    without_photos, with_photos = folder_source(folder), folder_source(folder, photos=True)
    before = (without_photos.read().digest, with_photos.read().digest)
    write_export(folder, Photos=[{"PersonId": "10", "PersonType": "Student", "Photo": "aGVsbG8="}])
    assert without_photos.digest_now() == before[0], "a file the settings never read is not input"
    assert with_photos.digest_now() != before[1], "an optional file that appeared is"
    (folder / "Students.json").rename(folder / "Students.txt")
    (folder / "Students.xml").write_text("<Students/>", encoding="utf-8")
    assert without_photos.digest_now() != before[0]


def test_source_for_reads_the_configured_folder(tmp_path):
    config = make_config(tmp_path, "sqlite://")
    source = source_for(config, TODAY)
    assert isinstance(source, FolderSource) and source.label == str(config.source_path)


# --- a sync goes through the seams -----------------------------------------------------

class RecordingTarget(MislinkTarget):
    def __init__(self):
        self.calls: list[str] = []

    def snapshot(self, session):
        self.calls.append("snapshot")
        return super().snapshot(session)

    def change_marker(self, session):
        self.calls.append("change_marker")
        return super().change_marker(session)

    def apply(self, session, plan, run_id, now):
        self.calls.append("apply")
        super().apply(session, plan, run_id, now)


class OneSchool:
    """A source that is not a folder at all."""
    label = "a test source"

    def __init__(self, export):
        self.export = export

    def read(self):
        return self.export

    def digest_now(self):
        return self.export.digest


def test_a_sync_reads_only_its_source_and_writes_only_through_its_target(tmp_path, library_url, monkeypatch):
    folder = write_export(tmp_path / "elsewhere", Students=[student("Ada", "Lovelace", Id="10")])
    export = folder_source(folder).read()
    target = RecordingTarget()
    monkeypatch.setattr(engine.sync, "source_for", lambda config, today=None, **_: OneSchool(export))
    monkeypatch.setattr(engine.sync, "target_for", lambda config: target)
    config = make_config(tmp_path, library_url, source=tmp_path / "no such folder")
    prepared = engine.sync.prepare_sync(config, today=TODAY)
    report = engine.sync.apply_sync(config, prepared)
    assert report.outcome == "ok", report.message
    assert report.source == "a test source"
    assert target.calls == ["change_marker", "snapshot", "change_marker", "apply"]
    assert [e["mis_id"] for e in Library(library_url).intake()] == ["10"]
