"""Leavers go to the recycle bin, never deleted; loans out are reported; they come back on restore."""
from __future__ import annotations

from datetime import date

from tests.builders import Library, changed_fields, response, student, sync
from tests.support.schools import ON_ROLL, ada, linked_school


def test_absent_from_a_full_export_goes_to_the_recycle_bin_with_a_leaver_group(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    report = sync(tmp_path, library_url, ON_ROLL, today=date(2024, 7, 25))
    assert report.outcome == "ok", report.message
    assert report.counts["recycled"] == 1
    borrowers = library.borrowers()
    assert len(borrowers) == 3  # never deleted
    row = borrowers["B010"]
    assert (row["status"], row["tutor_group"], row["group_before_recycle"]) == (
        "recycled", "Leaver 2024 (Old Group 8A)", "8A")
    assert row["recycled_reason"] == "no longer in the MIS export"
    assert row["recycled_at"] is not None
    assert {b: r["status"] for b, r in borrowers.items()} == {"B010": "recycled", "B011": "active",
                                                              "B012": "active"}


def test_marked_as_a_leaver_in_the_export_is_recycled_in_the_year_they_left(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    report = sync(tmp_path, library_url, [ada(StudentStatus="Leaver", LeavingDate="2023-07-21"), *ON_ROLL])
    assert report.counts["recycled"] == 1
    row = library.borrower("B010")
    assert (row["status"], row["tutor_group"], row["recycled_reason"]) == (
        "recycled", "Leaver 2023 (Old Group 8A)", "marked as a leaver in the MIS")
    # The leaver is not put in Intake either.
    assert library.intake() == []


def test_a_leaving_date_in_the_past_makes_a_leaver(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    report = sync(tmp_path, library_url, [ada(StudentStatus=None, LeavingDate="2024-02-09"), *ON_ROLL])
    assert report.counts["recycled"] == 1
    assert library.borrower("B010")["tutor_group"] == "Leaver 2024 (Old Group 8A)"


def test_a_leaver_matched_by_name_is_recycled_and_linked(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace", tutor_group="11X")
    report = sync(tmp_path, library_url, [ada(StudentStatus="Leaver", LeavingDate="2023-07-21")])
    assert (report.counts["recycled"], report.counts["matched_by_name_dob"]) == (1, 1)
    row = library.borrower("B001")
    assert (row["status"], row["mis_id"], row["tutor_group"]) == ("recycled", "10", "Leaver 2023 (Old Group 11X)")


def test_a_partial_export_never_recycles_anyone_for_being_absent(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    page_one = response("Students", ON_ROLL[:1], __pagination__=[{"PageNumber": 1, "PageCount": 2}])
    report = sync(tmp_path, library_url, page_one)
    assert report.outcome == "ok", report.message
    assert report.counts["recycled"] == 0
    assert any("partial" in w or "not a full export" in w for w in report.plan.warnings)
    assert {r["status"] for r in library.borrowers().values()} == {"active"}


def test_a_delta_export_recycles_its_deleted_students_and_nobody_else(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    delta = response("Students", [student("Alan", "Turing", Id="11", RegGroup="9B")],
                     Students_deleted=[{"Id": "10"}], __changedRows__=[{"NextChangedRows": "abc"}])
    report = sync(tmp_path, library_url, delta)
    assert (report.counts["recycled"], report.counts["updated"]) == (1, 1)
    borrowers = library.borrowers()
    assert (borrowers["B010"]["status"], borrowers["B010"]["recycled_reason"]) == ("recycled", "deleted in the MIS")
    # Grace is absent from the delta but has not left.
    assert borrowers["B012"]["status"] == "active"
    assert borrowers["B011"]["tutor_group"] == "9B"


def test_leavers_with_loans_out_are_listed_in_the_report(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    borrowers = library.borrowers()
    library.add_loan(borrowers["B010"]["id"], "The Hobbit")
    library.add_loan(borrowers["B010"]["id"], "Matilda")
    library.add_loan(borrowers["B011"]["id"], "Holes", returned=True)
    library.add_loan(borrowers["B012"]["id"], "Wonder")  # on roll: not a leaver
    report = sync(tmp_path, library_url, [ON_ROLL[1]])
    assert report.counts["recycled"] == 2
    assert report.counts["leavers_with_loans"] == 1
    assert report.to_json()["leavers_with_loans_list"] == [{"barcode": "B010", "loans_out": 2}]
    assert "leaver with 2 loans out: B010 (Ada Lovelace)" in report.to_text()
    assert "B011" not in report.to_text().split("loans out")[-1]
    # Loans are never touched by recycling.
    assert len(library.rows("loans")) == 4


def test_the_run_log_names_leavers_and_their_loans(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    library.add_loan(library.borrower("B010")["id"])
    sync(tmp_path, library_url, ON_ROLL)
    log = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    assert "recycled: B010 (no longer in the MIS export; 1 loans out)" in log
    assert "Lovelace" not in log and "2012-03-04" not in log


def test_a_recycled_borrower_stays_recycled_while_absent(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    sync(tmp_path, library_url, ON_ROLL)
    before = library.borrower("B010")
    again = sync(tmp_path, library_url, ON_ROLL)
    assert again.counts["recycled"] == 0 and again.plan.is_empty
    assert library.borrower("B010") == before
    # Nor is a leaver recycled twice when the export keeps marking them.
    marked = sync(tmp_path, library_url, [ada(StudentStatus="Leaver"), *ON_ROLL])
    assert marked.counts["recycled"] == 0
    assert library.borrower("B010")["tutor_group"] == "Leaver 2024 (Old Group 8A)"


def test_restore_when_back_on_roll(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    sync(tmp_path, library_url, ON_ROLL)
    report = sync(tmp_path, library_url, [ada(), *ON_ROLL])
    assert (report.counts["restored"], report.counts["recycled"]) == (1, 0)
    row = library.borrower("B010")
    assert (row["status"], row["tutor_group"], row["group_before_recycle"]) == ("active", "8A", None)
    assert changed_fields(library.events(report.run_id), "restored") == {"status": ("recycled", "active")}


def test_unlinked_borrowers_are_never_recycled(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    library.add_borrower("HAND1", "Typed", "Byhand", "2010-10-10")
    report = sync(tmp_path, library_url, ON_ROLL)
    assert report.counts["recycled"] == 1
    assert library.borrower("HAND1")["status"] == "active"


def test_staff_are_not_recycled_by_a_student_only_sync(tmp_path, library_url):
    library = linked_school(tmp_path, library_url)
    library.add_borrower("T001", "Severus", "Snape", "1960-01-09", borrower_type="staff", mis_id="10")
    report = sync(tmp_path, library_url, [ada(), *ON_ROLL])
    assert report.counts["recycled"] == 0
    assert library.borrower("T001")["status"] == "active"
