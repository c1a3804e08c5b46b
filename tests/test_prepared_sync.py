"""Prepare, then apply: the plan applied is exactly the plan previewed, and a
preview whose export, library or settings moved is refused, writing nothing."""
from __future__ import annotations

import dataclasses
import json

from sqlalchemy import delete, text

from engine.models import Base
from engine.recycle_bin import restore
from engine.run_status import RunOutcome, SyncStage
from engine.sync import apply_sync, prepare_sync, run_sync
from tests.builders import TODAY, Library, make_config, student, sync, write_export
from tests.support.schools import busy_school

STALE = "changed since the preview; preview again"


def prepared_school(tmp_path, library_url, **sections):
    """A busy library, its next export written, and that export previewed."""
    library, later = busy_school(tmp_path, library_url)
    write_export(tmp_path / "export", Students=later)
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 1.0, **sections.get("sync", {})})
    return library, config, prepare_sync(config, today=TODAY)


def without_unapplied_runs(snapshot: dict) -> dict:
    return {**snapshot, "sync_runs": [r for r in snapshot["sync_runs"] if r["outcome"] == "ok"]}


def content(library: Library) -> dict:
    """The library's contents without what differs between two equal runs:
    row ids (a foreign key becomes what it points at) and times."""
    snapshot = library.snapshot()
    barcodes = {row["id"]: row["barcode"] for row in snapshot["borrowers"]}
    people = {row["id"]: (row["person_type"], row["mis_id"]) for row in snapshot["intake"]}
    links = {"borrower_id": barcodes, "intake_id": people}

    def timeless(value: object) -> object:
        return {k: v for k, v in value.items() if not k.endswith("_at")} if isinstance(value, dict) else value

    def plain(row: dict) -> tuple:
        if "table_name" in row:  # a run's recorded change: its row by what it is, its values without times
            row = {**row, "row_id": links["borrower_id" if row["table_name"] == "borrowers" else "intake_id"]
                   .get(row["row_id"]), "before": timeless(json.loads(row["before"] or "null")),
                   "after": timeless(json.loads(row["after"]))}
        return tuple(sorted((column, links[column].get(value) if column in links else value)
                            for column, value in row.items()
                            if column not in ("id", "run_id", "at") and not column.endswith("_at")))

    return {table: sorted(map(plain, rows), key=repr) for table, rows in snapshot.items()}


def empty(library_url: str) -> None:
    with Library(library_url).session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def test_applying_the_prepared_plan_gives_exactly_what_run_sync_gives(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    assert prepared.report.outcome == RunOutcome.DRY_RUN and not prepared.plan.is_empty
    applied = apply_sync(config, prepared)
    assert applied.outcome == RunOutcome.OK, applied.message
    by_prepare = content(library)

    empty(library_url)
    library, later = busy_school(tmp_path, library_url)
    direct = sync(tmp_path, library_url, later)
    assert direct.outcome == RunOutcome.OK, direct.message
    assert content(library) == by_prepare
    assert applied.counts == direct.counts and applied.counts["recycled"] and applied.counts["intake_added"]
    assert applied.to_json() | {"run_id": None} == direct.to_json() | {"run_id": None}


def test_the_export_changed_after_the_preview_refuses_the_apply_and_writes_nothing(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    before = library.snapshot()
    students = tmp_path / "export" / "Students.json"
    students.write_bytes(students.read_bytes().replace(b'"9A"', b'"9B"'))
    report = apply_sync(config, prepared)
    assert report.outcome == RunOutcome.REFUSED and report.run_id is None
    assert report.message == f"the export {STALE}"
    assert without_unapplied_runs(library.snapshot()) == before
    assert [r["outcome"] for r in library.rows("sync_runs")][-1] == "refused"
    assert "sync refused" in (tmp_path / "mislink.log").read_text(encoding="utf-8")


def test_the_same_bytes_written_again_are_not_a_change(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    students = tmp_path / "export" / "Students.json"
    students.write_bytes(students.read_bytes())
    assert apply_sync(config, prepared).outcome == RunOutcome.OK


def test_a_sync_between_preview_and_apply_refuses_the_apply_and_writes_nothing(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    assert run_sync(config, today=TODAY).outcome == RunOutcome.OK
    after_the_other_run = library.snapshot()
    report = apply_sync(config, prepared)
    assert report.outcome == RunOutcome.REFUSED and report.message == f"the library {STALE}"
    assert without_unapplied_runs(library.snapshot()) == without_unapplied_runs(after_the_other_run)


def test_a_decision_between_preview_and_apply_refuses_the_apply(tmp_path, library_url):
    """A write that records no run (a recycle-bin restore) moves the library too."""
    library, later = busy_school(tmp_path, library_url)
    assert sync(tmp_path, library_url, later).counts["recycled"] == 1
    write_export(tmp_path / "export", Students=[*later, student("Pia", "Peters", "2013-02-03", Id="30")])
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 1.0})
    prepared = prepare_sync(config, today=TODAY)
    with library.session() as session:
        restore(session, "B011", "librarian")
    before = library.snapshot()
    report = apply_sync(config, prepared)
    assert report.outcome == RunOutcome.REFUSED and report.message == f"the library {STALE}"
    assert without_unapplied_runs(library.snapshot()) == without_unapplied_runs(before)
    again = apply_sync(config, prepare_sync(config, today=TODAY))
    assert again.outcome == RunOutcome.OK, "a fresh preview applies"


def test_changed_settings_refuse_the_apply(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    before = library.snapshot()
    changed = dataclasses.replace(config, data=dataclasses.replace(config.data, email=True))
    report = apply_sync(changed, prepared)
    assert report.outcome == RunOutcome.REFUSED and report.message == f"the settings {STALE}"
    assert without_unapplied_runs(library.snapshot()) == before


def test_a_prepared_plan_applies_once(tmp_path, library_url):
    library, config, prepared = prepared_school(tmp_path, library_url)
    assert apply_sync(config, prepared).outcome == RunOutcome.OK
    events = len(library.events())
    second = apply_sync(config, prepared)
    assert second.outcome == RunOutcome.REFUSED and second.message == f"the library {STALE}"
    assert len(library.events()) == events


def test_a_preview_holds_no_lock_and_writes_nothing(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    write_export(tmp_path / "export", Students=later)
    before = library.snapshot()
    prepared = prepare_sync(make_config(tmp_path, library_url), today=TODAY)
    assert library.snapshot() == before
    # Another writer may take the lock at once: the preview left nothing held.
    assert sync(tmp_path, library_url).outcome == RunOutcome.OK
    assert prepared.report.run_id is None


def test_a_guarded_preview_applies_only_when_forced(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    write_export(tmp_path / "export", Students=later)
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 0.01})
    prepared = prepare_sync(config, today=TODAY)
    assert prepared.report.message.startswith("a real run would stop: it would recycle")
    stopped = apply_sync(config, prepared)
    assert stopped.outcome == RunOutcome.REFUSED and stopped.message.startswith("stopped before writing")
    # The refused run moved the library: preview again, then force.
    forced = apply_sync(config, prepare_sync(config, today=TODAY), force=True)
    assert forced.outcome == RunOutcome.OK and forced.forced
    assert forced.message.startswith("forced past the safety guards")
    assert library.borrower("B011")["status"] == "recycled"


def test_a_failed_preview_has_nothing_to_apply(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    (tmp_path / "export" / "Students.json").write_text('{"Students": [', encoding="utf-8")
    before = library.snapshot()
    config = make_config(tmp_path, library_url)
    prepared = prepare_sync(config, today=TODAY)
    assert prepared.report.outcome == RunOutcome.FAILED and prepared.plan is None
    assert apply_sync(config, prepared) is prepared.report
    assert library.snapshot() == before


def test_prepare_and_apply_report_the_stages_run_sync_reports(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    write_export(tmp_path / "export", Students=later)
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 1.0})
    stages: list[str] = []
    apply_sync(config, prepare_sync(config, today=TODAY, progress=stages.append), progress=stages.append)
    assert stages == ["reading the export", "reading the library", "planning", "writing",
                      "scoring Intake suggestions"]
    assert stages == list(SyncStage)


def test_outcomes_are_stored_as_the_plain_strings_they_always_were(tmp_path, library_url):
    library, later = busy_school(tmp_path, library_url)
    with library.session() as session:
        stored = session.execute(text("SELECT outcome, counts FROM mislink_sync_runs")).all()
    assert [type(outcome) for outcome, _ in stored] == [str] and stored[0][0] == "ok"
    report = sync(tmp_path, library_url, later)
    assert json.loads(library.rows("sync_runs")[-1]["counts"]) == report.counts.to_json() == report.plan.counts()
    assert list(report.counts.to_json()) == list(report.plan.counts())
