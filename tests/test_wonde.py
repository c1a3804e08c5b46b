"""The Wonde feed: the mapping onto Xporter records, and fetching from a fake
Wonde server (real HTTP on 127.0.0.1) into a snapshot the folder reader reads."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete

from engine.config import DataSettings
from engine.export import ExportKind, read_export
from engine.feeds.http import FeedError, HttpSettings
from engine.feeds.wonde import (contact_records, deleted_entry, fetch_wonde, photo_record, school_record,
                                staff_record, student_record)
from engine.models import Base
from engine.person import PersonType, Presence
from engine.sync import run_sync
from tests.builders import TODAY, Library, make_config, staff_member, student, write_export
from tests.optional_builders import b64, image_bytes
from demo.dates import EXPORT_TIME
from demo.school import build_school
from demo.writers import write_export as write_demo_export
from tests.support.fake_wonde import TOKEN, FakeWonde, WondeServer, from_demo, wonde_employee, wonde_student
from tests.support.feeds import pupils, wonde_config

STARTED = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)

# A student as Wonde's documentation shapes one, with every include.
WONDE_STUDENT = {
    "id": "A1329183376", "mis_id": "3221", "upi": "7b2a", "initials": "AS", "title": None,
    "surname": "Smith", "forename": "Alfie", "middle_names": "James", "legal_surname": "Smyth",
    "legal_forename": "Alfred", "gender": "M",
    "date_of_birth": {"date": "2012-03-04 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
    "created_at": {"date": "2020-09-01 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
    "extended_details": {"data": {"upn": "A123456789012", "former_upn": None, "admission_number": "001234",
                                  "admission_date": {"date": "2020-09-02 00:00:00.000000"}, "leaving_date": None}},
    "groups": {"data": [{"id": "G1", "name": "8A", "type": "REGISTRATION"},
                        {"id": "G2", "name": "Year 8", "type": "YEAR"},
                        {"id": "G3", "name": "Curie", "type": "HOUSE"}]},
    "contact_details": {"data": {"emails": {"email": "alfie@home.example", "work": None},
                                 "telephones": {"phone": "01632 960001", "mobile": "07700 900001"},
                                 "addresses": {"home": {"house_number": "12", "street": "Swallow Close",
                                                        "town": "Attleborough", "postcode": "NR17 9YT"}}}},
    "photo": {"data": {"id": "P1", "content": "aGVsbG8=", "hash": "abc"}},
    "contacts": {"data": [{"id": "C9", "mis_id": "77", "title": "Mrs", "forename": "Ann", "surname": "Smith",
                           "relationship": {"relationship": "Mother", "priority": 1,
                                            "parental_responsibility": True},
                           "contact_details": {"data": {"telephones": {"mobile": "07700 900777"}}}}]},
}


# --- the mapping, field by field ---------------------------------------------

def test_a_wonde_student_becomes_an_xporter_students_record():
    record = student_record(WONDE_STUDENT)
    assert record == {
        "Id": "3221", "ExternalId": "A1329183376", "Title": None, "Forename": "Alfie", "Surname": "Smith",
        "LegalForename": "Alfred", "LegalSurname": "Smyth", "MiddleName": "James", "Gender": "M",
        "DateofBirth": "2012-03-04 00:00:00.000000", "UPN": "A123456789012", "FormerUPN": None,
        "AdmissionNo": "001234", "EntryDate": "2020-09-02 00:00:00.000000", "LeavingDate": None,
        "RegGroup": "8A", "YearGroup": "Year 8", "HouseGroup": "Curie",
        "HomeEmail": "alfie@home.example", "WorkEmail": None, "MobilePhone": "07700 900001",
        "HomePhone": "01632 960001", "WorkPhone": None,
        "Apartment": None, "HouseName": None, "HouseNo": "12", "Street": "Swallow Close", "District": None,
        "TownOrCity": "Attleborough", "County": None, "PostCode": "NR17 9YT",
        "StudentStatus": None,
    }
    assert student_record(WONDE_STUDENT, pre_admission=True)["StudentStatus"] == "PreAdmission"


def test_a_student_without_includes_has_none_for_what_was_not_sent():
    bare = {"id": "A1", "mis_id": "5", "forename": "Bea", "surname": "Twin"}
    record = student_record(bare)
    assert record["Id"] == "5" and record["Forename"] == "Bea"
    assert record["UPN"] is None and record["DateofBirth"] is None and "RegGroup" not in record
    assert "HomeEmail" not in record


def test_an_employee_becomes_a_staff_record_with_its_registration_groups():
    employee = {"id": "E7", "mis_id": "25", "title": "Ms", "forename": "Jo", "surname": "Bloggs",
                "date_of_birth": {"date": "1980-05-06 00:00:00.000000"},
                "extended_details": {"data": {"staff_code": "JB"}},
                "groups": {"data": [{"name": "8A", "type": "registration"}, {"name": "8B", "type": "REGISTRATION"},
                                    {"name": "Maths", "type": "DEPARTMENT"}]}}
    record = staff_record(employee)
    assert (record["Id"], record["ExternalId"], record["StaffCode"], record["DateOfBirth"], record["RegGroup"]) \
        == ("25", "E7", "JB", "1980-05-06 00:00:00.000000", "8A,8B")
    assert "DateofBirth" not in record and "YearGroup" not in record


def test_photos_contacts_school_and_deletions():
    assert photo_record(WONDE_STUDENT, "Student") == {"PersonId": "3221", "PersonType": "Student",
                                                      "Photo": "aGVsbG8="}
    assert photo_record({"mis_id": "1"}, "Student") is None
    (contact, link), = contact_records(WONDE_STUDENT)
    assert contact["Id"] == "77" and contact["Forename"] == "Ann" and contact["MobilePhone"] == "07700 900777"
    assert link == {"StudentId": "3221", "ContactId": "77", "Relationship": "Mother", "Priority": 1,
                    "ParResp": True}
    assert school_record({"establishment_number": "1101", "la_code": "328", "name": "X"})["EstabId"] == "3281101"
    assert deleted_entry({"id": "A9", "type": "student", "mis_id": "3221"}) == ("Students", {"Id": "3221"})
    assert deleted_entry({"id": "E9", "type": "EMPLOYEE", "mis_id": "25"}) == ("Staff", {"Id": "25"})
    assert deleted_entry({"id": "A9", "type": "student"}) is None
    assert deleted_entry({"id": "X", "type": "class", "mis_id": "1"}) is None


def test_malformed_values_reach_the_reader_which_rejects_them_by_record_and_field(tmp_path):
    bad_dob = {**WONDE_STUDENT, "mis_id": "1", "date_of_birth": {"date": "yesterday"}}
    bad_name = {**WONDE_STUDENT, "mis_id": "2", "forename": {"first": "Al"}}
    bad_groups = {**WONDE_STUDENT, "mis_id": "3", "groups": {"data": "8A"}}
    no_id = {**WONDE_STUDENT, "mis_id": None}
    records = [student_record(r) for r in (bad_dob, bad_name, bad_groups, no_id, WONDE_STUDENT)]
    write_export(tmp_path, Students=records)
    export = read_export(tmp_path, DataSettings(), TODAY)
    assert [p.mis_id for p in export.persons] == ["3", "3221"]
    assert {(r.record, r.field) for r in export.rejections} == {
        ("student 1", "DateofBirth"), ("student 2", "Forename"), ("record #4", "Id")}
    assert export.persons[0].tutor_group == "8A"


# --- fetching from the fake server --------------------------------------------

@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("MISLINK_SOURCE_SECRET", TOKEN)


def fetch(url, tmp_path, previous=None, pages=None, **data):
    """Fetch from the fake server as ``mislink fetch`` would (retries never wait)."""
    return fetch_wonde(wonde_config(tmp_path, url, **data), previous, now=STARTED,
                       http=HttpSettings(sleep=lambda _: None), pages=pages)


def test_every_page_is_fetched_by_following_next_and_written_as_an_export(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(5)])
    pages = []
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path, pages=lambda *progress: pages.append(progress))
    assert pages == [("students", 1, 2), ("students", 2, 3), ("students", 3, 3)]
    assert [q.get("page") for e, q in fake.requests if e == "students"] == [None, "2", "3"]
    assert {q["include"] for e, q in fake.requests if e == "students"} == {"extended_details,contact_details,groups"}
    assert fetched.full and json.loads(fetched.next_delta) == {"full": "2024-03-01", "since": "2024-03-01 06:00:00"}
    assert sorted(p.name for p in fetched.snapshot.iterdir()) == ["SchoolInfo.json", "Students.json"]
    export = read_export(fetched.snapshot, DataSettings(), TODAY)
    assert sorted(p.mis_id for p in export.persons) == ["100", "101", "102", "103", "104"]
    assert export.kind is ExportKind.FULL and export.estab == "3281101" and export.mis_name == "SIMS"
    assert not export.rejections


def test_a_record_that_is_not_an_object_is_rejected_by_position_and_the_rest_goes_on(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(2)])
    fake.students.insert(1, "not a record")
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path)
    export = read_export(fetched.snapshot, DataSettings(), TODAY)
    assert [p.mis_id for p in export.persons] == ["100", "101"]
    assert [(r.file, r.record, r.field) for r in export.rejections] == [("Students.json", "record #2", "Id")]


def test_a_server_error_is_retried_and_the_fetch_completes(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(3)], faults={("students", 2): (503, {})},
                     faults_once=True)
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path)
    assert [q.get("page") for e, q in fake.requests if e == "students"] == [None, "2", "2"]
    assert len(read_export(fetched.snapshot, DataSettings(), TODAY).persons) == 3


def test_a_delta_asks_for_changes_since_and_its_deletions_are_leavers(tmp_path):
    changed = wonde_student(student("New", "Pupil", Id="300"))
    changed["updated_at"] = {"date": "2024-02-29 10:00:00.000000"}
    fake = FakeWonde(students=[wonde_student(student("Old", "Pupil", Id="299")), changed],
                     employees=[wonde_employee(staff_member("Jo", "Bloggs", Id="25"))],
                     deletions=[{"id": "A1", "type": "student", "mis_id": "298"},
                                {"id": "E1", "type": "employee", "mis_id": "24"},
                                {"id": "A2", "type": "student"}, {"id": "K1", "type": "class", "mis_id": "9"}])
    previous = json.dumps({"full": "2024-02-27", "since": "2024-02-28 00:00:00"})
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path, previous, staff=True, staff_year_group=14)
    assert not fetched.full
    assert json.loads(fetched.next_delta) == {"full": "2024-02-27", "since": "2024-03-01 06:00:00"}
    assert all(q["updated_after"] == "2024-02-28 00:00:00" for e, q in fake.requests if e != "school")
    assert fetched.warnings == ["deletions: 1 without a MIS id; those people are not taken as leavers until a "
                                "full fetch"]
    export = read_export(fetched.snapshot, DataSettings(staff=True, staff_year_group=14), TODAY)
    assert export.kind is ExportKind.DELTA
    assert [p.mis_id for p in export.persons if p.person_type is PersonType.STUDENT] == ["300"]
    assert export.deleted == {(PersonType.STUDENT, "298"), (PersonType.STAFF, "24")}


def test_a_full_fetch_is_due_after_full_every_days(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(1)])
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path, json.dumps({"full": "2024-02-20", "since": "2024-02-29 00:00:00"}))
    assert fetched.full and not any("updated_after" in q for _, q in fake.requests)
    assert "deletions" not in {e for e, _ in fake.requests}


def test_a_refused_updated_after_falls_back_to_a_full_fetch(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(1)],
                     faults={("students", 1): (422, {"message": "The updated after is not a valid date."})})
    fake.faults_once = True
    with WondeServer(fake) as url:
        fetched = fetch(url, tmp_path, json.dumps({"full": "2024-02-29", "since": "2024-02-29 00:00:00"}))
    assert fetched.full and json.loads(fetched.next_delta)["full"] == "2024-03-01"
    assert fetched.warnings == ["students page 1: Wonde did not accept the request (HTTP 422): The updated after "
                                "is not a valid date.; so everything was fetched instead of the changes since the "
                                "last sync"]
    assert ["updated_after" in q for e, q in fake.requests if e == "students"] == [True, False]
    assert [p.name for p in (tmp_path / "snapshots").iterdir()] == [fetched.snapshot.name]


def test_pre_admissions_are_fetched_only_when_on_and_arrive_as_pre_admissions(tmp_path):
    fake = FakeWonde(students=[wonde_student(student("On", "Roll", Id="1"))],
                     pre_admissions=[wonde_student(student("Not", "Yet", Id="2", EntryDate="2024-04-15"))])
    with WondeServer(fake) as url:
        fetch(url, tmp_path / "off")
        assert "students-pre-admission" not in {e for e, _ in fake.requests}
        fetched = fetch(url, tmp_path / "on", pre_admissions=True)
    export = read_export(fetched.snapshot, DataSettings(pre_admissions=True), TODAY)
    arriving, = [p for p in export.persons if p.mis_id == "2"]
    assert arriving.presence is Presence.ARRIVING and arriving.start_date == date(2024, 4, 15)


@pytest.mark.parametrize("fault, words", [
    ((422, {"message": "The given data was invalid.", "errors": {"per_page": ["must be at most 200"]}}),
     "students page 2: Wonde did not accept the request (HTTP 422): The given data was invalid. - per_page: "
     "must be at most 200"),
    ((200, {"error": "Server busy", "error_description": "try later"}),
     "students page 2: Wonde returned an error instead of data: Server busy - try later"),
    ((403, {"error": "access_denied"}), "students page 2: Wonde refused access (HTTP 403"),
    ((200, {"data": "nothing"}), "students page 2: the answer holds no list of records ('data')"),
])
def test_a_refused_or_broken_page_is_a_clear_error_naming_endpoint_and_page(tmp_path, fault, words):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(3)], faults={("students", 2): fault})
    with WondeServer(fake) as url, pytest.raises(FeedError) as raised:
        fetch(url, tmp_path)
    assert words in str(raised.value)
    assert not any((tmp_path / "snapshots").iterdir())  # nothing half-written is kept


def test_a_failed_fetch_leaves_the_library_unchanged(tmp_path, library_url):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(3)],
                     faults={("students", 2): (422, {"message": "The given data was invalid."})})
    library = Library(library_url)
    library.add_borrower("B1", "Pupil0", "Jones", mis_id="100")
    before = library.snapshot()
    with WondeServer(fake) as url:
        report = run_sync(wonde_config(tmp_path, url, library_url), today=TODAY)
    assert report.outcome == "failed"
    assert "students page 2: Wonde did not accept the request (HTTP 422): The given data was invalid." \
        in report.message
    assert library.snapshot() == before


def test_the_token_is_never_in_a_message_the_log_or_the_snapshot(tmp_path, library_url, monkeypatch):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(2)])
    with WondeServer(fake) as url:
        assert run_sync(wonde_config(tmp_path, url, library_url), today=TODAY).outcome == "ok"
        monkeypatch.setenv("MISLINK_SOURCE_SECRET", "wrong-" + TOKEN)
        refused = run_sync(wonde_config(tmp_path, url, library_url), today=TODAY)
    assert refused.outcome == "failed" and "school: the server refused the credentials (HTTP 401)" in refused.message
    written = [refused.message, (tmp_path / "mislink.log").read_text(encoding="utf-8"),
               *(p.read_text(encoding="utf-8") for p in (tmp_path / "snapshots").rglob("*.json"))]
    assert not any(TOKEN in text for text in written)


def test_a_sync_then_a_delta_whose_deletion_recycles_the_leaver(tmp_path, library_url):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(2)])
    library = Library(library_url)
    for mis_id in ("100", "101"):
        library.add_borrower(f"B{mis_id}", "Old", "Name", mis_id=mis_id)
    with WondeServer(fake) as url:
        config = wonde_config(tmp_path, url, library_url)
        assert run_sync(config, today=TODAY).outcome == "ok"
        assert {b["forename"] for b in library.borrowers().values()} == {"Pupil0", "Pupil1"}
        fake.deletions.append({"id": "A101", "type": "student", "mis_id": "101"})
        fake.requests.clear()
        assert run_sync(config, today=TODAY).outcome == "ok"
    assert all("updated_after" in q for e, q in fake.requests if e != "school")
    assert library.borrower("B100")["status"] == "active" and library.borrower("B101")["status"] == "recycled"


def test_a_wrong_token_names_the_endpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("MISLINK_SOURCE_SECRET", "not-the-token")
    with WondeServer(FakeWonde()) as url, \
            pytest.raises(FeedError, match=r"^school: the server refused the credentials \(HTTP 401\)"):
        fetch(url, tmp_path)


def test_a_next_link_to_another_server_is_not_followed(tmp_path):
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(1)])
    fake.faults[("students", 1)] = (200, {"data": [], "meta": {"pagination": {
        "next": "https://elsewhere.example/v1.0/schools/x/students?page=2", "more": True}}})
    with WondeServer(fake) as url, pytest.raises(FeedError, match="students page 1: .*another server"):
        fetch(url, tmp_path)
    assert [e for e, _ in fake.requests] == ["school", "students"]


# --- the same school, from Wonde and from a folder ---------------------------

def _school():
    """Pupils and staff as Xporter would send them, holding only what Wonde
    also carries (Wonde has no IdaasId or XID), with photos and guardians."""
    people = [student("Alfie", "Smith", "2012-03-04", Id="101", LegalForename="Alfred", Gender="M",
                      UPN="A123456789012", HouseNo="12", Street="Swallow Close", TownOrCity="Attleborough",
                      PostCode="NR17 9YT", MobilePhone="07700 900001"),
              student("Grace", "Hopper", "2011-12-09", Id="102", HomeEmail="grace@home.example"),
              student("Bea", "Twin", "2012-01-15", Id="105", RegGroup="8B", YearGroup="Year  8"),
              student("Ben", "Twin", "2012-01-15", Id="106", RegGroup="8B", Gender="M"),
              student("Zed", "Newman", "2011-10-09", Id="103", YearGroup="Year  9", RegGroup="9C")]
    for person in people:
        person.update(IdaasId=None, XID=None, StudentStatus=None)
    staff = [staff_member("Jo", "Bloggs", Id="25", RegGroup="8A", IdaasId=None)]
    mother = {"Id": "77", "Title": "Mrs", "Forename": "Ann", "Surname": "Smith", "MobilePhone": "07700 900777"}
    photo = b64(image_bytes())
    return people, staff, mother, photo


def test_the_same_school_from_wonde_and_from_a_folder_gives_identical_libraries(tmp_path, library_url):
    people, staff, mother, photo = _school()
    data = {"staff": True, "photos": True, "guardians": True, "address": True, "email": True, "phones": True}
    link = {"StudentId": "101", "ContactId": "77", "Relationship": "Mother", "Priority": 1, "ParResp": True}
    folder = tmp_path / "folder"
    write_export(folder, Students=people, Staff=staff, Contacts=[mother], StudentContacts=[link],
                 Photos=[{"PersonId": "101", "PersonType": "Student", "Photo": photo}],
                 SchoolInfo=[{"EstabId": "3281101", "Name": "Test School"}])
    fake = FakeWonde(
        students=[wonde_student(p, photo=photo if p["Id"] == "101" else None,
                                contacts=[{"contact": mother, **link}] if p["Id"] == "101" else None)
                  for p in people],
        employees=[wonde_employee(s) for s in staff])

    from_folder, from_wonde = synced_twice(tmp_path, library_url, folder, fake, data)
    assert len(from_folder["intake"]) == 4 and from_folder["guardians"] and from_folder["photos"]


def synced_twice(tmp_path, library_url, folder, fake, data, today=TODAY) -> tuple[dict, dict]:
    """The library after syncing the folder, and after syncing the fake Wonde
    server instead (from the same start: two borrowers typed in by hand)."""
    library = Library(library_url)

    def synced(config) -> dict:
        with library.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
        library.add_borrower("S0001", "Alfred", "Smyth", "2012-03-04", gender="M", mis_id="101")
        library.add_borrower("S0002", "Grace", "Hopper", "2011-12-09", mis_id="102")
        report = run_sync(config, today=today)
        assert report.outcome == "ok", report.message
        return {"borrowers": _without_ids(library.rows("borrowers")),
                "intake": [{k: (json.loads(v) if k == "record" else v) for k, v in row.items()}
                           for row in _without_ids(library.intake())],
                "guardians": _without_ids(library.rows("guardians")),
                "photos": _without_ids(library.rows("borrower_photos"))}

    from_folder = synced(make_config(tmp_path, library_url, source=folder, data=data,
                                     sync={"max_recycle_share": 1.0, "min_export_share": 0.0}))
    with WondeServer(fake) as url:
        from_wonde = synced(wonde_config(tmp_path, url, library_url, **data))
    assert from_wonde == from_folder
    return from_folder, from_wonde


def test_the_demo_school_from_wonde_and_from_a_folder_gives_identical_libraries(tmp_path, library_url):
    """The demo school, less what Wonde does not carry: Groupcall's own ids,
    display names, PersonComms and the address block (Wonde sends the parts)."""
    school = build_school(students=150, staff=12)
    for endpoint in ("Students", "Staff", "Contacts"):
        for record in school.rows(endpoint):
            record.update(IdaasId=None, XID=None, DisplayName=None, AddressBlock=None, Country=None)
    del school.responses["PersonComms"]
    write_demo_export(school, tmp_path / "folder")
    data = {"staff": True, "staff_year_group": 14, "photos": True, "guardians": True, "address": True}
    from_folder, _ = synced_twice(tmp_path, library_url, tmp_path / "folder", from_demo(school), data,
                                  EXPORT_TIME.date())
    # Everyone but the two borrowers linked by hand and the one pupil who has left.
    assert len(from_folder["intake"]) == 150 + 12 - 3
    # Tutors' years come from the groups they tutor, on both sides.
    assert {r["year_group"] for r in from_folder["intake"] if r["person_type"] == "staff"} - {"Year 14"}


_VOLATILE = {"id", "borrower_id", "run_id", "created_at", "updated_at", "last_synced_at", "decided_at"}


def _without_ids(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in _VOLATILE} for row in rows]


def test_the_command_line_fetches_and_syncs_from_wonde(tmp_path, library_url, capsys):
    from cli.main import main
    from engine.config import save_config

    fake = FakeWonde(students=[wonde_student(p) for p in pupils(3)])
    with WondeServer(fake) as url:
        save_config(wonde_config(tmp_path, url, library_url), tmp_path / "config.toml")
        run = lambda *argv: (main(["--config", str(tmp_path / "config.toml"), *argv]),  # noqa: E731
                             *capsys.readouterr())
        code, out, err = run("fetch")
        assert (code, err) == (0, "") and Path(out.strip()).parent == tmp_path / "snapshots"
        assert run("--sync")[0] == 0
        assert len(Library(library_url).intake()) == 3
        # Refused on a delta, then on the full fetch it falls back to.
        fake.faults[("students", 1)] = (422, {"message": "The given data was invalid."})
        code, out, err = run("fetch")
        assert code == 1 and "students page 1: Wonde did not accept the request (HTTP 422)" in err
        code, out, err = run("--sync")
        assert code == 1 and "students page 1: Wonde did not accept the request (HTTP 422)" in err
    assert TOKEN not in out + err
