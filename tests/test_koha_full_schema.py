"""A school year against Koha's whole, unabridged schema (all 249 tables,
every FK): the demo school's patrons typed into Koha by hand, then June's
first sync, Intake decisions, a change in the year, the September roll-over,
a restore and an unchanged re-sync. After each step Koha's rows say what the
school's export says, no patron is gone and no Koha table changed shape."""
from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime

import pytest
from sqlalchemy import insert, select

from demo.generate_school import build_school, truth, write_export
from demo.rollover import JUNE_DAY, SEPTEMBER_DAY, rollover
from engine.api import list_entries, make_decision, open_library, restore_recycled, undo_last
from engine.export.files import RESULT_SETS
from engine.intake import transfer_entries
from engine.koha.setup import setup_attribute_types
from engine.sync import run_sync
from tests.support.koha import FULL_SCHEMA, MARIADB, Koha, drop_database, load_schema

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(MARIADB) or not FULL_SCHEMA.is_file(),
                       reason=f"the full-schema check needs {MARIADB} and Koha's schema at {FULL_SCHEMA}")]

MID_YEAR = date(2026, 6, 29)
LEFT = date(2026, 6, 26)
# Membership as the librarian typed it in.
ENROLLED, EXPIRES = date(2025, 9, 1), date(2026, 8, 31)


@pytest.fixture
def full_koha(tmp_path):
    name = f"mislink_koha_full_{os.getpid()}"
    library = Koha(load_schema(FULL_SCHEMA, name))
    library.seed()
    setup_attribute_types(library.config(tmp_path))
    yield library
    library.close()
    drop_database(name)


def with_students(school, rows):
    students = school.responses["Students"]
    return dataclasses.replace(school, responses={**school.responses,
                                                  "Students": {**students, RESULT_SETS["Students"]: rows}})


def type_in(koha: Koha, school, leave_out: frozenset[str]) -> None:
    """The school's pupils as a librarian typed them into Koha (no MIS ids),
    less those who have not started yet. (Staff are left to the other Koha
    tests: their MIS ids share numbers with the pupils'.)"""
    people = truth(school)
    rows = []
    for row in school.borrowers:
        person = people.get(row["Barcode"])
        if person is None or person[0] != "Student" or person[1] in leave_out:
            continue
        day, month, year = (row["DateOfBirth"].split("/") + ["", "", ""])[:3]
        try:
            born = date(int(year), int(month), int(day))
        except ValueError:
            born = None
        rows.append({"cardnumber": row["Barcode"], "firstname": row["Forename"], "surname": row["Surname"],
                     "dateofbirth": born, "sex": row["Gender"][:1].upper() or None, "sort1": row["TutorGroup"],
                     "sort2": row["YearGroup"], "branchcode": "MAIN", "categorycode": "ST",
                     "dateenrolled": ENROLLED, "dateexpiry": EXPIRES})
    koha.execute(insert(koha.tables.borrowers), rows)


def lend(koha: Koha, borrowernumber: int, barcode: str) -> None:
    """A loan as Koha's circulation makes one: a record, its item, the issue."""
    with koha.engine.connect() as connection:
        biblio = connection.exec_driver_sql(
            "INSERT INTO biblio (title, datecreated) VALUES ('A book', '2026-01-05')").lastrowid
        item = connection.exec_driver_sql(
            "INSERT INTO biblioitems (biblionumber) VALUES (?)", (biblio,)).lastrowid
        number = connection.exec_driver_sql(
            "INSERT INTO items (biblionumber, biblioitemnumber, barcode, homebranch, holdingbranch) "
            "VALUES (?, ?, ?, 'MAIN', 'MAIN')", (biblio, item, barcode)).lastrowid
    koha.add_issue(borrowernumber, number, due=datetime(2026, 7, 10))


class Year:
    """The school year's exports into one Koha, checked after every step."""

    def __init__(self, koha: Koha, tmp_path):
        self.koha, self.tmp_path = koha, tmp_path
        self.config = koha.config(tmp_path, sync={"log_file": "mislink.log"})
        self.shapes = koha.show_create()
        self.numbers = self.borrowernumbers()

    def borrowernumbers(self) -> set[int]:
        return {p["borrowernumber"] for p in self.koha.patrons().values()}

    def checked(self) -> None:
        """No patron deleted, and no Koha table changed shape."""
        numbers = self.borrowernumbers()
        assert self.numbers <= numbers, f"patrons deleted: {sorted(self.numbers - numbers)}"
        self.numbers = numbers
        assert self.koha.show_create() == self.shapes

    def sync(self, school, today: date, warnings: tuple[str, ...] = ()):
        export = self.tmp_path / "export"
        for stale in export.glob("*"):
            stale.unlink()
        write_export(school, export)
        report = run_sync(self.config, today=today)
        assert report.outcome == "ok", report.message
        assert report.plan.warnings == list(warnings)
        self.checked()
        return report

    def entries(self):
        with open_library(self.config, write=False) as session:
            return list_entries(session, score_missing=False)

    def decide(self, action: str, mis_ids, **options) -> None:
        with open_library(self.config, write=True) as session:
            ids = [e.id for e in list_entries(session, score_missing=False) if e.mis_id in mis_ids]
            assert len(ids) == len(mis_ids)
            make_decision(session, self.config, action, ids, actor="mrs.b", **options)
        self.checked()

    def transfer_waiting(self, today: date) -> None:
        with open_library(self.config, write=True) as session:
            waiting = [e.id for e in list_entries(session, score_missing=False) if e.start_date is None]
            # Every one left is new (the demo school says so), whatever a name looks like.
            transfer_entries(session, self.config, waiting, force=True, actor="mrs.b", today=today)
        self.checked()

    def patron_of(self, mis_id: str) -> dict:
        attributes = self.koha.tables.attributes.c
        with self.koha.engine.connect() as connection:
            number = connection.scalar(select(attributes.borrowernumber)
                                       .where(attributes.code == "MISID", attributes.attribute == mis_id))
        assert number is not None, f"no Koha patron has MIS id {mis_id}"
        [patron] = [p for p in self.koha.patrons().values() if p["borrowernumber"] == number]
        return patron

    def agrees(self, school) -> None:
        """Every pupil on roll is a Koha pupil in their export's group and
        year, with their ids, and a membership that runs as it ran: as typed
        in, or the pupil category's 12 months from the day mislink added them."""
        for row in school.rows("Students"):
            if row["StudentStatus"] != "OnRoll":
                continue
            patron = self.patron_of(row["Id"])
            assert (patron["categorycode"], patron["sort1"], patron["sort2"]) == \
                ("ST", row["RegGroup"], row["YearGroup"].replace("  ", " ")), row["Id"]
            attributes = self.koha.attributes(patron["borrowernumber"])
            assert attributes["MISID"] == [row["Id"]]
            assert attributes.get("UPN") == ([row["UPN"]] if row["UPN"] else None)
            enrolled, expires = patron["dateenrolled"], patron["dateexpiry"]
            if enrolled == ENROLLED:
                assert expires == EXPIRES
            else:
                assert (expires.year - enrolled.year) * 12 + expires.month - enrolled.month == 12


def test_a_school_year_against_kohas_full_schema(full_koha, tmp_path):
    school = build_school(students=300, staff=10)
    year = rollover(school)
    june = year.june
    type_in(full_koha, school, year.newcomers)
    typed = {p["cardnumber"] for p in full_koha.patrons().values()}
    run = Year(full_koha, tmp_path)

    # June: the first sync matches the hand-typed patrons; the rest wait in Intake.
    first = run.sync(june, JUNE_DAY)
    assert first.counts["matched_by_name_dob"] > 0.5 * len(typed)
    waiting = [e for e in run.entries() if e.start_date is None]
    assert waiting, "the demo school has pupils the library lacks"

    # Intake: a person matches each pupil to the patron typed for them, marks
    # two as new and transfers them (the transfer undone: its patrons are kept
    # in deletedborrowers as Koha's own delete keeps them), then transfers
    # the rest.
    people = {person[1]: barcode for barcode, person in truth(school).items() if person and person[0] == "Student"}
    for entry in (e for e in waiting if people.get(e.mis_id) in typed):
        run.decide("match", [entry.mis_id], barcode=people[entry.mis_id])
        assert run.patron_of(entry.mis_id)["cardnumber"] == people[entry.mis_id]
    fresh = [e.mis_id for e in waiting if people.get(e.mis_id) not in typed][:2]
    for mis_id in fresh:
        run.decide("new", [mis_id])
    run.decide("transfer", fresh)
    made = [run.patron_of(mis_id) for mis_id in fresh]
    assert {(p["branchcode"], p["categorycode"], p["dateenrolled"], p["password"]) for p in made} == \
        {("MAIN", "ST", date.today(), None)}
    with open_library(run.config, write=True) as session:
        undo_last(session, actor="mrs.b")
    # Kept as Koha's own delete keeps a patron, updated_on saying when.
    assert sorted(({**d, "updated_on": None} for d in full_koha.rows("deletedborrowers")), key=repr) == \
        sorted(({**p, "updated_on": None} for p in made), key=repr)
    run.numbers -= {p["borrowernumber"] for p in made}  # the undo removed what mislink made, and only that
    run.checked()
    run.transfer_waiting(JUNE_DAY)
    run.sync(june, JUNE_DAY)
    run.agrees(june)

    # Later in June: a pupil moves tutor group, a new pupil arrives, and a
    # summer leaver leaves early with a book out.
    rows = june.rows("Students")
    year_8 = [r for r in rows if r["StudentStatus"] == "OnRoll" and r["YearGroup"] == "Year  8"]
    mover = year_8[0]
    other_group = next(r["RegGroup"] for r in year_8 if r["RegGroup"] != mover["RegGroup"])
    early = next(r for r in rows if r["Id"] in year.summer_leavers)
    arrival = {**mover, "Id": "990001", "Forename": "Newly", "Surname": "Arrived", "DisplayName": "Newly Arrived",
               "UPN": None, "AdmissionNo": "099001", "DateofBirth": "2013-01-15", "XID": None, "ExternalId": None,
               "IdaasId": None, "LegalForename": "Newly", "LegalSurname": "Arrived"}
    lend(full_koha, run.patron_of(early["Id"])["borrowernumber"], "ITEM0001")
    mid_year = with_students(june, [
        {**r, "RegGroup": other_group} if r is mover else
        {**r, "StudentStatus": "Leaver", "LeavingDate": LEFT.isoformat()} if r is early else r
        for r in rows] + [arrival])
    report = run.sync(mid_year, MID_YEAR)
    assert report.counts["leavers_with_loans"] == 1
    leaver = run.patron_of(early["Id"])
    assert (leaver["categorycode"], leaver["sort1"], leaver["dateexpiry"]) == \
        ("LEAVER", f"Leaver 2026 (Old Group {early['RegGroup']})", LEFT)
    assert run.patron_of(mover["Id"])["sort1"] == other_group
    run.transfer_waiting(MID_YEAR)
    run.agrees(mid_year)

    # September: the summer's leavers go to the leaver category, Year 7
    # arrives in Intake and is transferred.
    back = next(r for r in june.rows("Students") if r["Id"] in year.summer_leavers and r["Id"] != early["Id"])
    in_june = run.patron_of(back["Id"])
    report = run.sync(school, SEPTEMBER_DAY)
    assert report.counts["intake_added"] == len(year.newcomers)
    groups = {r["Id"]: r["RegGroup"] for r in june.rows("Students")}
    for mis_id in year.summer_leavers - {early["Id"]}:
        patron = run.patron_of(mis_id)
        assert (patron["categorycode"], patron["sort1"], patron["dateexpiry"]) == \
            ("LEAVER", f"Leaver 2026 (Old Group {groups[mis_id]})", SEPTEMBER_DAY)
    run.transfer_waiting(SEPTEMBER_DAY)
    run.sync(school, SEPTEMBER_DAY)
    run.agrees(school)
    assert full_koha.patron(leaver["cardnumber"])["categorycode"] == "LEAVER"

    # A leaver restored: category, group and expiry as they were.
    with open_library(run.config, write=True) as session:
        restore_recycled(session, in_june["cardnumber"], "mrs.b", hold=True)
    run.checked()
    restored = run.patron_of(back["Id"])
    assert {**restored, "updated_on": None} == {**in_june, "updated_on": None}

    # An unchanged re-sync writes nothing to Koha.
    settled = full_koha.dump()
    run.sync(school, SEPTEMBER_DAY, warnings=(
        f"1 held borrower not recycled ({in_june['cardnumber']}): the MIS has them leaving, but a person restored "
        "them with a hold; 'mislink borrowers release BARCODE' ends a hold",))
    assert full_koha.dump() == settled
