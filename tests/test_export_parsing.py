"""Reading an export folder: JSON = XML, Xporter's quirks, per-record rejections."""
from __future__ import annotations

import ast
import json
import time
from datetime import date
from pathlib import Path

import pytest

from engine.config import DataSettings
from engine.export import ExportError, Rejection, read_export
from engine.models import Borrower, Guardian, IntakeEntry
from engine.person import PersonType, Presence
from engine.text import GENDERS, MAX_LENGTHS
from tests.builders import TODAY, response, staff_member, student, write_export

ENGINE = Path(__file__).resolve().parents[1] / "engine"

NO_STAFF = DataSettings()
WITH_STAFF = DataSettings(staff=True, staff_year_group=12)


def read(folder, data=NO_STAFF):
    return read_export(folder, data, today=TODAY)


def by_id(export):
    return {p.mis_id: p for p in export.persons}


def quirky_students() -> list[dict]:
    """Records with every quirk at once: numeric ids, padded text, nulls,
    a leaver, a pre-admission, an accented and hyphenated name."""
    return [
        student("  Zoë ", "Smith-Jones", "2011-09-30", Id=101, RegGroup=" 8ZS ", YearGroup="Year  8",
                UPN="a123456789012", FormerUPN=None, HouseGroup=None, AdmissionNo=1275),
        student("Bea", "O'Brien", "2012-01-02", Id="102", LegalForename="Beatrice", MiddleName="Ann",
                Gender="Female"),
        student("Cai", "Ng", "2010-05-06", Id="103", StudentStatus="Leaver", LeavingDate="2023-07-21"),
        student("Dev", "Patel", "2013-02-03", Id="104", StudentStatus="PreAdmission", YearGroup="Year  7"),
    ]


def test_json_and_xml_of_the_same_data_give_identical_people(tmp_path):
    data = DataSettings(address=True, phones=True, email=True)
    records = quirky_students()
    for record in records:
        record.update(HouseNo="3", Street="Penrith  Grove", TownOrCity="Peterborough", PostCode="pe4 7fq",
                      MobilePhone="07700 900123", WorkEmail=f"{record['Forename'].strip().lower()}@school.uk")
    from_json = read(write_export(tmp_path / "json", "json", Students=records), data)
    from_xml = read(write_export(tmp_path / "xml", "xml", Students=records), data)
    assert len(from_json.persons) == 4
    assert from_json.persons == from_xml.persons
    assert from_json.rejections == from_xml.rejections == []
    assert from_json.present == from_xml.present
    assert from_json.complete == from_xml.complete == {PersonType.STUDENT: True}
    zoe = by_id(from_xml)["101"]
    assert (zoe.preferred_forename, zoe.tutor_group, zoe.year_group, zoe.upn) == ("Zoë", "8ZS", "Year 8",
                                                                                   "A123456789012")
    assert (zoe.address, zoe.postcode) == ("3 Penrith Grove, Peterborough, pe4 7fq", "PE4 7FQ")


def test_json_and_xml_agree_on_staff_and_students_together(tmp_path):
    students = [student("Ann", "Lee", Id="7")]
    staff = [staff_member("Ann", "Lee", Id="7", DateofBirth="1979-01-01", DateOfBirth=None)]
    from_json = read(write_export(tmp_path / "json", "json", Students=students, Staff=staff), WITH_STAFF)
    from_xml = read(write_export(tmp_path / "xml", "xml", Students=students, Staff=staff), WITH_STAFF)
    assert from_json.persons == from_xml.persons
    assert len(from_xml.persons) == 2


def test_a_single_record_in_xml_is_still_a_list_of_one(tmp_path):
    folder = write_export(tmp_path, "xml", Students=[student("Ada", "Lovelace", "2012-12-10", Id="9")])
    export = read(folder)
    assert [p.key for p in export.persons] == [(PersonType.STUDENT, "9")]
    assert export.persons[0].date_of_birth == date(2012, 12, 10)


def test_xml_whose_root_is_the_result_set_with_one_record(tmp_path):
    (tmp_path / "Students.xml").write_text(
        "<Students><Student><Id>11</Id><Forename>Ada</Forename><Surname>Lovelace</Surname>"
        "<DateofBirth>2012-12-10</DateofBirth></Student></Students>", encoding="utf-8")
    export = read(tmp_path)
    assert [(p.mis_id, p.preferred_surname) for p in export.persons] == [("11", "Lovelace")]


def test_an_xsi_nil_element_is_null(tmp_path):
    (tmp_path / "Students.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<Students><Row><Id>12</Id><Forename>Ada</Forename><Surname>Lovelace</Surname>"
        '<UPN xsi:nil="true"/><MiddleName xsi:nil="true" /><HouseGroup></HouseGroup>'
        '<DateofBirth>2012-12-10</DateofBirth><RegGroup xsi:nil="true"/></Row></Students>'
        '<ExceptionMessage xsi:nil="true"/></Response>', encoding="utf-8")
    export = read(tmp_path)
    assert export.rejections == []
    ada = export.persons[0]
    assert (ada.upn, ada.middle_name, ada.house, ada.tutor_group) == (None, None, None, None)


def test_missing_keys_when_the_upn_scope_is_not_granted(tmp_path):
    record = student("Ada", "Lovelace")
    for key in ("UPN", "FormerUPN", "HouseGroup", "MiddleName", "LegalForename", "LegalSurname"):
        record.pop(key, None)
    export = read(write_export(tmp_path, Students=[record]))
    assert export.rejections == []
    ada = export.persons[0]
    assert (ada.upn, ada.former_upn, ada.house) == (None, None, None)
    # Legal names fall back on the preferred ones rather than being empty.
    assert (ada.legal_forename, ada.legal_surname) == ("Ada", "Lovelace")


@pytest.mark.parametrize("endpoint, spelling", [("Students", "DateOfBirth"), ("Students", "DATEOFBIRTH"),
                                                ("Staff", "DateofBirth")])
def test_date_of_birth_key_in_any_casing(tmp_path, endpoint, spelling):
    record = student("Ada", "Lovelace", dob=None) if endpoint == "Students" else staff_member("Ada", "Lovelace",
                                                                                            dob=None)
    record.pop("DateofBirth", None)
    record.pop("DateOfBirth", None)
    record[spelling] = "1999-04-05" if endpoint == "Staff" else "2011-04-05"
    endpoints = {"Students": [record]} if endpoint == "Students" else {"Students": [], "Staff": [record]}
    export = read(write_export(tmp_path, **endpoints), WITH_STAFF if endpoint == "Staff" else NO_STAFF)
    assert export.rejections == []
    assert export.persons[0].date_of_birth == (date(1999, 4, 5) if endpoint == "Staff" else date(2011, 4, 5))


def test_padded_whitespace_is_collapsed(tmp_path):
    record = student("  Mary   Ann ", " Smith ", YearGroup="Year  4", RegGroup="  4ES", HouseGroup="Red  House ")
    person = read(write_export(tmp_path, Students=[record])).persons[0]
    assert (person.preferred_forename, person.preferred_surname) == ("Mary Ann", "Smith")
    assert (person.year_group, person.tutor_group, person.house) == ("Year 4", "4ES", "Red House")


def test_numeric_and_string_ids_are_the_same_id(tmp_path):
    numeric = read(write_export(tmp_path / "a", Students=[student("Ada", "Lovelace", Id=3116, AdmissionNo=1275,
                                                                  IdaasId="PL-3116")]))
    text = read(write_export(tmp_path / "b", Students=[student("Ada", "Lovelace", Id=" 3116 ", AdmissionNo="1275",
                                                               IdaasId="PL-3116")]))
    assert numeric.persons[0].key == text.persons[0].key == (PersonType.STUDENT, "3116")
    assert numeric.persons[0].admission_no == "1275"
    assert numeric.present == text.present == {(PersonType.STUDENT, "3116")}


def test_the_same_id_for_a_student_and_a_staff_member_is_two_people(tmp_path):
    export = read(write_export(tmp_path, Students=[student("Ann", "Pupil", Id="7")],
                               Staff=[staff_member("Bob", "Teacher", Id="7")]), WITH_STAFF)
    assert {p.key: p.preferred_surname for p in export.persons} == {
        (PersonType.STUDENT, "7"): "Pupil", (PersonType.STAFF, "7"): "Teacher"}
    assert export.seen == {PersonType.STUDENT: 1, PersonType.STAFF: 1}


def test_student_status_and_leaving_date_give_presence(tmp_path):
    export = read(write_export(tmp_path, Students=quirky_students() + [
        student("Eve", "Gone", Id="105", StudentStatus=None, LeavingDate="2024-02-01"),
        student("Fin", "Going", Id="106", StudentStatus=None, LeavingDate="2024-07-20")]))
    presence = {p.mis_id: p.presence for p in export.persons}
    assert presence == {"101": Presence.ON_ROLL, "102": Presence.ON_ROLL, "103": Presence.LEFT,
                        "104": Presence.ARRIVING, "105": Presence.LEFT, "106": Presence.ON_ROLL}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_exception_message_envelope_is_an_error_naming_the_file(tmp_path, fmt):
    envelope = {"Message": None, "ExceptionType": None, "ExceptionMessage": "Scope Student not granted",
                "InnerException": None}
    if fmt == "json":
        (tmp_path / "Students.json").write_text(json.dumps(envelope), encoding="utf-8")
    else:
        (tmp_path / "Students.xml").write_text(
            "<Response><Message/><ExceptionMessage>Scope Student not granted</ExceptionMessage></Response>",
            encoding="utf-8")
    with pytest.raises(ExportError, match=rf"Students\.{fmt}.*Scope Student not granted"):
        read(tmp_path)


def test_an_exception_message_on_a_later_page_fails_the_file(tmp_path):
    pages = [response("Students", [student("Ada", "Lovelace")]),
             {"ExceptionMessage": "Timeout expired", "Students": None}]
    (tmp_path / "Students.json").write_text(json.dumps(pages), encoding="utf-8")
    with pytest.raises(ExportError, match=r"Students\.json.*Timeout expired"):
        read(tmp_path)


def test_a_missing_students_file_is_an_error_naming_it(tmp_path):
    write_export(tmp_path, Staff=[staff_member("Bob", "Teacher")])
    with pytest.raises(ExportError, match="Students"):
        read(tmp_path)


def test_a_missing_staff_file_is_an_error_only_when_staff_are_wanted(tmp_path):
    write_export(tmp_path, Students=[student("Ada", "Lovelace")])
    assert len(read(tmp_path).persons) == 1
    with pytest.raises(ExportError, match="Staff"):
        read(tmp_path, WITH_STAFF)


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        read(tmp_path / "nowhere")


@pytest.mark.parametrize("content, problem", [
    ('{"Students": [', "not valid JSON"),
    ("<Response><Students>", "not valid XML"),
    ("[1, 2]", "not an Xporter response"),
    ('{"Students": {"Id": "1"}}', "not a list of records"),
    ('{"Pupils": []}', "no 'Students' result set"),
])
def test_a_file_that_cannot_be_used_is_an_error_naming_it(tmp_path, content, problem):
    name = "Students.xml" if content.startswith("<") else "Students.json"
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ExportError) as failure:
        read(tmp_path)
    assert name in str(failure.value) and problem in str(failure.value)


def test_xml_with_entity_declarations_is_refused(tmp_path):
    (tmp_path / "Students.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">]><Response><Students><Row><Id>1</Id>'
        "<Forename>&a;</Forename><Surname>B</Surname></Row></Students></Response>", encoding="utf-8")
    with pytest.raises(ExportError, match=r"Students\.xml"):
        read(tmp_path)


def test_windows_encodings_are_read(tmp_path):
    body = json.dumps(response("Students", [student("Zoë", "Brontë", Id="1")]), ensure_ascii=False)
    (tmp_path / "Students.json").write_bytes(body.encode("utf-16"))
    assert read(tmp_path).persons[0].preferred_forename == "Zoë"
    (tmp_path / "Students.json").write_bytes(body.encode("cp1252"))
    export = read(tmp_path)
    assert export.persons[0].preferred_surname == "Brontë"
    assert any("Windows-1252" in w for w in export.warnings)


def test_a_utf8_file_with_one_bad_byte_is_refused_not_garbled(tmp_path):
    # Read as Windows-1252, "Zoë Brontë" would come out as "ZoÃ« BrontÃ«" and
    # the run would succeed: the damage must stop the run instead.
    body = json.dumps(response("Students", [student("Zoë", "Brontë", Id="1"), student("Ann", "Lee", Id="2")]),
                      ensure_ascii=False, indent=1).encode("utf-8").replace(b"Lee", b"L\xe9e")
    (tmp_path / "Students.json").write_bytes(body)
    offset = body.index(b"\xe9")
    line = body[:offset].count(b"\n") + 1
    with pytest.raises(ExportError, match=rf"^Students\.json: byte {offset} \(line {line}\) is not valid UTF-8"):
        read(tmp_path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "Students.json"
    with path.open("wb") as sparse:  # takes no disk space and, if refused, no memory
        sparse.truncate(513 * 1024**2)
    started = time.monotonic()
    with pytest.raises(ExportError, match=r"^Students\.json: larger than 512 MB"):
        read(tmp_path)
    assert time.monotonic() - started < 2


# Which kind of text each library column holds (see engine.text.MAX_LENGTHS).
COLUMN_KINDS = {
    Borrower: {"barcode": "barcode", "mis_id": "id", "idaas_id": "id", "external_id": "id", "upn": "id",
               "admission_no": "id", "forename": "name", "surname": "name", "preferred_forename": "name",
               "preferred_surname": "name", "legal_forename": "name", "legal_surname": "name",
               "middle_name": "name", "gender": "gender", "year_group": "group", "tutor_group": "group",
               "house": "group", "email": "email", "phone": "phone", "address": "address", "postcode": "postcode"},
    Guardian: {"contact_id": "id", "name": "name", "relationship": "group", "phone": "phone", "email": "email"},
    IntakeEntry: {"mis_id": "id", "forename": "name", "surname": "name", "year_group": "group",
                  "tutor_group": "group"},
}


@pytest.mark.parametrize("model", COLUMN_KINDS, ids=lambda model: model.__name__)
def test_text_limits_are_the_library_column_widths(model):
    widths = {column: model.__table__.c[column].type.length for column in COLUMN_KINDS[model]}
    assert widths == {column: MAX_LENGTHS[kind] for column, kind in COLUMN_KINDS[model].items()}


def test_the_export_reader_checks_text_by_the_same_rules_as_the_import(tmp_path, monkeypatch):
    # One table of widths and genders (engine.text) for both readers: change
    # it and the export reader follows, as the import does (test_borrower_import).
    monkeypatch.setitem(MAX_LENGTHS, "name", 5)
    monkeypatch.setitem(GENDERS, "x", "X")
    export = read(write_export(tmp_path, Students=[student("Annabel", "A", Id="1"), student("Ann", "B", Id="2",
                                                                                            Gender="x")]))
    assert [(r.record, r.field, r.reason) for r in export.rejections] == [
        ("student 1", "Forename", "is longer than 5 characters (7)")]
    assert [p.gender for p in export.persons] == ["X"]


def _names_used(folder: Path) -> set[str]:
    used: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
    return used


def _unused_imports(tree: ast.Module) -> set[str]:
    imported = {alias.asname or alias.name.split(".")[0] for node in tree.body
                if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", "") != "__future__"
                for alias in node.names}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    exported = {name.value for node in tree.body if isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "__all__" for t in node.targets) for name in node.value.elts}
    return imported - used - exported


def test_the_export_reader_has_no_dead_code():
    used_anywhere = _names_used(ENGINE) | _names_used(ENGINE.parent / "tui")
    for path in sorted((ENGINE / "export").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _unused_imports(tree) == set(), path.name
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert functions - used_anywhere == set(), path.name


@pytest.mark.parametrize("fields, field, reason", [
    ({"Id": None}, "Id", "missing"),
    ({"Id": "  "}, "Id", "missing"),
    ({"DateofBirth": "12th March 2012"}, "DateofBirth", "not a date"),
    ({"DateofBirth": "2010-02-31"}, "DateofBirth", "not a real calendar date"),
    ({"DateofBirth": "2030-01-01"}, "DateofBirth", "in the future"),
    ({"DateofBirth": "1850-01-01"}, "DateofBirth", "before 1900"),
    ({"LeavingDate": "soon"}, "LeavingDate", "not a date"),
    ({"Forename": None, "LegalForename": None}, "Forename", "missing"),
    ({"Surname": "", "LegalSurname": " "}, "Surname", "missing"),
    ({"Surname": "x" * 101, "LegalSurname": None}, "Surname", "longer than 100"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unusable_record_is_rejected_with_file_record_field_and_reason(tmp_path, fields, field, reason, fmt):
    bad = student("Bad", "Record", Id="200")
    bad.update(fields)
    good = [student("Ada", "Lovelace", Id="201"), student("Alan", "Turing", Id="202")]
    export = read(write_export(tmp_path, fmt, Students=[good[0], bad, good[1]]))
    assert sorted(p.mis_id for p in export.persons) == ["201", "202"]
    assert len(export.rejections) == 1
    rejection = export.rejections[0]
    expected_record = "record #2" if field == "Id" else "student 200"
    assert (rejection.file, rejection.record, rejection.field) == (f"Students.{fmt}",
                                                                    expected_record, field)
    assert reason in rejection.reason
    assert export.seen[PersonType.STUDENT] == 3


def test_a_rejected_record_is_still_present_so_it_is_not_a_leaver(tmp_path):
    export = read(write_export(tmp_path, Students=[student("Bad", "Date", "2010-02-31", Id="300")]))
    assert export.persons == []
    assert (PersonType.STUDENT, "300") in export.present


def test_a_repeated_id_rejects_every_copy(tmp_path):
    export = read(write_export(tmp_path, Students=[student("Ada", "One", Id="400"), student("Ada", "Two", Id="400"),
                                                   student("Bob", "Fine", Id="401")]))
    assert [p.mis_id for p in export.persons] == ["401"]
    assert [(r.record, r.field) for r in export.rejections] == [("student 400", "Id"), ("student 400", "Id")]
    assert "appears 2 times" in export.rejections[0].reason


def test_rejection_reads_as_one_line():
    assert str(Rejection("Students.json", "student 5", "DateofBirth", "in the future")) == \
        "Students.json student 5: DateofBirth: in the future"


def test_pages_in_one_file_are_combined_and_complete(tmp_path):
    pages = [response("Students", [student("Ada", "One", Id="1")],
                      __pagination__=[{"PageNumber": 1, "PageCount": 2}]),
             response("Students", [student("Bob", "Two", Id="2")],
                      __pagination__=[{"PageNumber": 2, "PageCount": 2}])]
    (tmp_path / "Students.json").write_text(json.dumps(pages), encoding="utf-8")
    export = read(tmp_path)
    assert [p.mis_id for p in export.persons] == ["1", "2"]
    assert export.complete[PersonType.STUDENT] is True


def test_a_missing_page_makes_the_export_partial(tmp_path):
    write_export(tmp_path, Students=response("Students", [student("Ada", "One", Id="1")],
                                             __pagination__=[{"PageNumber": 1, "PageCount": 3}]))
    export = read(tmp_path)
    assert export.complete[PersonType.STUDENT] is False
    assert any("1 of 3 pages" in w for w in export.warnings)


def test_xml_delta_export_names_its_deleted_students(tmp_path):
    body = response("Students", [student("Ada", "One", Id="1")], Students_deleted=[{"Id": "2"}],
                    __changedRows__=[{"NextChangedRows": "abc"}])
    write_export(tmp_path, "xml", Students=body)
    export = read(tmp_path)
    assert export.deleted == {(PersonType.STUDENT, "2")}
    assert export.complete[PersonType.STUDENT] is False


def test_pages_that_spell_a_key_differently_are_both_read(tmp_path):
    first = student("Ada", "One", dob=None, Id="1")
    first["DateofBirth"] = "2011-01-01"
    second = student("Bob", "Two", dob=None, Id="2")
    del second["DateofBirth"]
    second["DateOfBirth"] = "2012-02-02"
    (tmp_path / "Students.json").write_text(json.dumps([response("Students", [first]),
                                                        response("Students", [second])]), encoding="utf-8")
    export = read(tmp_path)
    assert {p.mis_id: p.date_of_birth for p in export.persons} == {"1": date(2011, 1, 1), "2": date(2012, 2, 2)}


def test_xml_element_names_are_matched_without_regard_to_case(tmp_path):
    (tmp_path / "Students.xml").write_text(
        "<response><students><row><Id>1</Id><Forename>Ada</Forename><Surname>One</Surname></row></students>"
        "<STUDENTS_DELETED><row><Id>2</Id></row></STUDENTS_DELETED><__changedRows__/></response>",
        encoding="utf-8")
    export = read(tmp_path)
    assert [p.mis_id for p in export.persons] == ["1"]
    assert export.deleted == {(PersonType.STUDENT, "2")}


@pytest.mark.parametrize("deleted", [[{"Id": 2}], [{"id": "2"}], ["2"], [{"Id": " 2 "}]])
def test_deleted_ids_are_read_like_record_ids(tmp_path, deleted):
    write_export(tmp_path, Students=response("Students", [student("Ada", "One", Id="1")],
                                             Students_deleted=deleted, __changedRows__=[]))
    assert read(tmp_path).deleted == {(PersonType.STUDENT, "2")}


@pytest.mark.parametrize("bad_id", [True, {"value": 1}, ["1"]])
def test_an_id_that_is_not_a_value_is_rejected(tmp_path, bad_id):
    export = read(write_export(tmp_path, Students=[student("Ada", "One", Id="1"), {**student("Bob", "Two"),
                                                                                    "Id": bad_id}]))
    assert [p.mis_id for p in export.persons] == ["1"]
    assert [(r.record, r.field) for r in export.rejections] == [("record #2", "Id")]


def test_a_float_or_internally_padded_id_does_not_crash_the_reader(tmp_path):
    (tmp_path / "Students.json").write_text(json.dumps(response("Students", [
        {"Id": 3116.0, "Forename": "Ada", "Surname": "One"},
        {"Id": "31  17", "Forename": "Bob", "Surname": "Two"}])), encoding="utf-8")
    assert sorted(p.mis_id for p in read(tmp_path).persons) == ["31 17", "3116"]


def test_a_staff_rejection_names_the_xml_file_it_came_from(tmp_path):
    folder = write_export(tmp_path, "xml", Students=[student("Ann", "Lee")], Staff=[staff_member("Bob", "Tutor")])
    export = read(folder, DataSettings(staff=True))
    assert [r.file for r in export.rejections] == ["Staff.xml"]


def test_a_control_character_rejects_the_record_but_a_zero_width_joiner_does_not(tmp_path):
    export = read(write_export(tmp_path, Students=[student("Ada\x07", "One", Id="1"),
                                                   student("Mi\u200dna", "Two", Id="2")]))
    assert [p.preferred_forename for p in export.persons] == ["Mi\u200dna"]
    assert [(r.record, r.field, r.reason) for r in export.rejections] == [
        ("student 1", "Forename", "contains a control character")]
