"""Pre-admissions: pupils admitted who have not started. With data.pre_admissions
off they are left out; on, they wait in Intake marked with their start date
until a person says they are new, and never count as leavers before they
start."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from cli.intake import run_intake
from cli.main import build_parser
from engine.config import DataSettings, load_config, replace_section, save_config
from engine.export import read_export
from engine.intake import list_entries
from engine.person import PersonType, Presence, person_from_record, person_to_record
from tests.builders import Library, make_config, staff_member, student, sync, write_export
from tests.intake_builders import session_for
from tests.support.schools import PUPILS as SCHOOL_PUPILS, build_school, sync_export
from tests.support.tui import drives_the_app, running
from tui.panes.intake_queue import COLUMN_WIDTHS, STATUS_WITH_START, status_cell, status_width

JUNE = date(2026, 6, 20)
JULY = date(2026, 7, 25)
SEPTEMBER = date(2026, 9, 10)
STARTS = "2026-09-02"
ON = {"pre_admissions": True}


def newcomer(**fields) -> dict:
    return student("Nia", "Newton", "2015-01-02", **{"Id": "900", "StudentStatus": "PreAdmission",
                                                    "EntryDate": STARTS, "YearGroup": "Year  7", "RegGroup": None,
                                                    **fields})


PUPILS = [student("Ann", "Older", Id="10", EntryDate="2021-09-02"),
          student("Bob", "Older", "2011-05-06", Id="11", EntryDate="2021-09-02")]


# --- reading -------------------------------------------------------------------------------

def read(tmp_path, *records: dict, today: date = JUNE):
    export = read_export(write_export(tmp_path / "export", Students=list(records)), DataSettings(), today=today)
    assert export.rejections == []
    return {p.mis_id: p for p in export.persons}


@pytest.mark.parametrize(("fields", "presence", "start"), [
    ({}, Presence.ARRIVING, date(2026, 9, 2)),
    ({"StudentStatus": "OnRoll"}, Presence.ARRIVING, date(2026, 9, 2)),  # on roll from a day still to come
    ({"StudentStatus": None}, Presence.ARRIVING, date(2026, 9, 2)),
    ({"StudentStatus": "OnRoll", "EntryDate": "2026-06-01"}, Presence.ON_ROLL, None),
    ({"EntryDate": "03/09/2026"}, Presence.ARRIVING, date(2026, 9, 3)),
    ({"EntryDate": "soon"}, Presence.ARRIVING, None),  # no use, but no reason to refuse the pupil
    ({"StudentStatus": "OnRoll", "EntryDate": "soon"}, Presence.ON_ROLL, None),
    ({"StudentStatus": "Leaver", "LeavingDate": "2026-06-01"}, Presence.LEFT, None),
])
def test_a_pre_admission_is_the_mis_s_status_or_an_entry_date_still_to_come(tmp_path, fields, presence, start):
    person = read(tmp_path, newcomer(**fields))["900"]
    assert (person.presence, person.start_date, person.pre_admission) == (presence, start,
                                                                         presence is Presence.ARRIVING)
    assert person_from_record(json.loads(json.dumps(person_to_record(person)))) == person


def test_future_staff_are_not_pre_admissions(tmp_path):
    export = read_export(write_export(tmp_path / "export", Students=[], Staff=[
        staff_member("Fay", "Future", Id="7", StaffStatus="Future", EmploymentStart="2026-09-01")]),
        DataSettings(staff=True, staff_year_group=12), today=JUNE)
    [person] = export.persons
    assert person.person_type is PersonType.STAFF and person.presence is Presence.ARRIVING
    assert not person.pre_admission and person.start_date is None


# --- left out, unless the school switches them on --------------------------------------------

def test_switched_off_they_never_reach_the_library_and_leave_nobody(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B900", "Nia", "Newton", "2015-01-02", mis_id="900", year_group="Year 6")
    report = sync(tmp_path, library_url, [*PUPILS, newcomer(), newcomer(Id="901", Forename="Ola")], today=JUNE,
                  sync={"max_recycle_share": 0.1})
    assert report.outcome == "ok", report.message
    assert {e["mis_id"] for e in library.intake()} == {"10", "11"}
    borrower = library.borrower("B900")
    assert (borrower["status"], borrower["year_group"]) == ("active", "Year 6"), "neither updated nor recycled"
    assert report.counts["recycled"] == 0


def test_switching_them_off_withdraws_those_still_waiting(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    assert {e["mis_id"]: e["status"] for e in library.intake()} == {"10": "pending", "11": "pending",
                                                                    "900": "pending"}
    report = sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE)
    assert report.counts["intake_closed"] == 1
    assert {e["mis_id"]: e["status"] for e in library.intake()}["900"] == "withdrawn"
    again = sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    assert again.counts["intake_refreshed"] == 1, "switched on again, they wait in Intake again"
    assert {e["mis_id"]: e["status"] for e in library.intake()}["900"] == "pending"


# --- switched on: waiting in Intake with their start date ----------------------------------------

def mislink(config, *argv) -> int:
    return run_intake(config, build_parser().parse_args(list(argv)))


def test_they_wait_in_intake_with_their_start_date_until_a_person_says_they_are_new(tmp_path, library_url,
                                                                                       capsys):
    library = Library(library_url)
    assert sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON).outcome == "ok"
    starts = {e["mis_id"]: e["start_date"] for e in library.intake()}
    assert starts == {"10": None, "11": None, "900": date(2026, 9, 2)}
    config = make_config(tmp_path, library_url, data=ON)
    assert mislink(config, "intake", "list") == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "Nia Newton" in line]
    assert len(listed) == 1 and listed[0].endswith(f"starts {STARTS}")
    assert mislink(config, "intake", "list", "--json") == 0
    assert {e["mis_id"]: e["start_date"] for e in json.loads(capsys.readouterr().out)["entries"]}["900"] == STARTS
    # "Transfer all new" takes only those a person confirmed: nobody yet.
    assert mislink(config, "intake", "transfer", "--all-new") == 1
    assert "no Intake entries are confirmed as new" in capsys.readouterr().err
    entry = next(e["id"] for e in library.intake() if e["mis_id"] == "900")
    assert mislink(config, "intake", "new", str(entry)) == 0
    assert mislink(config, "intake", "transfer", "--all-new") == 0
    assert [b["mis_id"] for b in library.rows("borrowers")] == ["900"]
    assert {e["mis_id"]: e["status"] for e in library.intake()}["900"] == "transferred"


def test_once_they_start_their_entry_loses_the_start_date(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    report = sync(tmp_path, library_url, [*PUPILS, newcomer(StudentStatus="OnRoll")], today=SEPTEMBER, data=ON)
    assert report.counts["intake_refreshed"] == 1
    entry = next(e for e in library.intake() if e["mis_id"] == "900")
    assert (entry["status"], entry["start_date"]) == ("pending", None)
    assert json.loads(entry["record"])["presence"] == "on_roll"
    with session_for(make_config(tmp_path, library_url)) as session:
        assert [item.start_date for item in list_entries(session, score_missing=False)] == [None, None, None]


def test_one_who_is_already_a_borrower_is_matched_as_usual(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B900", "Nia", "Newton", "2015-01-02", mis_id="900", status="recycled",
                         tutor_group="Leaver 2025 (Old Group 4B)", group_before_recycle="4B")
    report = sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    assert report.counts["matched_by_link"] == 1 and report.counts["restored"] == 1
    assert library.borrower("B900")["status"] == "active"
    assert "900" not in {e["mis_id"] for e in library.intake()}


def test_a_pre_admission_who_goes_before_starting_is_no_leaver(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    config = make_config(tmp_path, library_url, data=ON)
    entry = next(e["id"] for e in library.intake() if e["mis_id"] == "900")
    assert mislink(config, "intake", "transfer", str(entry)) == 0  # a card made in June
    library.add_borrower("B10", "Ann", "Older", mis_id="10")
    library.add_borrower("B11", "Bob", "Older", "2011-05-06", mis_id="11")
    # The place is turned down in July: 1 of 3 borrowers goes, over the 10% share, yet no leaver.
    report = sync(tmp_path, library_url, PUPILS, today=JULY, data=ON, sync={"max_recycle_share": 0.1})
    assert report.outcome == "ok", report.message
    assert (report.counts["recycled"], report.counts["leavers_expected"], report.counts["leavers_unexpected"]) == (
        1, 0, 0)
    assert "  0 leavers expected, 0 unexpected, 1 pre-admission who never started" in report.to_text().splitlines()
    assert [b["status"] for b in library.rows("borrowers") if b["mis_id"] == "900"] == ["recycled"]


# --- the TUI's queue -----------------------------------------------------------------------------------

def test_the_queue_shows_when_a_waiting_pre_admission_starts(tmp_path, library_url):
    sync(tmp_path, library_url, [*PUPILS, newcomer()], today=JUNE, data=ON)
    with session_for(make_config(tmp_path, library_url)) as session:
        items = {item.mis_id: item for item in list_entries(session, score_missing=False)}
    assert status_cell(items["900"]) == f"starts {STARTS}"
    assert status_cell(items["10"]) == "waiting"
    assert status_cell(replace(items["900"], status="new")) == f"✓ starts {STARTS}"
    assert status_cell(replace(items["900"], status="transferred", borrower_barcode="B1")) == "+ B1"
    assert len(status_cell(replace(items["900"], status="new"))) <= STATUS_WITH_START
    assert status_width(list(items.values())) == STATUS_WITH_START
    assert status_width([items["10"], items["11"]]) == COLUMN_WIDTHS["status"]


@drives_the_app
async def test_the_tui_queue_widens_its_status_column_for_a_start_date(tmp_path):
    path = build_school(tmp_path)
    save_config(replace_section(load_config(path), "data", **ON), path)
    sync_export(tmp_path, [*SCHOOL_PUPILS, newcomer()])
    async with running(path) as pilot:
        queue = pilot.app.intake.queue
        table = queue.table
        status = table.ordered_columns[table.get_column_index("status")]
        item = next(e for e in queue.entries if e.mis_id == "900")
        assert table.get_row(str(item.id))[-1] == f"starts {STARTS}"
        assert status.width == STATUS_WITH_START
