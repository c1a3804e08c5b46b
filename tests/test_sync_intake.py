"""Intake: one entry per MIS person, refreshed, closed when matched, withdrawn when they leave."""
from __future__ import annotations

import json
from collections import Counter

from tests.builders import Library, changed_fields, staff_member, student, sync

NEWCOMER = {"Id": "20", "RegGroup": "7N", "YearGroup": "Year  7"}


def newcomer(**fields) -> dict:
    return student("Nia", "Newman", "2013-05-06", **{**NEWCOMER, **fields})


def others() -> list[dict]:
    return [student("Alan", "Turing", Id="11")]


def entries_by_person(library: Library) -> Counter:
    return Counter((e["person_type"], e["mis_id"]) for e in library.intake())


def test_an_unmatched_person_waits_in_intake_with_the_reason(tmp_path, library_url):
    library = Library(library_url)
    report = sync(tmp_path, library_url, [newcomer()])
    assert report.counts["intake_added"] == 1
    (entry,) = library.intake()
    assert (entry["person_type"], entry["mis_id"], entry["status"], entry["reason"]) == ("student", "20", "pending",
                                                                                        "no_match")
    assert (entry["forename"], entry["surname"], entry["tutor_group"], entry["year_group"]) == (
        "Nia", "Newman", "7N", "Year 7")
    record = json.loads(entry["record"])
    assert (record["mis_id"], record["date_of_birth"], record["idaas_id"]) == ("20", "2013-05-06", "PL-20")
    assert [e["action"] for e in library.events(report.run_id)] == ["intake_added"]
    assert library.borrowers() == {}


def test_the_reason_says_why_a_possible_match_was_not_made(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Fred", "Weasley", "2013-05-06")
    library.add_borrower("B002", "George", "Weasley", "2013-05-06")
    sync(tmp_path, library_url, [student("Fred", "Weasley", "2013-05-06", Id="30")])
    (entry,) = library.intake()
    assert entry["reason"] == "possible_twin"
    assert "B001" in entry["reason_detail"] and "twin" in entry["reason_detail"]
    assert library.borrower("B001")["mis_id"] is None


def test_never_two_pending_entries_for_one_person(tmp_path, library_url):
    library = Library(library_url)
    for _ in range(3):
        sync(tmp_path, library_url, [newcomer(), *others()])
    assert entries_by_person(library) == {("student", "20"): 1, ("student", "11"): 1}


def test_a_changed_record_refreshes_its_pending_entry(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer()])
    (before,) = library.intake()
    report = sync(tmp_path, library_url, [newcomer(RegGroup="7S", Surname="Newman-Ray")])
    assert (report.counts["intake_refreshed"], report.counts["intake_added"]) == (1, 0)
    (after,) = library.intake()
    assert after["id"] == before["id"]
    assert (after["tutor_group"], after["surname"], after["status"]) == ("7S", "Newman-Ray", "pending")
    assert json.loads(after["record"])["tutor_group"] == "7S"
    events = library.events(report.run_id)
    assert {e["intake_id"] for e in events} == {before["id"]}
    assert changed_fields(events, "intake_refreshed") == {"tutor_group": ("7N", "7S"),
                                                          "preferred_surname": ("Newman", "Newman-Ray")}


def test_a_pending_entry_closes_when_the_person_is_later_matched_automatically(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer()])
    # The librarian types her in by hand; the next sync finds her by name and birthday.
    borrower_id = library.add_borrower("B100", "nia", "NEWMAN", "2013-05-06")
    report = sync(tmp_path, library_url, [newcomer()])
    assert (report.counts["matched_by_name_dob"], report.counts["intake_closed"]) == (1, 1)
    (entry,) = library.intake()
    assert (entry["status"], entry["borrower_id"], entry["decided_by"]) == ("matched", borrower_id, "sync")
    assert library.borrower("B100")["mis_id"] == "20"
    closes = [e for e in library.events(report.run_id) if e["action"] == "intake_matched"]
    assert [(c["intake_id"], c["borrower_id"], c["new_value"]) for c in closes] == [(entry["id"], borrower_id,
                                                                                    "matched")]
    # And it stays closed.
    assert sync(tmp_path, library_url, [newcomer()]).plan.is_empty


def test_an_entry_is_withdrawn_when_the_person_is_marked_as_a_leaver(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer(), *others()])
    report = sync(tmp_path, library_url, [newcomer(StudentStatus="Leaver", LeavingDate="2024-02-01"), *others()])
    assert report.counts["intake_closed"] == 1
    statuses = {e["mis_id"]: e["status"] for e in library.intake()}
    assert statuses == {"20": "withdrawn", "11": "pending"}
    assert library.borrowers() == {}


def test_an_entry_is_withdrawn_when_the_person_is_absent_from_a_full_export(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer(), *others()])
    report = sync(tmp_path, library_url, others())
    assert report.counts["intake_closed"] == 1
    assert {e["mis_id"]: e["status"] for e in library.intake()} == {"20": "withdrawn", "11": "pending"}


def test_a_withdrawn_entry_reopens_when_the_person_comes_back(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer(), *others()])
    sync(tmp_path, library_url, others())
    report = sync(tmp_path, library_url, [newcomer(), *others()])
    assert (report.counts["intake_refreshed"], report.counts["intake_added"]) == (1, 0)
    assert entries_by_person(library) == {("student", "20"): 1, ("student", "11"): 1}
    assert {e["mis_id"]: e["status"] for e in library.intake()} == {"20": "pending", "11": "pending"}
    assert "intake_reopened" in {e["action"] for e in library.events(report.run_id)}


def test_a_leaver_nobody_knows_is_not_put_in_intake(tmp_path, library_url):
    library = Library(library_url)
    report = sync(tmp_path, library_url, [newcomer(StudentStatus="Leaver"), *others()])
    assert report.counts["intake_added"] == 1
    assert [e["mis_id"] for e in library.intake()] == ["11"]


def test_a_rejected_entry_stays_rejected(tmp_path, library_url):
    library = Library(library_url)
    sync(tmp_path, library_url, [newcomer()])
    library.set_intake_status("student", "20", "rejected")
    report = sync(tmp_path, library_url, [newcomer(RegGroup="7S")])
    assert report.counts["skipped_rejected"] == 1 and report.plan.is_empty
    (entry,) = library.intake()
    assert (entry["status"], entry["tutor_group"]) == ("rejected", "7N")


def test_a_student_and_a_staff_member_with_one_id_are_two_entries(tmp_path, library_url):
    library = Library(library_url)
    report = sync(tmp_path, library_url, [student("Ann", "Pupil", Id="7")],
                  staff=[staff_member("Bob", "Teacher", Id="7")], data={"staff": True, "staff_year_group": 12})
    assert report.counts["intake_added"] == 2, report.message
    assert entries_by_person(library) == {("student", "7"): 1, ("staff", "7"): 1}


def test_a_borrower_linked_to_another_mis_person_is_never_taken_over(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B099", "Ada", "Lovelace", mis_id="99")
    # Pupil 99 has left; a new pupil 10 has the same name and birthday.
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="10"), student("Alan", "Turing", Id="11")])
    assert report.counts["matched_by_name_dob"] == 0 and report.counts["recycled"] == 1
    assert {e["mis_id"]: e["reason"] for e in library.intake()} == {"10": "linked_elsewhere", "11": "no_match"}
    assert "B099" in library.intake()[0]["reason_detail"]
    assert (library.borrower("B099")["mis_id"], library.borrower("B099")["status"]) == ("99", "recycled")


def test_a_upn_with_a_contradicting_date_of_birth_waits_in_intake(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace", "2011-03-04", upn="A123456789012")
    sync(tmp_path, library_url, [student("Ada", "Lovelace", "2012-03-04", Id="10", UPN="A123456789012")])
    (entry,) = library.intake()
    assert (entry["mis_id"], entry["reason"]) == ("10", "upn_dob_mismatch")
    assert library.borrower("B001")["mis_id"] is None
