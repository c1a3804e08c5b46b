"""One transaction per run: idempotent re-runs, a dry run that writes nothing,
and failures that leave the library exactly as it was."""
from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError

import engine.apply
from cli.main import ExitCode, main
from tests.builders import Library, student, sync
from tests.support.schools import busy_school


def test_a_second_run_on_the_same_export_changes_nothing_and_records_no_events(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    first = sync(tmp_path, library_url, later)
    assert first.counts["updated"] and first.counts["recycled"] and first.counts["intake_added"]
    before = library.snapshot()
    second = sync(tmp_path, library_url)
    assert second.outcome == "ok"
    assert second.plan.is_empty
    counts = second.counts
    assert (counts["updated"], counts["recycled"], counts["restored"], counts["intake_added"],
            counts["intake_refreshed"], counts["intake_closed"]) == (0, 0, 0, 0, 0, 0)
    assert counts["unchanged"] == first.counts["updated"] + first.counts["unchanged"]
    after = library.snapshot()
    assert len(after["sync_events"]) == len(before["sync_events"])
    assert library.events(second.run_id) == []
    # Only the run itself is recorded.
    assert after["sync_runs"][:-1] == before["sync_runs"]
    assert {t: rows for t, rows in after.items() if t != "sync_runs"} == \
        {t: rows for t, rows in before.items() if t != "sync_runs"}


def test_the_same_export_as_xml_is_also_a_no_op(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    sync(tmp_path, library_url, later)
    events = len(library.events())
    again = sync(tmp_path, library_url, later, fmt="xml")
    assert again.plan.is_empty
    assert len(library.events()) == events


def test_a_dry_run_writes_nothing_and_plans_what_the_real_run_does(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    log_before = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    before = library.snapshot()
    dry = sync(tmp_path, library_url, later, dry_run=True)
    assert dry.outcome == "dry-run" and dry.run_id is None
    assert library.snapshot() == before
    real = sync(tmp_path, library_url)
    assert real.outcome == "ok"
    assert dry.counts == real.counts
    assert dry.counts["updated"] and dry.counts["recycled"] and dry.counts["intake_added"]
    assert library.snapshot() != before
    # The dry run is logged as one, without claiming to have recycled anyone.
    log = (tmp_path / "mislink.log").read_text(encoding="utf-8")[len(log_before):]
    dry_block = log.split(" sync ok")[0]
    assert "sync dry-run" in dry_block and "recycled: B011" not in dry_block


def test_a_dry_run_on_an_empty_library_creates_nothing_but_the_tables(tmp_path, library_url):
    library = Library(library_url)
    dry = sync(tmp_path, library_url, [student("Ada", "Lovelace")], dry_run=True)
    assert dry.counts["intake_added"] == 1
    assert all(rows == [] for rows in library.snapshot().values())


def fail_after_borrowers_are_written(monkeypatch):
    """Make the Intake step raise a database error: by then the borrower
    updates and recycles of the run have been written."""
    written = []
    real_recycles = engine.apply._apply_recycles

    def recycles_then_note(session, plan, *args, **kwargs):
        real_recycles(session, plan, *args, **kwargs)
        session.flush()
        written.append(len(plan.updates) + len(plan.recycles))

    def broken(*args, **kwargs):
        raise OperationalError("INSERT INTO intake", {}, Exception("disk I/O error (injected)"))

    monkeypatch.setattr(engine.apply, "_apply_recycles", recycles_then_note)
    monkeypatch.setattr(engine.apply, "_apply_intake", broken)
    return written


def without_failed_runs(snapshot: dict) -> dict:
    return {**snapshot, "sync_runs": [r for r in snapshot["sync_runs"] if r["outcome"] != "failed"]}


def test_a_failure_mid_apply_leaves_the_library_exactly_as_it_was(tmp_path, library_url, monkeypatch):
    library, later = busy_school(tmp_path, library_url)
    before = library.snapshot()
    written = fail_after_borrowers_are_written(monkeypatch)
    report = sync(tmp_path, library_url, later)
    assert written and written[0] > 0, "the failure must come after some writes"
    assert report.outcome == "failed" and report.run_id is None
    assert "disk I/O error (injected)" in report.message and "nothing written" in report.message
    after = library.snapshot()
    # The failed run is recorded, and that is the only difference.
    assert without_failed_runs(after) == before
    assert [(r["outcome"], r["counts"]) for r in after["sync_runs"][len(before["sync_runs"]):]] == [("failed", None)]
    assert "sync failed" in (tmp_path / "mislink.log").read_text(encoding="utf-8")
    monkeypatch.undo()
    assert sync(tmp_path, library_url).outcome == "ok"


def test_a_failure_mid_apply_exits_1_through_the_cli(tmp_path, library_url, monkeypatch, capsys):
    library, later = busy_school(tmp_path, library_url)
    sync(tmp_path, library_url, later, dry_run=True)  # writes the export
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n'
                      '[sync]\nlog_file = "mislink.log"\nmax_recycle_share = 1.0\n', encoding="utf-8")
    before = library.snapshot()
    fail_after_borrowers_are_written(monkeypatch)
    code = main(["--config", str(config), "--sync", "--json"])
    assert code == ExitCode.FAILED == 1
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "failed" and "injected" in out["message"]
    assert "intake_added" not in out and "updated" not in out, "a failed run reports no counts as done"
    assert without_failed_runs(library.snapshot()) == before


def test_a_log_that_cannot_be_written_never_turns_a_done_sync_into_a_failure(tmp_path, library_url, capsys):
    library, later = busy_school(tmp_path, library_url)
    sync(tmp_path, library_url, later, dry_run=True)  # writes the export
    (tmp_path / "logdir").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n'
                      '[sync]\nlog_file = "logdir"\nmax_recycle_share = 1.0\n', encoding="utf-8")
    assert main(["--config", str(config), "--sync", "--json"]) == ExitCode.OK
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "ok" and "could not write the run log" in out["message"]
    assert [r["outcome"] for r in library.rows("sync_runs")][-1] == "ok"


def test_a_bug_mid_apply_also_leaves_the_library_as_it_was(tmp_path, library_url, monkeypatch):
    library, later = busy_school(tmp_path, library_url)
    before = library.snapshot()
    fail_after_borrowers_are_written(monkeypatch)
    monkeypatch.setattr(engine.apply, "_apply_intake", lambda *a, **k: 1 / 0)
    report = sync(tmp_path, library_url, later)
    assert report.outcome == "failed"
    assert report.message == "unexpected error (ZeroDivisionError), nothing written"
    assert "sync failed" in (tmp_path / "mislink.log").read_text()
    assert without_failed_runs(library.snapshot()) == before


@pytest.mark.parametrize("content", ['{"Students": [', "\xff\xfe\x00garbage", '{"ExceptionMessage": "boom"}'])
def test_an_unreadable_export_file_fails_the_run_and_writes_nothing(tmp_path, library_url, content):
    library, later = busy_school(tmp_path, library_url)
    before = library.snapshot()
    (tmp_path / "export" / "Students.json").write_bytes(content.encode("latin-1"))
    report = sync(tmp_path, library_url)
    assert report.outcome == "failed"
    assert "Students.json" in report.message
    assert library.snapshot() == before
    assert "sync failed" in (tmp_path / "mislink.log").read_text(encoding="utf-8")


def test_an_unreadable_file_never_even_creates_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'never.sqlite'}"
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "Students.json").write_text("not json", encoding="utf-8")
    report = sync(tmp_path, url)
    assert report.outcome == "failed" and "Students.json" in report.message
    assert not (tmp_path / "never.sqlite").exists()


def test_bad_records_are_rejected_while_the_rest_of_the_run_goes_on(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    report = sync(tmp_path, library_url, later)
    assert report.outcome == "ok"
    assert report.counts["rejected"] == 1
    assert [(r["file"], r["record"], r["field"]) for r in report.to_json()["rejections"]] == [
        ("Students.json", "student 22", "DateofBirth")]
    assert "not a real calendar date" in report.to_json()["rejections"][0]["reason"]
    assert {e["mis_id"] for e in library.intake()} == {"20", "21"}
    log = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    assert "rejected: Students.json student 22: DateofBirth: not a real calendar date" in log


def test_a_control_character_rejects_one_record_and_never_fails_the_run(tmp_path, library_url):
    library = Library(library_url)
    report = sync(tmp_path, library_url, [student("Ada", "Love\x00lace", Id="10"), student("Alan", "Turing", Id="11")])
    assert report.outcome == "ok", report.message
    assert [(r.record, r.field, r.reason) for r in report.plan.rejections] == [
        ("student 10", "Surname", "contains a control character")]
    assert [e["mis_id"] for e in library.intake()] == ["11"]


def test_each_run_is_recorded_with_its_counts(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    report = sync(tmp_path, library_url, later)
    run = library.rows("sync_runs")[-1]
    assert (run["id"], run["outcome"], run["kind"]) == (report.run_id, "ok", "sync")
    assert run["source"] == str(tmp_path / "export")
    assert run["started_at"] <= run["finished_at"]
    assert json.loads(run["counts"]) == report.counts


def test_a_failed_run_is_recorded_whatever_its_values_hold(tmp_path, library_url):
    """Too long for its columns, or holding a NUL that PostgreSQL refuses: the
    record of a run that wrote nothing is still written, cut to fit."""
    from datetime import date

    from engine.db import connect
    from engine.models import SyncRun, utcnow
    from engine.plan import SyncPlan
    from engine.report import SyncReport
    from engine.sync import _record_unapplied_run

    report = SyncReport(outcome="failed", source="/very/long" * 100 + "\x00", message="why\x00\n" * 2000,
                        plan=SyncPlan(estab="9\x00\n" * 40, today=date(2024, 3, 1)))
    engine = connect(library_url)
    _record_unapplied_run(engine, report, utcnow())
    engine.dispose()
    run = Library(library_url).rows("sync_runs")[-1]
    assert run["outcome"] == "failed"
    for column in ("source", "estab", "message"):
        limit = SyncRun.__table__.c[column].type.length or 1000
        assert len(run[column]) <= limit and "\x00" not in run[column] and "\n" not in run[column]


def test_a_sync_with_an_overlong_establishment_number_is_recorded_whatever_its_outcome(tmp_path, library_url):
    from tests.builders import write_export

    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10")],
                 SchoolInfo=[{"EstabId": "8" * 40}])
    report = sync(tmp_path, library_url)
    runs = Library(library_url).rows("sync_runs")
    assert [r["outcome"] for r in runs] == [report.outcome], report.message
