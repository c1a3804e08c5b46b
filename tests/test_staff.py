"""Staff as borrowers: only when included, and only with a numerical year group
(that of the registration group they tutor, else data.staff_year_group)."""
from __future__ import annotations

import pytest

from tests.builders import Library, staff_member, sync, write_export
from tests.optional_builders import (borrower_of, groups_response, intake_record, link_borrower, reg_group,
                                     staff_membership)
from tests.support.schools import STAFF_SCHOOL_PUPILS, staff_school


def ok(report):
    assert report.outcome == "ok", report.message
    return report


def staff_years(library: Library) -> dict[str, str | None]:
    """Each staff borrower's year group, by MIS id."""
    return {b["mis_id"]: b["year_group"] for b in library.rows("borrowers") if b["borrower_type"] == "staff"}


def linked_staff(library: Library, staff: list[dict]) -> list[dict]:
    for record in staff:
        link_borrower(library, record, "staff")
    return staff


def test_staff_are_left_out_unless_included(tmp_path, library_url):
    library = Library(library_url)
    teacher = staff_member("Tom", "Tutor", Id="50")
    kept = link_borrower(library, staff_member("Old", "Hand", Id="51"), "staff")
    staff_school(tmp_path, [teacher], [reg_group("900", "9B", primary_staff_id="50")])
    report = ok(sync(tmp_path, library_url, data={"staff_year_group": 14}))
    assert report.counts["staff_seen"] == 0
    assert [e for e in library.intake() if e["person_type"] == "staff"] == []
    # Staff missing from the export are not leavers while staff are not read at all.
    assert [(b["id"], b["status"]) for b in library.rows("borrowers")] == [(kept, "active")]


def test_staff_left_out_need_no_staff_file(tmp_path, library_url):
    write_export(tmp_path / "export", Students=STAFF_SCHOOL_PUPILS)
    ok(sync(tmp_path, library_url))


def test_staff_included_but_no_staff_file_fails_the_run_naming_it(tmp_path, library_url):
    library = Library(library_url)
    write_export(tmp_path / "export", Students=STAFF_SCHOOL_PUPILS)
    report = sync(tmp_path, library_url, data={"staff": True, "staff_year_group": 14})
    assert report.outcome == "failed" and "Staff.json" in report.message
    assert library.intake() == []


def test_a_tutor_gets_the_year_of_their_registration_group_from_its_pupils(tmp_path, library_url):
    library = Library(library_url)
    staff = linked_staff(library, [staff_member("Pri", "Mary", Id="50"), staff_member("Mem", "Ber", Id="51"),
                                   staff_member("Own", "Field", Id="52", RegGroup="N1 PM, 10C"),
                                   staff_member("Rec", "Eption", Id="53")])
    groups = [reg_group("900", "9B", primary_staff_id="50"), reg_group("901", "10C"), reg_group("902", "RA")]
    # StaffMembers ids may come in IdaasId form.
    members = [staff_membership("GC-901", "PWT-51"), staff_membership("902", "53")]
    staff_school(tmp_path, staff, groups, members)
    ok(sync(tmp_path, library_url, data={"staff": True, "staff_year_group": 14}))
    assert staff_years(library) == {"50": "Year 9", "51": "Year 10", "52": "Year 10", "53": "Reception"}


def test_a_tutored_group_beats_the_configured_staff_year(tmp_path, library_url):
    library = Library(library_url)
    staff = linked_staff(library, [staff_member("Pri", "Mary", Id="50"), staff_member("No", "Group", Id="51")])
    staff_school(tmp_path, staff, [reg_group("900", "9B", primary_staff_id="50")])
    ok(sync(tmp_path, library_url, data={"staff": True, "staff_year_group": 14}))
    assert staff_years(library) == {"50": "Year 9", "51": "Year 14"}


def test_a_group_whose_pupils_have_all_left_has_no_year(tmp_path, library_url):
    library = Library(library_url)
    staff = linked_staff(library, [staff_member("Last", "Year", Id="50", RegGroup="11L")])
    staff_school(tmp_path, staff, [reg_group("903", "11L", primary_staff_id="50")])
    ok(sync(tmp_path, library_url, data={"staff": True, "staff_year_group": 13}))
    assert staff_years(library) == {"50": "Year 13"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_staff_left_with_no_number_are_reported_and_skipped(tmp_path, library_url, fmt):
    library = Library(library_url)
    tutor = staff_member("Pri", "Mary", Id="50")
    link_borrower(library, staff_member("No", "Group", Id="51"), "staff")
    before = library.rows("borrowers")
    newcomer = staff_member("New", "Start", Id="52", StaffStatus="Future")
    write_export(tmp_path / "export", fmt, Students=STAFF_SCHOOL_PUPILS,
                 Staff=[tutor, staff_member("No", "Group", Id="51"), newcomer],
                 Groups=groups_response([reg_group("900", "9B", primary_staff_id="50")]))
    report = ok(sync(tmp_path, library_url, data={"staff": True}))
    rejected = {(r.file, r.record, r.field) for r in report.plan.rejections}
    assert rejected == {(f"Staff.{fmt}", "staff 51 (No Group)", "YearGroup"),
                        (f"Staff.{fmt}", "staff 52 (New Start)", "YearGroup")}
    assert all("data.staff_year_group" in r.reason for r in report.plan.rejections)
    assert intake_record(library, "staff", "50")["year_group"] == "Year 9"
    assert {(e["person_type"], e["mis_id"]) for e in library.intake() if e["person_type"] == "staff"} == {
        ("staff", "50")}
    # Skipped, not gone: the linked borrower is neither updated nor recycled.
    assert library.rows("borrowers") == before


def test_a_staff_member_who_has_left_needs_no_year_to_be_recycled(tmp_path, library_url):
    library = Library(library_url)
    leaver = staff_member("Gone", "Away", Id="51", StaffStatus="Previous", EmploymentEnd="2023-12-31")
    link_borrower(library, leaver, "staff")
    staff_school(tmp_path, [leaver, staff_member("Stay", "Put", Id="50")],
                 [reg_group("900", "9B", primary_staff_id="50")])
    report = ok(sync(tmp_path, library_url, data={"staff": True}))
    assert report.plan.rejections == []
    assert borrower_of(library, leaver, "staff")["status"] == "recycled"


def test_a_new_tutor_group_moves_the_staff_member_on_the_next_sync(tmp_path, library_url):
    library = Library(library_url)
    tutor = linked_staff(library, [staff_member("Pri", "Mary", Id="50")])
    staff_school(tmp_path, tutor, [reg_group("900", "9B", primary_staff_id="50")])
    ok(sync(tmp_path, library_url, data={"staff": True}))
    staff_school(tmp_path, tutor, [reg_group("900", "9B"), reg_group("901", "10C", primary_staff_id="50")])
    ok(sync(tmp_path, library_url, data={"staff": True}))
    assert staff_years(library) == {"50": "Year 10"}
