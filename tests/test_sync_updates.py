"""Matched borrowers are updated from the MIS field by field, with an event per change."""
from __future__ import annotations

from datetime import date

from tests.builders import Library, changed_fields, student, sync


def ada(**fields) -> dict:
    """Ada as the MIS has her; keyword arguments change fields."""
    return student("Ada", "Lovelace", "2012-03-04", **{"Id": "10", "RegGroup": "8A", "YearGroup": "Year  8",
                                                       "HouseGroup": "Curie", **fields})


def test_a_hand_typed_borrower_is_linked_by_name_and_date_of_birth_and_filled_in(tmp_path, library_url):
    library = Library(library_url)
    borrower_id = library.add_borrower("B001", "ADA", "LOVELACE", "2012-03-04", tutor_group="7A")
    report = sync(tmp_path, library_url, [ada(UPN="A123456789012")])
    assert report.outcome == "ok", report.message
    assert (report.counts["matched_by_name_dob"], report.counts["updated"], report.counts["intake_added"]) == (1, 1, 0)
    row = library.borrower("B001")
    assert (row["mis_person_type"], row["mis_id"], row["idaas_id"], row["upn"]) == ("student", "10", "PL-10",
                                                                                    "A123456789012")
    assert (row["forename"], row["surname"], row["tutor_group"], row["year_group"], row["house"]) == (
        "Ada", "Lovelace", "8A", "Year 8", "Curie")
    events = library.events(report.run_id)
    assert {e["borrower_id"] for e in events} == {borrower_id}
    assert changed_fields(events, "linked") == {"matched_by": (None, "name_dob")}
    updated = changed_fields(events)
    assert updated["forename"] == ("ADA", "Ada")
    assert updated["tutor_group"] == ("7A", "8A")
    assert "date_of_birth" not in updated  # already equal: no event


def test_each_changed_field_is_one_event_with_old_and_new_value(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    sync(tmp_path, library_url, [ada()])
    report = sync(tmp_path, library_url, [student("Ada", "King", "2012-03-04", Id="10", RegGroup="9B",
                                                  YearGroup="Year  9", HouseGroup="Newton")])
    assert report.counts["updated"] == 1 and report.counts["matched_by_link"] == 1
    events = library.events(report.run_id)
    assert len(events) == 6
    assert changed_fields(events) == {
        "surname": ("Lovelace", "King"), "preferred_surname": ("Lovelace", "King"),
        "legal_surname": ("Lovelace", "King"), "tutor_group": ("8A", "9B"), "year_group": ("Year 8", "Year 9"),
        "house": ("Curie", "Newton")}
    row = library.borrower("B001")
    assert (row["surname"], row["tutor_group"], row["year_group"], row["house"]) == ("King", "9B", "Year 9",
                                                                                    "Newton")


def test_an_unchanged_borrower_has_no_events(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    sync(tmp_path, library_url, [ada()])
    before = library.borrower("B001")
    report = sync(tmp_path, library_url, [ada()])
    assert (report.counts["unchanged"], report.counts["updated"]) == (1, 0)
    assert library.events(report.run_id) == []
    assert library.borrower("B001") == before


def test_counts_add_up_when_a_purge_meets_a_leaver(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace", mis_id="10", email="ada@example.org")
    library.add_borrower("B002", "Alan", "Turing", mis_id="11", email="alan@example.org")
    report = sync(tmp_path, library_url, [ada(), student("Alan", "Turing", Id="11", StudentStatus="Leaver")])
    counts = report.counts
    # Ada: linked, her email purged (updated); Alan: a leaver, recycled (and purged).
    assert (counts["matched_by_link"], counts["updated"], counts["unchanged"], counts["recycled"]) == (2, 2, 0, 1)
    again = sync(tmp_path, library_url, [ada(), student("Alan", "Turing", Id="11", StudentStatus="Leaver")])
    assert (again.counts["updated"], again.counts["unchanged"], again.counts["recycled"]) == (0, 2, 0)


def test_an_empty_incoming_value_never_blanks_a_stored_one(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    sync(tmp_path, library_url, [ada(UPN="A123456789012", MiddleName="Augusta", Gender="F")])
    blanked = ada(RegGroup=None, HouseGroup="", YearGroup="  ", MiddleName=None, Gender=None, IdaasId=None)
    del blanked["ExternalId"]
    # No UPN key at all: the scope was withdrawn.
    report = sync(tmp_path, library_url, [blanked])
    assert report.counts["unchanged"] == 1
    assert library.events(report.run_id) == []
    row = library.borrower("B001")
    assert (row["tutor_group"], row["house"], row["year_group"], row["middle_name"], row["gender"]) == (
        "8A", "Curie", "Year 8", "Augusta", "F")
    assert (row["upn"], row["idaas_id"], row["external_id"]) == ("A123456789012", "PL-10",
                                                                 "00000000-0000-0000-0000-000000000010")


def test_legal_names_are_shown_when_the_school_asks_for_them(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Beth", "Bennet")
    record = student("Beth", "Bennet", Id="10", LegalForename="Elizabeth")
    sync(tmp_path, library_url, [record])
    assert library.borrower("B001")["forename"] == "Beth"
    report = sync(tmp_path, library_url, [record], data={"forename": "legal"})
    assert changed_fields(library.events(report.run_id)) == {"forename": ("Beth", "Elizabeth")}
    row = library.borrower("B001")
    assert (row["forename"], row["preferred_forename"], row["legal_forename"]) == ("Elizabeth", "Beth", "Elizabeth")


def test_matching_by_upn_links_and_records_how(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Addie", "Byron", None, upn="A123456789012")
    report = sync(tmp_path, library_url, [ada(UPN="a123456789012")])
    assert report.counts["matched_by_upn"] == 1
    assert changed_fields(library.events(report.run_id), "linked") == {"matched_by": (None, "upn")}
    row = library.borrower("B001")
    assert (row["mis_id"], row["forename"], row["date_of_birth"]) == ("10", "Ada", date(2012, 3, 4))


def test_a_recycled_borrower_back_on_roll_is_restored_group_and_all(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    others = [student("Alan", "Turing", Id="11")]
    sync(tmp_path, library_url, [ada()] + others)
    gone = sync(tmp_path, library_url, others)
    assert gone.counts["recycled"] == 1
    recycled = library.borrower("B001")
    assert (recycled["status"], recycled["tutor_group"], recycled["group_before_recycle"]) == (
        "recycled", "Leaver 2024 (Old Group 8A)", "8A")

    back = sync(tmp_path, library_url, [ada()] + others)
    assert (back.counts["restored"], back.counts["recycled"]) == (1, 0)
    row = library.borrower("B001")
    assert (row["status"], row["tutor_group"], row["recycled_at"], row["recycled_reason"],
            row["group_before_recycle"]) == ("active", "8A", None, None, None)
    events = library.events(back.run_id)
    assert changed_fields(events, "restored") == {"status": ("recycled", "active")}
    assert changed_fields(events) == {"tutor_group": ("Leaver 2024 (Old Group 8A)", "8A")}


def test_a_restored_borrower_whose_export_has_no_group_gets_its_old_group_back(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    others = [student("Alan", "Turing", Id="11")]
    sync(tmp_path, library_url, [ada()] + others)
    sync(tmp_path, library_url, others)
    back = sync(tmp_path, library_url, [ada(RegGroup=None)] + others)
    assert back.counts["restored"] == 1
    assert library.borrower("B001")["tutor_group"] == "8A"


def test_a_restored_borrower_in_a_new_group_gets_the_new_group(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B001", "Ada", "Lovelace")
    others = [student("Alan", "Turing", Id="11")]
    sync(tmp_path, library_url, [ada()] + others)
    sync(tmp_path, library_url, others)
    sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="10", RegGroup="9C")] + others)
    row = library.borrower("B001")
    assert (row["status"], row["tutor_group"]) == ("active", "9C")
    after = sync(tmp_path, library_url)
    assert after.plan.is_empty


def test_status_changes_are_events(tmp_path, library_url):
    library = Library(library_url)
    borrower_id = library.add_borrower("B001", "Ada", "Lovelace")
    others = [student("Alan", "Turing", Id="11")]
    sync(tmp_path, library_url, [ada()] + others)
    gone = sync(tmp_path, library_url, others)
    events = library.events(gone.run_id)
    assert [(e["action"], e["field"], e["borrower_id"]) for e in events] == [
        ("recycled", "status", borrower_id), ("recycled", "recycled_reason", borrower_id),
        ("updated", "tutor_group", borrower_id)]
    assert (events[0]["old_value"], events[0]["new_value"]) == ("active", "recycled")
    assert events[1]["new_value"] == "no longer in the MIS export"
    assert events[2]["new_value"] == "Leaver 2024 (Old Group 8A)"
