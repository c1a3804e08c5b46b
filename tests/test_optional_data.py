"""Optional data at the database level: each [data] choice on and off, for
students and for staff. Off means the data is nowhere in the library."""
from __future__ import annotations

import pytest

from tests.builders import Library, staff_member, student, sync
from tests.optional_builders import (EXPECTED, EXPECTED_GUARDIANS, SENSITIVE_VALUES, SHARED_ID, STUDENT_COMMS,
                                     borrower_of, comms, guardian_contacts, guardians_of, intake_record, library_text,
                                     link_borrower, optional_student, student_contact, write_optional_school)

EVERY_OPTION_ON = {"address": True, "phones": True, "email": True, "photos": True, "guardians": True}
# Staff are in every sync here, so the same choices are seen to apply to them.
WITH_STAFF = {"staff": True, "staff_year_group": 14}
COLUMNS = {"address": ("address", "postcode"), "phones": ("phone",), "email": ("email",)}


def linked_school(tmp_path, library_url) -> tuple[Library, dict, dict]:
    """The optional school, with both people already borrowers linked to the MIS."""
    library = Library(library_url)
    pupil, teacher = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil, "student")
    link_borrower(library, teacher, "staff")
    return library, pupil, teacher


def ok(report):
    assert report.outcome == "ok", report.message
    return report


@pytest.mark.parametrize("person_type", ["student", "staff"])
@pytest.mark.parametrize("setting", ["address", "phones", "email"])
def test_a_contact_field_reaches_the_borrower_only_when_switched_on(tmp_path, library_url, setting, person_type):
    library, pupil, teacher = linked_school(tmp_path, library_url)
    record = pupil if person_type == "student" else teacher
    others = [c for name, columns in COLUMNS.items() if name != setting for c in columns]

    ok(sync(tmp_path, library_url, data={**WITH_STAFF, setting: False}))
    assert {c: borrower_of(library, record, person_type)[c] for c in COLUMNS[setting]} == \
        dict.fromkeys(COLUMNS[setting])

    ok(sync(tmp_path, library_url, data={**WITH_STAFF, setting: True}))
    borrower = borrower_of(library, record, person_type)
    assert {c: borrower[c] for c in COLUMNS[setting]} == EXPECTED[person_type][setting]
    assert [borrower[c] for c in others] == [None] * len(others), "one setting let another field in"


def test_with_everything_off_no_optional_value_is_anywhere_in_the_library(tmp_path, library_url):
    library, _, _ = linked_school(tmp_path, library_url)
    # A person nobody has linked yet goes to Intake, whose record must be clean too.
    write_optional_school(tmp_path / "export", Students=[student("Nia", "New", Id="2002", WorkEmail="nia@pupil.example",
                                                                 PostCode="PE4 7FQ")])
    ok(sync(tmp_path, library_url, data=WITH_STAFF))
    stored = library_text(library)
    assert [value for value in SENSITIVE_VALUES if value in stored] == []
    assert library.rows("borrower_photos") == library.rows("guardians") == []


def test_guardian_contacts_in_priority_order_with_their_phones_and_emails(tmp_path, library_url):
    library, pupil, teacher = linked_school(tmp_path, library_url)
    # Phones and email stay off: guardians bring their own contact details.
    ok(sync(tmp_path, library_url, data={**WITH_STAFF, "guardians": True}))
    borrower = borrower_of(library, pupil)
    assert guardians_of(library, borrower["id"]) == EXPECTED_GUARDIANS
    assert borrower["guardians_digest"] is not None
    assert (borrower["phone"], borrower["email"]) == (None, None)
    # Guardians are students' contacts: a staff member with the same MIS id has none.
    assert guardians_of(library, borrower_of(library, teacher, "staff")["id"]) == []


def test_guardian_contacts_are_not_written_when_switched_off(tmp_path, library_url):
    library, pupil, _ = linked_school(tmp_path, library_url)
    ok(sync(tmp_path, library_url, data={**EVERY_OPTION_ON, "guardians": False}))
    assert library.rows("guardians") == []
    assert borrower_of(library, pupil)["guardians_digest"] is None


def test_a_link_listed_twice_gives_one_guardian_with_its_most_important_row(tmp_path, library_url):
    library = Library(library_url)
    contacts, links, contact_comms = guardian_contacts()
    pupil, _ = write_optional_school(tmp_path / "export", Contacts=contacts,
                                     StudentContacts=[*links, student_contact(SHARED_ID, "C2", "Carer", 7)])
    link_borrower(library, pupil)
    ok(sync(tmp_path, library_url, data={"guardians": True}))
    assert guardians_of(library, borrower_of(library, pupil)["id"]) == EXPECTED_GUARDIANS


def test_an_unusable_guardian_is_rejected_and_the_others_are_kept(tmp_path, library_url):
    library = Library(library_url)
    contacts, links, _ = guardian_contacts()
    links[0]["Relationship"] = "x" * 65  # the Father link: longer than the library's column
    pupil, _ = write_optional_school(tmp_path / "export", StudentContacts=links)
    link_borrower(library, pupil)
    report = ok(sync(tmp_path, library_url, data={"guardians": True}))
    assert [(r.file, r.record, r.field) for r in report.plan.rejections] == [
        ("StudentContacts.json", f"contact C2 of student {SHARED_ID}", "Relationship")]
    assert [g["contact_id"] for g in guardians_of(library, borrower_of(library, pupil)["id"])] == ["C1", "C3"]


def test_missing_guardian_files_are_a_warning_and_leave_guardians_as_they_were(tmp_path, library_url):
    library, pupil, _ = linked_school(tmp_path, library_url)
    ok(sync(tmp_path, library_url, data={"guardians": True}))
    (tmp_path / "export" / "StudentContacts.json").unlink()
    report = ok(sync(tmp_path, library_url, data={"guardians": True}))
    assert any(w.startswith("StudentContacts.json (or .xml): not in the export") for w in report.plan.warnings)
    assert guardians_of(library, borrower_of(library, pupil)["id"]) == EXPECTED_GUARDIANS


# case: (setting, changes to the student record, extra PersonComms, rejected file and field, column left empty)
UNUSABLE = {
    "postcode too long": ("address", {"PostCode": "P" * 17}, [], ("Students.json", "PostCode"), "postcode"),
    "control character in the street": ("address", {"Street": "Penrith\x00Grove"}, [], ("Students.json", "Street"),
                                        "address"),
    "control character in a phone": ("phones", {}, [comms(SHARED_ID, "01632\x00960000", default=1)],
                                     ("PersonComms.json", "Value"), "phone"),
    "email too long": ("email", {}, [comms(SHARED_ID, "x" * 250 + "@a.example", kind="E", priority=1, default=1)],
                       ("PersonComms.json", "Value"), "email"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_an_unusable_optional_value_is_rejected_and_the_rest_of_the_record_goes_on(tmp_path, library_url, case):
    setting, changes, extra_comms, (file_name, field_name), column = UNUSABLE[case]
    library = Library(library_url)
    pupil = {**optional_student(), **changes, "RegGroup": "9Z"}
    link_borrower(library, pupil)
    write_optional_school(tmp_path / "export", Students=[pupil], PersonComms=[*extra_comms, *STUDENT_COMMS])
    report = ok(sync(tmp_path, library_url, data={setting: True, "guardians": True}))
    assert [(r.file, r.record.split(" (")[0], r.field) for r in report.plan.rejections] == [
        (file_name, f"student {SHARED_ID}", field_name)]
    borrower = borrower_of(library, pupil)
    assert (borrower[column], borrower["tutor_group"]) == (None, "9Z")
    assert len(guardians_of(library, borrower["id"])) == 3


def test_an_intake_record_holds_the_optional_data_that_is_on_and_none_that_is_off(tmp_path, library_url):
    library = Library(library_url)
    write_optional_school(tmp_path / "export")
    ok(sync(tmp_path, library_url, data={**WITH_STAFF, "phones": True, "guardians": True}))
    record = intake_record(library, "student", SHARED_ID)
    assert record["phone"] == EXPECTED["student"]["phones"]["phone"]
    assert [g["contact_id"] for g in record["guardians"]] == ["C1", "C2", "C3"]
    assert (record["email"], record["address"], record["postcode"], record["photo"]) == (None, None, None, None)
    assert intake_record(library, "staff", SHARED_ID)["phone"] == EXPECTED["staff"]["phones"]["phone"]


# --- Names: the shown one follows the setting, both are kept for matching -------------

NAMES = {"Forename": "Bea", "LegalForename": "Beatrice", "Surname": "Lee", "LegalSurname": "Lee-Smith"}
SHOWN = {("preferred", "preferred"): ("Bea", "Lee"), ("legal", "preferred"): ("Beatrice", "Lee"),
         ("preferred", "legal"): ("Bea", "Lee-Smith"), ("legal", "legal"): ("Beatrice", "Lee-Smith")}


def named_person(person_type: str) -> dict:
    build = student if person_type == "student" else staff_member
    return build(NAMES["Forename"], NAMES["Surname"], Id="3003", **NAMES)


@pytest.mark.parametrize("person_type", ["student", "staff"])
@pytest.mark.parametrize(("forename", "surname"), list(SHOWN))
def test_the_display_name_follows_the_setting_and_both_names_are_kept(tmp_path, library_url, person_type,
                                                                     forename, surname):
    library = Library(library_url)
    record = named_person(person_type)
    write_optional_school(tmp_path / "export", **{"Students" if person_type == "student" else "Staff": [record]})
    link_borrower(library, record, person_type)
    ok(sync(tmp_path, library_url, data={**WITH_STAFF, "forename": forename, "surname": surname}))
    borrower = borrower_of(library, record, person_type)
    assert (borrower["forename"], borrower["surname"]) == SHOWN[(forename, surname)]
    assert (borrower["preferred_forename"], borrower["legal_forename"], borrower["preferred_surname"],
            borrower["legal_surname"]) == ("Bea", "Beatrice", "Lee", "Lee-Smith")


def test_changing_the_name_setting_changes_the_display_name_on_the_next_sync(tmp_path, library_url):
    library = Library(library_url)
    record = named_person("student")
    write_optional_school(tmp_path / "export", Students=[record])
    link_borrower(library, record)
    ok(sync(tmp_path, library_url, data={"forename": "legal", "surname": "legal"}))
    ok(sync(tmp_path, library_url))
    assert (borrower_of(library, record)["forename"], borrower_of(library, record)["surname"]) == ("Bea", "Lee")


def test_a_borrower_typed_with_the_legal_name_is_matched_and_shown_by_the_preferred_one(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B77", "Beatrice", "Lee-Smith", "2012-03-04")
    write_optional_school(tmp_path / "export", Students=[named_person("student")])
    report = ok(sync(tmp_path, library_url))
    assert report.counts["matched_by_name_dob"] == 1 and report.counts["intake_added"] == 0
    assert (library.borrower("B77")["forename"], library.borrower("B77")["surname"]) == ("Bea", "Lee")
