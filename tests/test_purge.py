"""Switching optional data off removes what was stored, on the next sync:
borrower columns, the photos and guardians tables, stored Intake records. The
log says which field and how many records; neither it nor the audit trail
ever holds the removed values."""
from __future__ import annotations

import pytest

from tests.builders import Library, student, sync
from tests.optional_builders import (EXPECTED_GUARDIANS, SENSITIVE_VALUES, SHARED_ID, audit_text, borrower_of,
                                     guardians_of, intake_record, library_text, link_borrower, write_optional_school)

WITH_STAFF = {"staff": True, "staff_year_group": 14}
# setting -> (borrower columns it fills, table it fills or None)
STORED_BY = {"address": (("address", "postcode"), None), "phones": (("phone",), None), "email": (("email",), None),
             "photos": (("photo_digest",), "borrower_photos"), "guardians": (("guardians_digest",), "guardians")}
# The whole value as stored, for searching the log and the audit trail.
STORED_VALUES = (*SENSITIVE_VALUES, "first@pupil.example", "t.tutor@idaas.example")


def ok(report):
    assert report.outcome == "ok", report.message
    return report


def log_text(tmp_path) -> str:
    return (tmp_path / "mislink.log").read_text(encoding="utf-8")


def leaked(text: str) -> list[str]:
    return [value for value in STORED_VALUES if value in text]


def people(setting: str) -> list[str]:
    return ["student"] if setting == "guardians" else ["student", "staff"]


@pytest.mark.parametrize("setting", list(STORED_BY))
def test_switching_a_field_off_removes_it_from_every_borrower_and_logs_count_and_field(tmp_path, library_url,
                                                                                       setting):
    library = Library(library_url)
    records = dict(zip(("student", "staff"), write_optional_school(tmp_path / "export")))
    for person_type, record in records.items():
        link_borrower(library, record, person_type)
    columns, table = STORED_BY[setting]
    ok(sync(tmp_path, library_url, data={**WITH_STAFF, setting: True}))
    for person_type in people(setting):
        assert all(borrower_of(library, records[person_type], person_type)[c] for c in columns)
    assert table is None or library.rows(table)

    report = ok(sync(tmp_path, library_url, data=WITH_STAFF))
    for person_type in people(setting):
        borrower = borrower_of(library, records[person_type], person_type)
        assert [borrower[c] for c in columns] == [None] * len(columns)
    assert table is None or library.rows(table) == []
    purged = len(people(setting))
    assert report.counts["fields_purged"] == dict.fromkeys(columns, purged)
    for column in columns:
        assert f"removed switched-off field {column} from {purged} records" in log_text(tmp_path)
    assert leaked(log_text(tmp_path)) == []
    purge_events = library.events(report.run_id)
    assert {(e["action"], e["field"]) for e in purge_events} == {("purged", c) for c in columns}
    assert leaked(audit_text(purge_events)) == []


@pytest.mark.parametrize("setting", ["address", "phones", "email"])
def test_after_a_purge_the_removed_values_are_nowhere_in_the_library(tmp_path, library_url, setting):
    library = Library(library_url)
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil)
    ok(sync(tmp_path, library_url, data={setting: True}))
    ok(sync(tmp_path, library_url))
    assert leaked(library_text(library)) == []


def test_a_purge_reaches_recycled_borrowers_too(tmp_path, library_url):
    library = Library(library_url)
    pupil, _ = write_optional_school(tmp_path / "export")
    gone = library.add_borrower("B-GONE", "Old", "Pupil", status="recycled", email="old@pupil.example",
                                phone="01632 960999")
    link_borrower(library, pupil)
    report = ok(sync(tmp_path, library_url))
    assert report.counts["fields_purged"] == {"email": 1, "phone": 1}
    assert (library.borrower("B-GONE")["email"], library.borrower("B-GONE")["phone"]) == (None, None)
    assert library.borrower("B-GONE")["status"] == "recycled" and gone


def test_after_a_purge_the_next_sync_changes_nothing(tmp_path, library_url):
    library = Library(library_url)
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil)
    every = {s: True for s in STORED_BY}
    ok(sync(tmp_path, library_url, data=every))
    ok(sync(tmp_path, library_url))
    again = ok(sync(tmp_path, library_url))
    assert again.plan.is_empty and again.counts["fields_purged"] == {}
    assert library.events(again.run_id) == []


def test_switching_a_field_back_on_writes_it_again(tmp_path, library_url):
    library = Library(library_url)
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil)
    ok(sync(tmp_path, library_url, data={"guardians": True}))
    ok(sync(tmp_path, library_url))
    ok(sync(tmp_path, library_url, data={"guardians": True}))
    assert guardians_of(library, borrower_of(library, pupil)["id"]) == EXPECTED_GUARDIANS


# --- Intake records ------------------------------------------------------------------

def intake_with_every_option(tmp_path, library_url) -> Library:
    """The optional school's student and staff member waiting in Intake, their
    records holding every kind of optional data."""
    write_optional_school(tmp_path / "export")
    ok(sync(tmp_path, library_url, data={**WITH_STAFF, **{s: True for s in STORED_BY}}))
    return Library(library_url)


RECORD_KEYS = {"address": ("address", "postcode"), "phones": ("phone",), "email": ("email",), "photos": ("photo",),
               "guardians": ("guardians",)}
RECORD_KEYS_FLAT = [key for keys in RECORD_KEYS.values() for key in keys]


def test_switching_off_purges_intake_records_the_sync_does_not_refresh(tmp_path, library_url):
    library = intake_with_every_option(tmp_path, library_url)
    # A librarian's rejection is kept, so the sync skips the person; the staff
    # member is not read once staff are off. Both records are still purged.
    library.set_intake_status("student", SHARED_ID, "rejected")
    report = ok(sync(tmp_path, library_url))
    for person_type in ("student", "staff"):
        record = intake_record(library, person_type, SHARED_ID)
        assert [record[k] for k in RECORD_KEYS_FLAT] == [None] * len(RECORD_KEYS_FLAT), person_type
    assert report.counts["fields_purged"] == {"intake.email": 2, "intake.phone": 2, "intake.address": 2,
                                              "intake.postcode": 2, "intake.photo": 2, "intake.guardians": 1}
    assert "removed switched-off field intake.photo from 2 records" in log_text(tmp_path)
    assert leaked(log_text(tmp_path)) == leaked(audit_text(library.events())) == []


def test_a_withdrawn_intake_entry_is_purged_too(tmp_path, library_url):
    library = intake_with_every_option(tmp_path, library_url)
    write_optional_school(tmp_path / "export", Students=[student("Someone", "Else", Id="9")])
    ok(sync(tmp_path, library_url))
    entry = next(e for e in library.intake() if (e["person_type"], e["mis_id"]) == ("student", SHARED_ID))
    assert entry["status"] == "withdrawn"
    record = intake_record(library, "student", SHARED_ID)
    assert [record[k] for k in RECORD_KEYS_FLAT] == [None] * len(RECORD_KEYS_FLAT)
    assert leaked(audit_text(library.events())) == []


@pytest.mark.parametrize("setting", list(RECORD_KEYS))
@pytest.mark.parametrize("status", ["pending", "new"])
def test_switching_off_purges_an_open_intake_record_without_copying_the_value(tmp_path, library_url, setting,
                                                                              status):
    library = intake_with_every_option(tmp_path, library_url)
    library.set_intake_status("student", SHARED_ID, status)
    still_on = {s: True for s in STORED_BY if s != setting}
    report = ok(sync(tmp_path, library_url, data={**WITH_STAFF, **still_on}))
    record = intake_record(library, "student", SHARED_ID)
    assert [record[k] for k in RECORD_KEYS[setting]] == [None] * len(RECORD_KEYS[setting])
    for key in RECORD_KEYS[setting]:
        assert report.counts["fields_purged"].get(f"intake.{key}") == len(people(setting))
        assert f"removed switched-off field intake.{key}" in log_text(tmp_path)
    events = library.events(report.run_id)
    assert {e["action"] for e in events if e["field"] in RECORD_KEYS[setting]} == {"purged"}
    assert leaked(audit_text(library.events())) == []
