"""People the school excluded from this app (GDPR, a ``GDPRIDs`` file): they
never reach the library, and what it already holds about them is removed like
switched-off data. The borrower row stays; an Intake entry is withdrawn and
its record keeps only the name and id. Logged by count, never by name; the
audit trail says which field, never the value."""
from __future__ import annotations

import json

from engine.apply import REMOVED
from tests.builders import Library, student, sync, write_export
from tests.optional_builders import (SENSITIVE_VALUES, audit_text, borrower_of, intake_record, link_borrower,
                                     optional_student, rows_of, write_optional_school)

EVERYTHING = {"staff": True, "staff_year_group": 14, "email": True, "phones": True, "address": True,
              "photos": True, "guardians": True}
BORROWER_COLUMNS = ("email", "phone", "address", "postcode", "photo_digest", "guardians_digest")
KEPT = {"person_type", "mis_id", "preferred_forename", "preferred_surname", "presence"}


def ok(report):
    assert report.outcome == "ok", report.message
    return report


def exclude(folder, student_ids=(), staff_ids=(), contact_ids=()) -> None:
    """The school's GDPRIDs answer, as XoD gives it, in the export folder."""
    write_export(folder, GDPRIDs={"GDPR": [{"IsOptIn": False, "Estab": "3281101", "RelyingParty": "mislink.test",
                                            "MIS": None, "StudentIds": list(student_ids),
                                            "StaffIds": list(staff_ids), "ContactIds": list(contact_ids), "OtherIds": []}],
                                  "Message": None, "ExceptionType": None, "ExceptionMessage": None,
                                  "InnerException": None})


def test_an_excluded_borrower_and_intake_entry_lose_everything_stored_about_them(tmp_path, library_url):
    library = Library(library_url)
    newcomer = student("Zed", "Newcomer", "2011-09-10", Id="2002", HouseNo="9", Street="Elm Row",
                       TownOrCity="Ely", PostCode="CB7 4AA")
    pupil, teacher = write_optional_school(tmp_path / "export", Students=[optional_student(), newcomer,
                                                                               student("Kim", "Kept", Id="31")])
    link_borrower(library, pupil)
    link_borrower(library, teacher, "staff")
    ok(sync(tmp_path, library_url, data=EVERYTHING))
    stored = borrower_of(library, pupil)
    assert all(stored[c] for c in BORROWER_COLUMNS)
    assert intake_record(library, "student", "2002")["postcode"] == "CB7 4AA"

    exclude(tmp_path / "export", student_ids=["1001", "2002"])
    report = ok(sync(tmp_path, library_url, data=EVERYTHING))

    borrower = borrower_of(library, pupil)  # the row stays
    assert [borrower[c] for c in BORROWER_COLUMNS] == [None] * len(BORROWER_COLUMNS)
    assert rows_of(library, "borrower_photos", borrower["id"]) == []
    assert rows_of(library, "guardians", borrower["id"]) == []
    assert borrower_of(library, teacher, "staff")["email"]  # the same id, but staff: not excluded
    entry = next(e for e in library.intake() if e["mis_id"] == "2002")
    assert entry["status"] == "withdrawn"
    assert (entry["forename"], entry["surname"]) == ("Zed", "Newcomer")  # what identifies the entry stays
    assert [entry[c] for c in ("date_of_birth", "year_group", "tutor_group", "start_date")] == [None] * 4
    changed = [json.loads(r["before"] or "{}") for r in library.rows("run_changes") if r["run_id"] == report.run_id]
    assert not [c for c in changed if c.get("date_of_birth") == "2011-09-10"], "never recorded for an undo"
    record = intake_record(library, "student", "2002")
    assert {k for k, v in record.items() if v is not None} == KEPT
    assert (record["preferred_forename"], record["mis_id"]) == ("Zed", "2002")
    events = [e for e in library.events(report.run_id) if e["action"] == "purged"]
    assert {e["field"] for e in events if e["borrower_id"] == borrower["id"]} == set(BORROWER_COLUMNS)
    scrubbed = {e["field"] for e in events if e["intake_id"] == entry["id"]}
    assert {"postcode", "date_of_birth", "year_group"} <= scrubbed
    assert {(e["old_value"], e["new_value"]) for e in events} == {(REMOVED, None)}
    assert not [v for v in (*SENSITIVE_VALUES, "CB7 4AA", "2011-09-10") if v in audit_text(library.events(report.run_id))]
    assert "2 people excluded by the school (GDPR): their stored details removed" in report.plan.warnings
    run_log = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    assert "2 people excluded by the school (GDPR)" in run_log
    assert not [v for v in ("CB7 4AA", "Elm Row") if v in run_log]

    again = ok(sync(tmp_path, library_url, data=EVERYTHING))
    assert again.plan.is_empty and not [w for w in again.plan.warnings if "GDPR" in w]


def test_a_person_the_school_excluded_never_appears_in_intake(tmp_path, library_url):
    library = Library(library_url)
    write_export(tmp_path / "export", Students=[student("Kim", "Kept", Id="31"), student("Ex", "Cluded", Id="32")])
    exclude(tmp_path / "export", student_ids=["32"])
    report = ok(sync(tmp_path, library_url))
    assert [e["mis_id"] for e in library.intake()] == ["31"]
    assert report.counts["intake_added"] == 1
    assert "Cluded" not in json.dumps(library.snapshot(), default=str)


def test_an_excluded_contact_is_no_longer_anyone_s_guardian_and_excluded_staff_keep_nothing(tmp_path, library_url):
    library = Library(library_url)
    pupil, teacher = write_optional_school(tmp_path / "export")
    link_borrower(library, pupil)
    link_borrower(library, teacher, "staff")
    exclude(tmp_path / "export", staff_ids=["1001"], contact_ids=["C1"])
    report = ok(sync(tmp_path, library_url, data=EVERYTHING))
    guardians = rows_of(library, "guardians", borrower_of(library, pupil)["id"])
    assert [g["contact_id"] for g in sorted(guardians, key=lambda g: g["priority"])] == ["C2", "C3"]
    staff = borrower_of(library, teacher, "staff")
    assert [staff[c] for c in ("email", "phone", "address", "photo_digest")] == [None] * 4
    assert borrower_of(library, pupil)["photo_digest"]  # the pupil with the same id is not excluded
    assert "GDPR" not in " ".join(report.plan.warnings)  # nothing was stored about them yet


def test_an_opt_in_list_excludes_nobody_and_says_so(tmp_path, library_url):
    write_export(tmp_path / "export", Students=[student("Kim", "Kept", Id="31")])
    write_export(tmp_path / "export", GDPRIDs={"GDPR": [{"IsOptIn": True, "StudentIds": ["31"]}]})
    report = ok(sync(tmp_path, library_url))
    assert [e["mis_id"] for e in Library(library_url).intake()] == ["31"]
    assert "GDPRIDs: an opt-in list is not interpreted; nobody was left out for it" in report.plan.warnings
