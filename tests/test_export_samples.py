"""Every recorded Xporter response parses as the engine expects.

The recordings are another project's files: they are read where the shared
folder sits beside the clone (CI puts it there) and are never copied into this
project. Where they are absent these tests are skipped, saying where they were
looked for; the other tests use exports the project writes itself."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from engine.config import DataSettings
from engine.export import ExportError, read_export
from engine.export.files import load_endpoint
from engine.person import PersonType, Presence
from tests.builders import TODAY, to_xml

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "xporter-samples"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"the recorded Xporter samples are not at {SAMPLES}")


def sample(name: str):
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def export_folder(folder: Path, **files) -> Path:
    """An export folder whose endpoint files are samples (a name) or a list of samples (pages)."""
    folder.mkdir(parents=True, exist_ok=True)
    for endpoint, content in files.items():
        body = [sample(n) for n in content] if isinstance(content, list) else sample(content)
        (folder / f"{endpoint}.json").write_text(json.dumps(body), encoding="utf-8")
    return folder


def test_students_pages_one_and_two_as_a_list_of_pages(tmp_path):
    export = read_export(export_folder(tmp_path, Students=["students_page1.json", "students_page2.json"]),
                         DataSettings(), TODAY)
    assert export.rejections == []
    people = {p.mis_id: p for p in export.persons}
    assert list(people) == ["3116", "3217", "3221", "3920"]
    assert export.complete == {PersonType.STUDENT: True}
    assert not any("pages" in w for w in export.warnings)
    harry = people["3217"]
    assert (harry.preferred_forename, harry.preferred_surname, harry.date_of_birth) == ("Harry", "Potter",
                                                                                        date(2009, 11, 20))
    assert (harry.year_group, harry.tutor_group, harry.house, harry.gender) == ("Year 3", "3TO", None, "M")
    # A nursery year is not a numbered year and is kept as the school wrote it.
    assert people["3920"].year_group == "Year N2"
    # The UPN scope was not granted for these samples.
    assert all(p.upn is None and p.former_upn is None for p in export.persons)


def test_students_page_one_alone_is_a_partial_export(tmp_path):
    export = read_export(export_folder(tmp_path, Students="students_page1.json"), DataSettings(), TODAY)
    assert len(export.persons) == 2
    assert export.complete == {PersonType.STUDENT: False}
    assert any("1 of 2 pages" in w for w in export.warnings)


def test_student_single_gives_one_complete_person(tmp_path):
    export = read_export(export_folder(tmp_path, Students="student_single.json"), DataSettings(), TODAY)
    (albus,) = export.persons
    assert albus.key == (PersonType.STUDENT, "3116")
    assert (albus.idaas_id, albus.external_id, albus.admission_no) == (
        "PL-3116", "05a289a1-d579-4285-b050-894f5e11e04a", "001275")
    assert (albus.legal_forename, albus.legal_surname, albus.date_of_birth) == ("Albus", "Dumbledore",
                                                                                date(2009, 1, 12))
    assert (albus.year_group, albus.tutor_group, albus.presence) == ("Year 4", "4ES", Presence.ON_ROLL)
    # Contact data is off by default, so none of the sample's address is read.
    assert (albus.address, albus.postcode, albus.email, albus.phone) == (None, None, None, None)
    assert export.complete == {PersonType.STUDENT: True}


def test_student_single_gives_the_same_person_from_xml(tmp_path):
    export_folder(tmp_path / "json", Students="student_single.json")
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "Students.xml").write_text(to_xml(sample("student_single.json")), encoding="utf-8")
    data = DataSettings(address=True)
    from_json = read_export(tmp_path / "json", data, TODAY)
    from_xml = read_export(tmp_path / "xml", data, TODAY)
    assert from_json.persons == from_xml.persons
    assert from_xml.persons[0].address == "3 Penrith Grove, Peterborough, PE4 7FQ, United Kingdom"


def test_staff_page_one_is_a_partial_staff_export(tmp_path):
    folder = export_folder(tmp_path, Students="student_single.json", Staff="staff_page1.json")
    export = read_export(folder, DataSettings(staff=True, staff_year_group=99), TODAY)
    assert export.rejections == []
    staff = {p.mis_id: p for p in export.persons if p.person_type is PersonType.STAFF}
    assert list(staff) == ["2", "3"]
    assert (staff["2"].date_of_birth, staff["2"].idaas_id, staff["2"].staff_code) == (date(1956, 10, 16),
                                                                                      "PWT-2", "RL")
    assert staff["2"].tutor_group == "N1 PM,AM"
    assert export.complete == {PersonType.STUDENT: True, PersonType.STAFF: False}
    assert any("Staff.json" in w and "1 of 20 pages" in w for w in export.warnings)
    # Student 3116 and staff 2, 3 never collide even if ids did.
    assert {p.key for p in export.persons} == {(PersonType.STUDENT, "3116"), (PersonType.STAFF, "2"),
                                               (PersonType.STAFF, "3")}


def test_staff_without_a_numerical_year_group_are_rejected_with_the_reason(tmp_path):
    folder = export_folder(tmp_path, Students="student_single.json", Staff="staff_page1.json")
    export = read_export(folder, DataSettings(staff=True), TODAY)
    assert [p.person_type for p in export.persons] == [PersonType.STUDENT]
    assert {(r.file, r.record.split(" (")[0], r.field) for r in export.rejections} == {
        ("Staff.json", "staff 2", "YearGroup"), ("Staff.json", "staff 3", "YearGroup")}


def test_groups_sample_parses(tmp_path):
    export_folder(tmp_path, Groups="groups.json")
    groups = load_endpoint(tmp_path, "Groups")
    assert [g["Code"] for g in groups.records] == ["1", "2"]
    assert groups.extra == {"StaffMembers": [], "StudentMembers": []}
    assert (groups.page_count, groups.complete) == (28, False)


def test_groups_sample_in_a_staff_sync_gives_no_tutors_for_year_groups(tmp_path):
    folder = export_folder(tmp_path, Students="student_single.json", Staff="staff_page1.json",
                           Groups="groups.json")
    export = read_export(folder, DataSettings(staff=True), TODAY)
    # Year groups are not registration groups, so nobody tutors anything here.
    assert {r.field for r in export.rejections} == {"YearGroup"}
    assert any("Groups.json" in w for w in export.warnings)


def test_school_info_names_the_establishment(tmp_path):
    folder = export_folder(tmp_path, Students="student_single.json", SchoolInfo="school_info.json")
    assert read_export(folder, DataSettings(), TODAY).estab == "8232999"


def test_students_changedrows_is_a_delta_with_deleted_ids(tmp_path):
    export = read_export(export_folder(tmp_path, Students="students_changedrows.json"), DataSettings(), TODAY)
    assert export.deleted == {(PersonType.STUDENT, "3221"), (PersonType.STUDENT, "3920")}
    assert export.complete == {PersonType.STUDENT: False}
    assert any("not a full export" in w for w in export.warnings)
    # The changed rows carry only their ids: each is rejected, but they are present.
    assert export.persons == []
    assert {(r.record, r.field) for r in export.rejections} == {("student 3116", "Forename"),
                                                                ("student 3217", "Forename")}
    assert export.present == {(PersonType.STUDENT, "3116"), (PersonType.STUDENT, "3217")}
    endpoint = load_endpoint(tmp_path, "Students")
    assert endpoint.is_delta and endpoint.deleted_ids == ["3221", "3920"]


@pytest.mark.parametrize("endpoint", ["Students", "Staff"])
def test_error_sample_is_an_error_naming_the_file(tmp_path, endpoint):
    files = {"Students": "student_single.json", endpoint: "error.json"}
    folder = export_folder(tmp_path, **files)
    with pytest.raises(ExportError) as failure:
        read_export(folder, DataSettings(staff=True, staff_year_group=1), TODAY)
    assert f"{endpoint}.json" in str(failure.value)
    assert "Something went wrong" in str(failure.value)


def test_every_sample_is_valid_json_of_the_xporter_envelope():
    names = sorted(p.name for p in SAMPLES.glob("*.json"))
    assert names == ["error.json", "gdpr_ids.json", "groups.json", "school_info.json", "scopes.json",
                     "staff_page1.json", "student_single.json", "students_changedrows.json",
                     "students_page1.json", "students_page2.json"]
    for name in names:
        assert isinstance(sample(name), dict), name


def test_no_recorded_sample_is_copied_into_the_project():
    recorded = {path.read_bytes(): path.name for path in SAMPLES.glob("*.json")}
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    copies = [name for name in tracked.decode().split("\0")
              if name and (ROOT / name).is_file() and (ROOT / name).read_bytes() in recorded]
    assert copies == []


def test_a_sample_copied_as_xml_and_json_side_by_side_prefers_json(tmp_path):
    export_folder(tmp_path, Students="student_single.json")
    shutil.copy(SAMPLES / "error.json", tmp_path / "Students.xml")
    assert [p.mis_id for p in read_export(tmp_path, DataSettings(), TODAY).persons] == ["3116"]
