"""Runs: what each records (run_changes), listing and showing them, and
undoing a whole one, through the engine and ``mislink runs …``, on every
database. The run under test changes a little of everything: a borrower's
field, a new link, a recycle, a restore, an Intake entry added, one
refreshed and one closed."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import delete, insert, select, update

from cli.main import main
from engine.apply import RunChanges
from engine.config import save_config
from engine.errors import Refusal
from engine.intake import make_decision
from engine.models import Borrower, RunChange, SyncRun
from engine.optional_data import REMOVED
from engine.runs import RunUndoRefused, list_runs, show_run, undo_run
from engine.session import open_library
from tests.builders import Library, make_config, student, sync
from tests.optional_builders import (SENSITIVE_VALUES, image_bytes, link_borrower, photo, rows_of,
                                     write_optional_school)
from tests.support.mis_change import arbor_school, new_ids, old_school, sync_as, synced_under_sims, upn

UPN = "A123456789012"
ANN = student("Ann", "Smith", "2012-03-04", Id="1", RegGroup="7A")
BOB = student("Bob", "Jones", "2012-05-05", Id="2", UPN=UPN)
CAT = student("Cat", "Leaver", "2011-01-01", Id="3", RegGroup="8C")
DEE = student("Dee", "Back", "2011-02-02", Id="4", RegGroup=None)
EVE = student("Eve", "Gone", "2012-07-07", Id="5")
ZED = student("Zed", "New", "2012-01-01", Id="9", RegGroup="7Z")
YAN = student("Yan", "Newer", "2012-01-02", Id="10")
LEFT_ALONE = "changed since the run"


class School:
    """A library, its config and the run under test (``run_id``)."""

    def __init__(self, tmp_path, library_url):
        self.tmp_path, self.url = tmp_path, library_url
        self.library = Library(library_url)
        self.config = make_config(tmp_path, library_url)
        self.library.add_borrower("B1", "Ann", "Smith", "2012-03-04", mis_id="1", tutor_group="7A")
        self.library.add_borrower("B2", "Bob", "Jones", "2012-05-05", upn=UPN, tutor_group="7B")
        self.library.add_borrower("B3", "Cat", "Leaver", "2011-01-01", mis_id="3", tutor_group="8C")
        self.library.add_borrower("B4", "Dee", "Back", "2011-02-02", mis_id="4", status="recycled",
                                  tutor_group="Leaver 2023 (Old Group 9D)", group_before_recycle="9D",
                                  recycled_at=datetime(2023, 7, 20, 9, 30), recycled_reason="left")
        self.sync([ANN, CAT, ZED, EVE])
        self.before = self.state()
        self.run_id = self.sync([dict(ANN, RegGroup="8A"), BOB, DEE, dict(ZED, RegGroup="8Z"), YAN]).run_id

    def sync(self, students):
        report = sync(self.tmp_path, self.url, students)
        assert report.outcome == "ok", report.message
        return report

    def state(self) -> dict[str, list[dict]]:
        """Borrowers, their photos and guardians, and Intake: every column but updated_at."""
        return {table: [{k: v for k, v in row.items() if k != "updated_at"} for row in self.library.rows(table)]
                for table in ("borrowers", "intake", "borrower_photos", "guardians")}

    def recorded(self, run_id: int) -> dict[tuple[str, int], tuple[dict | None, dict | None]]:
        return {(r["table_name"], r["row_id"]): (json.loads(r["before"]) if r["before"] else None,
                                                 json.loads(r["after"]))
                for r in self.library.rows("run_changes") if r["run_id"] == run_id}

    def borrower_id(self, barcode: str) -> int:
        return self.library.borrower(barcode)["id"]

    def entry(self, mis_id: str) -> dict:
        return next(e for e in self.library.intake() if e["mis_id"] == mis_id)

    def run(self, run_id: int) -> dict:
        return next(r for r in self.library.rows("sync_runs") if r["id"] == run_id)

    def undo(self, run_id: int | None = None, **options):
        with open_library(self.config, write=not options.get("dry_run")) as session:
            return undo_run(session, run_id or self.run_id, actor="librarian", **options)

    def read(self, function, *args):
        with open_library(self.config, write=False) as session:
            return function(session, *args)


@pytest.fixture
def school(tmp_path, library_url):
    return School(tmp_path, library_url)


def items(found) -> set[tuple[str, str]]:
    return {(item.label, item.field) for item in found}


# --- what a run records --------------------------------------------------------------

def test_a_sync_records_each_row_it_changes_before_and_after(school):
    recorded = school.recorded(school.run_id)
    assert set(recorded) == {("borrowers", school.borrower_id(b)) for b in ("B1", "B2", "B3", "B4")} | {
        ("intake", school.entry(m)["id"]) for m in ("9", "5", "10")}
    before, after = recorded[("borrowers", school.borrower_id("B1"))]
    assert (before["tutor_group"], after["tutor_group"]) == ("7A", "8A")
    before, after = recorded[("borrowers", school.borrower_id("B2"))]
    assert (before["mis_id"], after["mis_id"]) == (None, "2") and "barcode" not in after
    before, after = recorded[("borrowers", school.borrower_id("B3"))]
    assert before["status"] == "active" and before["recycled_at"] is None and after["status"] == "recycled"
    before, after = recorded[("borrowers", school.borrower_id("B4"))]
    assert (before["status"], before["group_before_recycle"], after["tutor_group"]) == ("recycled", "9D", "9D")
    assert before["recycled_at"].startswith("2023-07-20T09:30")
    before, after = recorded[("intake", school.entry("10")["id"])]
    assert before is None and after["mis_id"] == "10" and after["status"] == "pending"
    before, after = recorded[("intake", school.entry("5")["id"])]
    assert (before["status"], after["status"]) == ("pending", "withdrawn")
    before, after = recorded[("intake", school.entry("9")["id"])]
    assert (before["tutor_group"], after["tutor_group"]) == ("7Z", "8Z")
    # A derived best score is kept as it was, to go back as it was.
    assert "best_score" in before and "best_score" not in after


def test_runs_are_listed_newest_first_and_shown_by_kind(school):
    runs = school.read(list_runs)
    assert [r.run_id for r in runs][:2] == [school.run_id, school.run_id - 1]
    assert runs[0].rows_changed == 7 and runs[0].kind == "sync" and runs[0].undone_by_run is None
    detail = school.read(show_run, school.run_id)
    # Linking Bob and restoring Dee filled their other fields too.
    assert detail.changes == {"updated": 3, "linked": 1, "recycled": 1, "restored": 1, "intake_added": 1,
                              "intake_refreshed": 1, "intake_closed": 1}
    assert detail.fields["tutor_group"] == 2 and detail.fields["house"] == 2 and "status" not in detail.fields
    assert detail.not_undoable is None


# --- undoing a run -------------------------------------------------------------------

def test_an_undo_puts_back_every_change_and_is_a_run_of_its_own(school):
    result = school.undo()
    assert school.state() == school.before
    assert school.run(school.run_id)["undone_by_run"] == result.undo_run_id
    undo = school.run(result.undo_run_id)
    assert (undo["kind"], undo["undo_of"], undo["outcome"]) == ("undo", school.run_id, "ok")
    assert "librarian" in undo["message"]
    assert {e["action"] for e in school.library.events(result.undo_run_id)} == {"undone"}
    added = [e for e in school.library.events(school.run_id) if e["action"] == "intake_added"]
    assert [e["intake_id"] for e in added] == [None]  # the entry is gone; its event stays, in words
    assert result.left_alone == () and result.changes == {
        "updated": 3, "unlinked": 1, "restored": 1, "recycled": 1, "intake_removed": 1, "intake_refreshed": 1,
        "intake_reopened": 1}
    assert school.read(show_run, result.undo_run_id).changes == result.changes


def test_a_dry_run_says_exactly_what_the_undo_would_do_and_writes_nothing(school):
    everything = school.library.snapshot()
    planned = school.undo(dry_run=True)
    assert school.library.snapshot() == everything
    assert planned.dry_run and planned.undo_run_id is None
    assert ("borrower B1 (Ann Smith)", "tutor_group", "8A", "7A") in {
        (i.label, i.field, i.now, i.back_to) for i in planned.put_back}
    done = school.undo()
    assert done.put_back == planned.put_back and done.changes == planned.changes


def test_a_change_made_since_is_named_and_left_alone(school):
    with school.library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "B1").values(tutor_group="9Q"))
    newer = school.entry("10")
    with school.library.session() as session:
        make_decision(session, school.config, "reject", [newer["id"]], actor="librarian")
    result = school.undo()
    assert {(i.label, i.field, i.now, i.run_left, i.back_to, i.why) for i in result.left_alone} == {
        ("borrower B1 (Ann Smith)", "tutor_group", "9Q", "8A", "7A", LEFT_ALONE),
        (f"Intake entry {newer['id']} (Yan Newer)", "(row)", None, None, None,
         "changed since the run (status)")}
    assert school.library.borrower("B1")["tutor_group"] == "9Q"
    assert school.entry("10")["status"] == "rejected"
    assert school.library.borrower("B3")["status"] == "active"  # the rest is put back


def test_forced_the_undo_puts_back_what_was_changed_since_too(school):
    with school.library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "B1").values(tutor_group="9Q"))
    planned = school.undo(dry_run=True)
    assert items(planned.left_alone) == {("borrower B1 (Ann Smith)", "tutor_group")}
    result = school.undo(force=True)
    assert result.left_alone == () and result.forced
    assert school.state() == school.before


def test_a_later_run_is_a_change_made_since(school):
    school.sync([dict(ANN, RegGroup="9A"), BOB, DEE, dict(ZED, RegGroup="8Z"), YAN])
    result = school.undo()
    assert items(result.left_alone) == {("borrower B1 (Ann Smith)", "tutor_group")}
    assert school.library.borrower("B1")["tutor_group"] == "9A"


def test_an_undo_can_be_undone_and_then_the_run_undone_again(school):
    after_run = school.state()
    undo = school.undo()
    redo = school.undo(undo.undo_run_id)
    assert school.state() == after_run
    assert school.run(undo.undo_run_id)["undone_by_run"] == redo.undo_run_id
    assert school.run(school.run_id)["undone_by_run"] is None
    school.undo()
    assert school.state() == school.before


def test_a_link_now_another_borrowers_is_left_alone_even_when_forced(school):
    removed = school.entry("10")["id"]
    undo = school.undo()  # Bob (MIS 2) is no longer linked to B2, Yan's entry is gone
    with school.library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "B2")
                        .values(upn=None, forename="Rhys", surname="Evans"))
    school.library.add_borrower("B5", "Bob", "Jones", "2012-05-05")
    school.sync([dict(ANN, RegGroup="8A"), BOB, DEE, dict(ZED, RegGroup="8Z"), YAN])
    assert school.library.borrower("B5")["mis_id"] == "2"
    yan = school.entry("10")["id"]  # the sync added Yan again, after the undo removed her entry
    result = school.undo(undo.undo_run_id, force=True)
    # SQLite gives the next row the id of the last one deleted.
    taken = "it exists again" if yan == removed else f"Intake entry {yan} (Yan Newer) is this person's now"
    assert {(i.label, i.field, i.why) for i in result.left_alone} == {
        ("borrower B2 (Rhys Evans)", column, "its MIS link is now borrower B5 (Bob Jones)'s")
        for column in ("mis_person_type", "mis_id", "idaas_id", "external_id")} | {
        (f"Intake entry {removed} (Yan Newer)", "(row)", taken)}
    assert school.library.borrower("B2")["mis_id"] is None and school.library.borrower("B5")["mis_id"] == "2"
    assert [e["id"] for e in school.library.intake() if e["mis_id"] == "10"] == [yan]


def test_undoing_a_change_of_mis_puts_every_link_and_intake_entry_back(tmp_path, library_url):
    """Arbor numbers the pupils with SIMS's ids rotated, and gives Nia and
    Rex, waiting in Intake, each other's old id: links and entries move in
    circles, both ways, and never clash on the way."""
    pupils, staff = old_school()
    nia = student("Nia", "Newman", "2013-01-05", Id="130", UPN=upn(30))
    rex = student("Rex", "Reject", "2013-02-06", Id="131", UPN=upn(31))
    library = synced_under_sims(tmp_path, library_url, pupils, staff)
    sync_as(tmp_path, library_url, "simsnet", [*pupils, nia, rex], staff)
    before = {t: [{k: v for k, v in r.items() if k != "updated_at"} for r in library.rows(t)]
              for t in ("borrowers", "intake")}
    moved, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", [*moved, new_ids(nia, "131", "PL"), new_ids(rex, "130", "PL")],
                     staff, rekey=True)
    assert report.outcome == "ok" and report.counts["matched_by_rekey"] == 15, report.message
    assert report.plan.mis_change.entries_rekeyed == 2
    config = make_config(tmp_path, library_url)
    with open_library(config, write=False) as session:
        assert show_run(session, report.run_id).changes["relinked"] == 15
    with open_library(config, write=True) as session:
        result = undo_run(session, report.run_id, actor="librarian")
    assert result.left_alone == () and result.changes["relinked"] == 15
    assert {t: [{k: v for k, v in r.items() if k != "updated_at"} for r in library.rows(t)]
            for t in ("borrowers", "intake")} == before


# --- refusals ------------------------------------------------------------------------

def test_refusals_name_the_run_and_write_nothing(school):
    school.undo()
    everything = school.library.snapshot()
    with pytest.raises(RunUndoRefused, match=rf"run {school.run_id} \(sync of .*\) was already undone, by run"):
        school.undo()
    with pytest.raises(RunUndoRefused, match="there is no run 999"):
        school.undo(999)
    with school.library.session() as session:
        refused = session.execute(insert(SyncRun).values(kind="sync", source="x", outcome="refused",
                                                         started_at=datetime(2024, 3, 2)).returning(SyncRun.id))
        refused = refused.scalar_one()
        purge = session.execute(insert(SyncRun).values(kind="purge", source="recycle bin", outcome="ok",
                                                       started_at=datetime(2024, 3, 2)).returning(SyncRun.id))
        purge = purge.scalar_one()
    everything = school.library.snapshot()
    with pytest.raises(RunUndoRefused, match=rf"run {refused} \(sync of 2024-03-02 00:00\) wrote nothing \(its "
                                             r"outcome: refused\): there is nothing to undo"):
        school.undo(refused)
    with pytest.raises(RunUndoRefused, match="removed borrowers for good"):
        school.undo(purge)
    assert school.library.snapshot() == everything
    assert isinstance(RunUndoRefused("x"), Refusal)


def test_a_run_that_changed_nothing_or_kept_no_record_is_refused(school):
    unchanged = school.sync([dict(ANN, RegGroup="8A"), BOB, DEE, dict(ZED, RegGroup="8Z"), YAN])
    with pytest.raises(RunUndoRefused, match="changed nothing: there is nothing to undo"):
        school.undo(unchanged.run_id)
    with school.library.session() as session:
        session.execute(delete(RunChange).where(RunChange.run_id == school.run_id))
    with pytest.raises(RunUndoRefused, match="recorded before runs kept what they changed"):
        school.undo()
    assert "recorded before" in school.read(show_run, school.run_id).not_undoable


def test_an_undo_that_could_put_nothing_back_is_refused(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Ann", "Smith", "2012-03-04", mis_id="1", tutor_group="7A",
                         **{k: v for k, v in _filled(ANN).items()})
    report = sync(tmp_path, library_url, [dict(ANN, RegGroup="8A")])
    with library.session() as session:
        session.execute(update(Borrower).values(tutor_group="9Q"))
    config = make_config(tmp_path, library_url)
    with pytest.raises(RunUndoRefused, match=r"nothing of run \d+ \(sync of .*\) can be put back: borrower B1 "
                                             r"\(Ann Smith\) tutor_group: changed since the run; --force"):
        with open_library(config, write=True) as session:
            undo_run(session, report.run_id, actor="librarian")


def _filled(record: dict) -> dict:
    """The borrower columns a sync of this record would fill, already filled."""
    return {"admission_no": record["AdmissionNo"], "idaas_id": record["IdaasId"], "external_id": record["ExternalId"],
            "preferred_forename": record["Forename"], "preferred_surname": record["Surname"],
            "legal_forename": record["LegalForename"], "legal_surname": record["LegalSurname"], "gender": "F",
            "year_group": "Year 8", "house": "Curie"}


# --- optional data, and borrowers a run added ------------------------------------------

def test_values_switched_off_leave_no_copy_in_what_runs_recorded(tmp_path, library_url):
    library = Library(library_url)
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil)
    on = {"email": True, "phones": True, "address": True, "photos": True, "guardians": True}
    first = sync(tmp_path, library_url, data=on)
    assert any(value in repr(library.rows("run_changes")) for value in SENSITIVE_VALUES)
    purge = sync(tmp_path, library_url)
    text = repr(library.rows("run_changes"))
    assert [value for value in SENSITIVE_VALUES if value in text] == []
    recorded = {r["run_id"]: json.loads(r["before"]) for r in library.rows("run_changes") if r["before"]}
    assert recorded[purge.run_id]["email"] == REMOVED and recorded[first.run_id]["email"] is None
    # What was switched off is not kept, so it cannot come back.
    with pytest.raises(RunUndoRefused, match="nothing of run .* is left to put back: what it changed is as it was"):
        with open_library(make_config(tmp_path, library_url), write=True) as session:
            undo_run(session, purge.run_id, actor="librarian")


def test_an_intake_record_a_run_kept_is_emptied_of_values_switched_off(tmp_path, library_url):
    library = Library(library_url)
    write_optional_school(tmp_path / "export")
    staff = {"staff": True, "staff_year_group": 14}
    first = sync(tmp_path, library_url, data={**staff, "email": True, "phones": True, "address": True,
                                               "guardians": True})
    assert any(value in repr(library.rows("run_changes")) for value in SENSITIVE_VALUES)
    purge = sync(tmp_path, library_url, data=staff)
    assert purge.counts["fields_purged"]["intake.email"] == 2
    text = repr(library.rows("run_changes"))
    assert [value for value in SENSITIVE_VALUES if value in text] == []
    added = [json.loads(json.loads(r["after"])["record"]) for r in library.rows("run_changes")
             if r["run_id"] == first.run_id]
    assert len(added) == 2 and all(record["email"] is None and record["phone"] is None for record in added)
    # A purge alone leaves an entry's record as its old one was once emptied: nothing to record, or undo.
    assert [r for r in library.rows("run_changes") if r["run_id"] == purge.run_id] == []


def test_a_borrower_a_run_wrote_twice_goes_back_once_and_a_purged_value_stays_purged(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Ann", "Smith", "2012-03-04", mis_id="1", tutor_group="7A", email="ann@pupil.example",
                         **_filled(ANN))
    before = library.borrower("B1")
    report = sync(tmp_path, library_url, [BOB])  # Ann has left, and email is off: a purge, then a recycle
    recorded = [r for r in library.rows("run_changes")
                if (r["table_name"], r["row_id"]) == ("borrowers", before["id"])]
    assert len(recorded) == 2 and "pupil.example" not in repr(recorded)
    with open_library(make_config(tmp_path, library_url), write=True) as session:
        result = undo_run(session, report.run_id, actor="librarian")
    assert result.changes == {"restored": 1, "intake_removed": 1}  # Bob was new: he waited in Intake
    after = library.borrower("B1")
    assert {k for k in before if before[k] != after[k]} - {"updated_at"} == {"email"} and after["email"] is None


def test_a_photo_a_run_wrote_goes_with_its_undo(tmp_path, library_url):
    library = Library(library_url)
    pupil = student("Ann", "Pupil", Id="700")
    borrower_id = link_borrower(library, pupil)
    before = library.borrower("student-700")
    report = sync(tmp_path, library_url, [pupil], data={"photos": True})
    assert rows_of(library, "borrower_photos", borrower_id) == []  # no Photos file yet
    from tests.builders import write_export
    write_export(tmp_path / "export", Students=[pupil], Photos=[photo("700", image_bytes())])
    report = sync(tmp_path, library_url, data={"photos": True})
    assert len(rows_of(library, "borrower_photos", borrower_id)) == 1
    with open_library(make_config(tmp_path, library_url), write=True) as session:
        result = undo_run(session, report.run_id, actor="librarian")
    assert ("borrower student-700 (Ann Pupil)", "photo_digest", "(photo)", None) in {
        (i.label, i.field, i.now, i.back_to) for i in result.put_back}
    assert rows_of(library, "borrower_photos", borrower_id) == []
    assert library.borrower("student-700")["photo_digest"] is None and before["photo_digest"] is None


def _imported(library: Library, barcode: str) -> int:
    """A run that added a borrower and recorded it, as an import does."""
    with library.session() as session:
        run_id = session.execute(insert(SyncRun).values(kind="import", source="borrowers.csv", outcome="ok",
                                                        started_at=datetime(2024, 3, 1)).returning(SyncRun.id))
        run_id = run_id.scalar_one()
        row = {"barcode": barcode, "forename": "Ivy", "surname": "Import", "borrower_type": "student",
               "status": "active", "created_at": datetime(2024, 3, 1)}
        session.execute(insert(Borrower), [row])
        row["id"] = session.scalar(select(Borrower.id).where(Borrower.barcode == barcode))
        changes = RunChanges(session, run_id)
        changes.created("borrowers", [row])
        changes.flush()
    return run_id


def test_a_borrower_a_run_added_goes_unless_it_has_loans(tmp_path, library_url):
    library = Library(library_url)
    config = make_config(tmp_path, library_url)
    added = _imported(library, "I1")
    with open_library(config, write=True) as session:
        undo = undo_run(session, added, actor="librarian")
    assert undo.changes == {"borrowers_removed": 1} and library.rows("borrowers") == []
    with open_library(config, write=True) as session:
        undo_run(session, undo.undo_run_id, actor="librarian")
    assert [b["barcode"] for b in library.rows("borrowers")] == ["I1"]
    with_loans = _imported(library, "I2")
    library.add_loan(library.borrower("I2")["id"])
    with pytest.raises(RunUndoRefused, match=r"borrower I2 \(Ivy Import\): it has 1 loan"):
        with open_library(config, write=True) as session:
            undo_run(session, with_loans, force=True, actor="librarian")


# --- the command line ----------------------------------------------------------------

def mislink(school: School, *argv: str) -> int:
    path = school.tmp_path / "config.toml"
    if not path.exists():
        save_config(school.config, path)
    return main([*argv, "--config", str(path)])


def test_runs_list_and_show_on_the_command_line(school, capsys):
    assert mislink(school, "runs", "list") == 0
    out = capsys.readouterr().out
    assert f"{school.run_id:>6}  " in out and "2 runs" in out
    assert mislink(school, "runs", "show", str(school.run_id)) == 0
    out = capsys.readouterr().out
    assert "borrowers recycled: 1" in out and "borrowers updated: 3 (" in out and "tutor_group 2" in out
    assert f"mislink runs undo {school.run_id}" in out
    assert mislink(school, "--json", "runs", "show", str(school.run_id)) == 0
    assert json.loads(capsys.readouterr().out)["changes"]["intake_added"] == 1


def test_runs_undo_on_the_command_line(school, capsys):
    with school.library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "B1").values(tutor_group="9Q"))
    assert mislink(school, "runs", "undo", str(school.run_id), "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Undoing run {school.run_id} would put back ") and "Nothing was written" in out
    assert "borrower B3 (Cat Leaver) status: recycled → active" in out
    assert "Left alone (--force puts back what was changed since):" in out
    assert "borrower B1 (Ann Smith) tutor_group: 9Q (the run left 8A) → 7A: changed since the run" in out
    assert school.run(school.run_id)["undone_by_run"] is None
    assert mislink(school, "--json", "runs", "undo", str(school.run_id), "--force") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["forced"] and result["left_alone"] == [] and result["undo_run_id"]
    assert school.state() == school.before
    assert mislink(school, "runs", "undo", str(school.run_id)) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "was already undone" in captured.err
    assert mislink(school, "runs", "undo", "999", "--json") == 1
    assert json.loads(capsys.readouterr().out) == {
        "error": "there is no run 999; `mislink runs list` lists the latest", "exit_code": 1}
