"""Every value the sync writes fits its column on every database, checked
before writing: one that does not is rejected by file, record and field, and
the rest of the run goes on. Limits come from the models, so the table below
must name every text and integer column the sync writes (a new column fails
``test_every_written_column_is_covered`` until it is added here)."""
from __future__ import annotations

import pytest
from sqlalchemy import Integer, String

from engine.apply import MAX_EVENT_VALUE, shown
from engine.models import Base
from engine.plan import leaver_group
from engine.text import INTEGER_RANGE, MAX_LENGTHS, column_problem
from tests.builders import Library, student, sync, write_export
from tests.optional_builders import contact, student_contact

# The models' tables by the names a person says (mislink_borrowers is "borrowers").
TABLES = {table.name.removeprefix("mislink_"): table for table in Base.metadata.sorted_tables}

SID = "41"
ALL_DATA = {"email": True, "phones": True, "address": True, "guardians": True}


def _width(column: str) -> int:
    table, name = column.split(".")
    return TABLES[table].c[name].type.length


def _long(column: str, letter: str = "x") -> str:
    return letter * (_width(column) + 1)


# Column -> (endpoint file, Xporter field, a value that does not fit it).
# Intake holds the same values as the borrower for someone not yet matched.
FROM_EXPORT = {
    "borrowers.mis_id": ("Students", "Id", _long("borrowers.mis_id", "9")),
    "borrowers.idaas_id": ("Students", "IdaasId", _long("borrowers.idaas_id")),
    "borrowers.external_id": ("Students", "ExternalId", _long("borrowers.external_id")),
    "borrowers.upn": ("Students", "UPN", _long("borrowers.upn")),
    "borrowers.admission_no": ("Students", "AdmissionNo", _long("borrowers.admission_no")),
    "borrowers.forename": ("Students", "Forename", _long("borrowers.forename")),
    "borrowers.surname": ("Students", "Surname", _long("borrowers.surname")),
    "borrowers.legal_forename": ("Students", "LegalForename", _long("borrowers.legal_forename")),
    "borrowers.legal_surname": ("Students", "LegalSurname", _long("borrowers.legal_surname")),
    "borrowers.middle_name": ("Students", "MiddleName", _long("borrowers.middle_name")),
    "borrowers.gender": ("Students", "Gender", _long("borrowers.gender")),
    "borrowers.year_group": ("Students", "YearGroup", _long("borrowers.year_group")),
    "borrowers.tutor_group": ("Students", "RegGroup", _long("borrowers.tutor_group")),
    "borrowers.house": ("Students", "HouseGroup", _long("borrowers.house")),
    "borrowers.email": ("Students", "WorkEmail", _long("borrowers.email")),
    "borrowers.phone": ("Students", "MobilePhone", _long("borrowers.phone", "1")),
    "borrowers.address": ("Students", "Street", _long("borrowers.address")),
    "borrowers.postcode": ("Students", "PostCode", _long("borrowers.postcode")),
    "guardians.contact_id": ("StudentContacts", "ContactId", _long("guardians.contact_id", "7")),
    "guardians.name": ("Contacts", "DisplayName", _long("guardians.name")),
    "guardians.relationship": ("StudentContacts", "Relationship", _long("guardians.relationship")),
    "guardians.priority": ("StudentContacts", "Priority", INTEGER_RANGE[1] + 1),
    "guardians.phone": ("Contacts", "MobilePhone", _long("guardians.phone", "1")),
    "guardians.email": ("Contacts", "HomeEmail", _long("guardians.email")),
    "sync_runs.estab": ("SchoolInfo", "EstabId", _long("sync_runs.estab", "8")),
}
# Values that only outgrow their column once the reader has normalised them.
GROWN = {
    "UPN upper-cased": ("Students", "UPN", "ß" * (_width("borrowers.upn") // 2 + 1)),
    "postcode upper-cased": ("Students", "PostCode", "ß" * (_width("borrowers.postcode") // 2 + 1)),
    "negative priority": ("StudentContacts", "Priority", INTEGER_RANGE[0] - 1),
    "priority in digits": ("StudentContacts", "Priority", "9" * 40),
}
# Columns the engine fills itself, and why each always fits.
ENGINE_MADE = {
    "borrowers.barcode": "from the barcode scheme, checked by BarcodeAllocator",
    "borrowers.borrower_type": "student or staff", "borrowers.mis_person_type": "student or staff",
    "borrowers.preferred_forename": "Forename, checked above", "borrowers.preferred_surname": "Surname, above",
    "borrowers.photo_digest": "a SHA-256 in hex", "borrowers.guardians_digest": "a SHA-256 in hex",
    "borrowers.status": "active or recycled", "borrowers.recycled_reason": "the planner's own short reasons",
    "borrowers.group_before_recycle": "a stored tutor_group, same width",
    "borrowers.held_by": "the user's name (engine.users), cut to fit",
    "borrower_photos.content_type": "image/jpeg or image/png",
    "intake.person_type": "student or staff", "intake.mis_id": "Id, above", "intake.status": "a status word",
    "intake.reason": "an IntakeReason", "intake.reason_detail": "cut to fit (audit text)",
    "intake.forename": "Forename, above", "intake.surname": "Surname, above", "intake.year_group": "YearGroup",
    "intake.tutor_group": "RegGroup, above", "intake.best_score": "0 to 100",
    "intake.decided_by": "sync, or the user's name (engine.users)",
    "intake.record": "JSON of checked values, in a MEDIUMTEXT",
    "sync_runs.message": "Text: cut to 1000",
    "sync_runs.counts": "JSON of counts, in a MEDIUMTEXT", "sync_runs.kind": "sync",
    "sync_runs.source": "cut to fit", "sync_runs.outcome": "an outcome word",
    "sync_runs.mis_name": "meta MIS, cut to fit", "sync_runs.undo_of": "a run id",
    "sync_runs.undone_by_run": "a run id", "sync_runs.snapshot": "a folder path, cut to fit",
    "sync_runs.next_delta": "the feed's delta token, cut to fit",
    "sync_events.actor": "sync", "sync_events.action": "an action word", "sync_events.field": "a column name",
    "sync_events.old_value": "cut to fit, marked (audit text)", "sync_events.new_value": "cut to fit, marked",
}
SYNC_TABLES = ("borrowers", "guardians", "borrower_photos", "intake", "sync_runs", "sync_events")


def test_every_written_column_is_covered():
    written = {f"{table}.{c.name}" for table in SYNC_TABLES for c in TABLES[table].columns
               if isinstance(c.type, (String, Integer)) and not c.primary_key and not c.foreign_keys}
    assert written - FROM_EXPORT.keys() - ENGINE_MADE.keys() == set()
    assert (FROM_EXPORT.keys() | ENGINE_MADE.keys()) - written == set()


def _export_with(tmp_path, endpoint: str, field: str, value: object) -> None:
    record = student("Ada", "Lovelace", Id=SID, PostCode="AB1 2CD", Street="1 High St")
    link = student_contact(SID, "c1", "Mother", 1)
    guardian = contact("c1", "Grace", "Lovelace")
    school = {"EstabId": "1234567", "SchoolName": "Test"}
    target = {"Students": record, "StudentContacts": link, "Contacts": guardian, "SchoolInfo": school}[endpoint]
    target[field] = value
    if field == "ContactId":
        guardian["Id"] = value
    write_export(tmp_path / "export", Students=[record, student("Alan", "Turing", Id="42")],
                 Contacts=[guardian], StudentContacts=[link], SchoolInfo=[school])


@pytest.mark.parametrize("case", [*FROM_EXPORT, *GROWN])
def test_a_value_that_does_not_fit_its_column_is_rejected_by_name_and_the_run_goes_on(tmp_path, library_url,
                                                                                      case):
    endpoint, field, value = {**FROM_EXPORT, **GROWN}[case]
    library = Library(library_url)
    library.add_borrower("B42", "Alan", "Turing", mis_id="42")
    _export_with(tmp_path, endpoint, field, value)
    report = sync(tmp_path, library_url, data=ALL_DATA)
    assert report.outcome == "ok", report.message
    assert [(r.file, r.field) for r in report.plan.rejections] == [(f"{endpoint}.json", field)]
    assert SID in report.plan.rejections[0].record or endpoint == "SchoolInfo" or field == "Id"
    assert str(value) not in repr(library.snapshot())


def test_the_limits_are_those_of_the_models():
    assert column_problem(TABLES["guardians"].c.priority, INTEGER_RANGE[1]) is None
    assert "out of range" in column_problem(TABLES["guardians"].c.priority, INTEGER_RANGE[1] + 1)
    estab = TABLES["sync_runs"].c.estab
    assert column_problem(estab, "1" * estab.type.length) is None
    assert "longer than" in column_problem(estab, "1" * (estab.type.length + 1))


@pytest.mark.parametrize("group", ["7A", "G" * 64, "Ω" * 64])
def test_a_leaver_group_always_fits_and_marks_a_shortened_group(group):
    label = leaver_group("Leaver {year} (Old Group {group})", 2026, group)
    assert len(label) <= MAX_LENGTHS["group"]
    assert label.startswith("Leaver 2026 (Old Group ") and label.endswith(")")
    assert (group in label) == (len(group) < 30) and ("…" in label) == (len(group) > 30)


def test_a_long_group_leaver_is_recycled_with_a_fitting_group_and_the_old_one_kept(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Ada", "Lovelace", mis_id="1", tutor_group="G" * 64)
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="1", StudentStatus="Leaver", RegGroup=None)])
    assert report.outcome == "ok", report.message
    borrower = library.borrower("B1")
    assert borrower["status"] == "recycled" and borrower["group_before_recycle"] == "G" * 64
    assert len(borrower["tutor_group"]) <= 64 and borrower["tutor_group"].endswith("…)")


def test_audit_values_are_cut_to_their_column_with_a_marker():
    assert shown("x" * MAX_EVENT_VALUE) == "x" * MAX_EVENT_VALUE
    assert shown("x" * 5000) == "x" * (MAX_EVENT_VALUE - 1) + "…"
