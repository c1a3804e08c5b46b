"""A Koha library kept in step (``engine.koha``): the first sync onto patrons
typed into Koha by hand, leavers and restores, loans, rejected values, and
what is never touched."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert, select, update

from engine.api import connect_library, open_library, restore_recycled, transaction, undo_run
from engine.koha.bridge import KohaBridge
from engine.koha.mirror import koha_problem
from engine.lock import library_lock
from engine.models import Borrower, SyncEvent
from engine.sync import apply_sync, prepare_sync, run_sync
from tests.builders import TODAY, Library, student, write_export


def sync_koha(koha, tmp_path, students, **sections):
    write_export(tmp_path / "export", Students=students)
    sections["sync"] = {"max_recycle_share": 1.0, "min_export_share": 0.0, **sections.get("sync", {})}
    report = run_sync(koha.config(tmp_path, **sections), today=TODAY)
    assert report.outcome == "ok", report.message
    return report


ADA = student("Ada", "Lovelace", "2012-03-04", Id="201", RegGroup="8A", YearGroup="Year  8", UPN="A123456789012")
ALAN = student("Alan", "Turing", "2011-06-23", Id="202", RegGroup="9B", YearGroup="Year  9")


def test_first_sync_links_hand_typed_patrons_by_name_and_birth_date(koha, tmp_path):
    ada = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", sort1="7A")
    alan = koha.add_patron("1002", "Alan", "Turing", "2011-06-23")
    sync_koha(koha, tmp_path, [ADA, ALAN])
    patrons = koha.patrons()
    assert (patrons["1001"]["sort1"], patrons["1001"]["sort2"]) == ("8A", "Year 8")
    assert (patrons["1002"]["sort1"], patrons["1002"]["sort2"]) == ("9B", "Year 9")
    assert koha.attributes(ada) == {"MISID": ["201"], "UPN": ["A123456789012"], "ADMNO": ["000201"]}
    assert koha.attributes(alan) == {"MISID": ["202"], "ADMNO": ["000202"]}
    assert [p["categorycode"] for p in patrons.values()] == ["ST", "ST"]
    mirror = Library(koha.url).borrower("1001")
    assert (mirror["mis_id"], mirror["tutor_group"]) == ("201", "8A")


def test_an_unchanged_resync_writes_nothing_to_koha_and_koha_keeps_its_shape(koha, tmp_path):
    koha.add_issue(koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04"), 501)
    shapes = koha.show_create()
    sync_koha(koha, tmp_path, [ADA, ALAN])
    after_first = koha.dump()
    events = len(Library(koha.url).events())
    sync_koha(koha, tmp_path, [ADA, ALAN])
    assert koha.dump() == after_first
    # The second run recorded itself and nothing else: no pull found a change.
    assert [e for e in Library(koha.url).events()[events:] if e["actor"] == "koha"] == []
    assert koha.show_create() == shapes


def test_patrons_of_other_categories_are_never_read_nor_touched(koha, tmp_path):
    koha.add_patron("2001", "Ada", "Lovelace", "2012-03-04", category="AD", sort1="Parent")
    before = koha.patron("2001")
    sync_koha(koha, tmp_path, [ADA])
    assert koha.patron("2001") == before
    assert "2001" not in Library(koha.url).borrowers()


def test_leavers_move_to_the_leaver_category_and_a_restore_puts_them_back(koha, tmp_path):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", dateexpiry=date(2025, 8, 31))
    koha.add_patron("1002", "Alan", "Turing", "2011-06-23")
    sync_koha(koha, tmp_path, [ADA, ALAN])
    sync_koha(koha, tmp_path, [{**ALAN, "StudentStatus": "Leaver"},
                               {**ADA, "StudentStatus": "Leaver", "LeavingDate": "2024-02-09"}])
    ada, alan = koha.patron("1001"), koha.patron("1002")
    assert (ada["categorycode"], ada["sort1"], ada["dateexpiry"]) == \
        ("LEAVER", "Leaver 2024 (Old Group 8A)", date(2024, 2, 9))
    # The MIS gives no leaving date for Alan: his membership ends the day the sync recycles him.
    assert (alan["categorycode"], alan["sort1"], alan["dateexpiry"]) == \
        ("LEAVER", "Leaver 2024 (Old Group 9B)", TODAY)
    assert Library(koha.url).borrower("1001")["status"] == "recycled"
    config = koha.config(tmp_path)
    with open_library(config, write=True) as session:
        restore_recycled(session, "1001", "mrs.b", hold=True)
    ada = koha.patron("1001")
    assert (ada["categorycode"], ada["sort1"], ada["dateexpiry"]) == ("ST", "8A", date(2025, 8, 31))


def test_leavers_with_koha_loans_out_are_reported(koha, tmp_path):
    ada = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    koha.add_patron("1002", "Alan", "Turing", "2011-06-23")
    koha.add_issue(ada, 501)
    sync_koha(koha, tmp_path, [ADA, ALAN])
    report = sync_koha(koha, tmp_path, [ALAN])
    assert [(r.barcode, r.loans_out) for r in report.plan.recycles] == [("1001", 1)]
    assert report.counts.leavers_with_loans == 1
    [loan] = Library(koha.url).rows("loans")
    assert (loan["item"], loan["due_at"].date()) == ("501", date(2024, 3, 20))


def test_a_value_koha_cannot_hold_is_rejected_with_a_reason_never_cut(koha, tmp_path):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", sex="F")
    sync_koha(koha, tmp_path, [ADA])
    report = sync_koha(koha, tmp_path, [{**ADA, "Gender": "Non-binary"}])
    assert koha.patron("1001")["sex"] == "F"
    assert any(w.startswith("borrower 1001: gender not written to Koha: the value is 10 characters, longer than "
                            "Koha's sex allows (1)") for w in report.plan.warnings), report.plan.warnings
    # The mirror is Koha's again: the next sync tries (and reports) the same.
    assert Library(koha.url).borrower("1001")["gender"] == "F"
    [event] = [e for e in Library(koha.url).events() if e["action"] == "rejected_by_koha"]
    assert event["field"] == "gender"


def test_runs_undo_of_a_sync_puts_koha_back(koha, tmp_path):
    ada = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", sort1="7A")
    before = koha.patron("1001")
    report = sync_koha(koha, tmp_path, [ADA])
    assert koha.patron("1001")["sort1"] == "8A"
    with open_library(koha.config(tmp_path), write=True) as session:
        undo_run(session, report.run_id, actor="mrs.b")
    # Every column as it was, but the time Koha noted the last edit.
    assert {**koha.patron("1001"), "updated_on": None} == {**before, "updated_on": None}
    assert koha.attributes(ada) == {}


def test_edits_made_in_koha_reach_the_mirror_as_events(koha, tmp_path):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    number = koha.add_patron("1002", "Alan", "Turing", "2011-06-23")
    sync_koha(koha, tmp_path, [ADA, ALAN])
    t = koha.tables.borrowers
    koha.execute(update(t).where(t.c.cardnumber == "1001").values(surname="King", categorycode="LEAVER"))
    koha.execute(t.delete().where(t.c.borrowernumber == number))
    with open_library(koha.config(tmp_path), write=False) as session:
        events = session.execute(select(SyncEvent.actor, SyncEvent.action, SyncEvent.field, SyncEvent.new_value)
                                 .where(SyncEvent.actor == "koha")).all()
    assert ("koha", "changed_in_koha", "surname", "King") in events
    assert ("koha", "changed_in_koha", "status", "recycled") in events
    mirror = Library(koha.url).borrowers()
    assert (mirror["1001"]["status"], mirror["1001"]["recycled_reason"]) == \
        ("recycled", "moved to the leaver category in Koha")
    assert (mirror["1002"]["status"], mirror["1002"]["recycled_reason"]) == ("recycled", "deleted in Koha")
    assert [r["borrower_id"] for r in Library(koha.url).rows("koha_patrons")] == [mirror["1001"]["id"]]


def test_koha_patrons_sharing_an_mis_id_or_without_a_cardnumber_are_reported(koha, tmp_path):
    first = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    second = koha.add_patron("1002", "Ada", "King", "2012-03-04")
    koha.add_patron(None, "No", "Card", "2012-05-05")
    for number in (first, second):
        koha.execute(insert(koha.tables.attributes).values(borrowernumber=number, code="MISID", attribute="201"))
    report = sync_koha(koha, tmp_path, [ADA])
    assert "Koha patron 1002: its MISID attribute is another patron's too; left unlinked from the MIS until one of " \
           "them is corrected in Koha" in report.plan.warnings
    assert "1 Koha patron(s) in the pupil, staff or leaver categories have no cardnumber: left out until they have " \
           "one" in report.plan.warnings
    mirror = Library(koha.url).borrowers()
    assert (mirror["1001"]["mis_id"], mirror["1002"]["mis_id"], len(mirror)) == ("201", None, 2)


def test_a_preview_is_refused_at_apply_when_koha_changed_in_between(koha, tmp_path):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    sync_koha(koha, tmp_path, [ADA])
    config = koha.config(tmp_path, sync={"max_recycle_share": 1.0, "min_export_share": 0.0})
    write_export(tmp_path / "export", Students=[ADA, ALAN])
    prepared = prepare_sync(config, today=TODAY)
    t = koha.tables.borrowers
    koha.execute(update(t).where(t.c.cardnumber == "1001").values(sort2="Year 12"))
    report = apply_sync(config, prepared)
    assert (report.outcome, report.message) == ("refused", "the library changed since the preview; preview again")
    assert koha.patron("1001")["sort2"] == "Year 12"
    assert apply_sync(config, prepare_sync(config, today=TODAY)).outcome == "ok"
    assert koha.patron("1001")["sort2"] == "Year 8"


def test_a_read_while_another_process_writes_shows_the_mirror_as_last_brought_up_to_date(koha, tmp_path):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    sync_koha(koha, tmp_path, [ADA])
    t = koha.tables.borrowers
    koha.execute(update(t).where(t.c.cardnumber == "1001").values(surname="King"))
    config = koha.config(tmp_path)
    engine = connect_library(config)
    try:
        with library_lock(engine):  # a writer elsewhere holds the library
            with transaction(engine, lock=False) as session:
                assert session.scalar(select(Borrower.surname)) == "Lovelace"
        with transaction(engine, lock=False) as session:
            assert session.scalar(select(Borrower.surname)) == "King"
    finally:
        engine.dispose()


def test_a_patron_deleted_in_koha_is_added_back_only_by_a_person(koha, tmp_path):
    number = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    sync_koha(koha, tmp_path, [ADA])
    t = koha.tables.borrowers
    koha.execute(koha.tables.attributes.delete())
    koha.execute(t.delete().where(t.c.borrowernumber == number))
    report = sync_koha(koha, tmp_path, [ADA])
    assert koha.patrons() == {} and report.counts.restored == 0
    assert Library(koha.url).borrower("1001")["status"] == "recycled"
    with open_library(koha.config(tmp_path), write=True) as session:
        restore_recycled(session, "1001", "mrs.b")
    patron = koha.patron("1001")
    assert (patron["categorycode"], patron["surname"], patron["sort1"]) == ("ST", "Lovelace", "8A")
    assert koha.attributes(patron["borrowernumber"])["MISID"] == ["201"]


def test_reads_pull_again_only_when_koha_looks_changed(koha, tmp_path, monkeypatch):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    sync_koha(koha, tmp_path, [ADA])
    t = koha.tables.borrowers
    # Edited a while ago: a fingerprint taken now can be trusted.
    koha.execute(update(t).values(updated_on=datetime(2024, 1, 1)))
    pulls = []
    monkeypatch.setattr(KohaBridge, "pull", lambda self, session, real=KohaBridge.pull: (pulls.append(1),
                                                                                        real(self, session)))
    engine = connect_library(koha.config(tmp_path))
    try:
        for _ in range(3):
            with transaction(engine, lock=False) as session:
                session.scalar(select(Borrower.surname))
        assert len(pulls) == 1
        koha.execute(update(t).where(t.c.cardnumber == "1001").values(surname="King"))
        with transaction(engine, lock=False) as session:
            assert session.scalar(select(Borrower.surname)) == "King"
        assert len(pulls) == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize("column, value, problem", [
    ("sex", "Xy", "is 2 characters, longer than Koha's sex allows (1)"),
    ("zipcode", "é" * 128, "is 256 bytes, more than Koha's zipcode holds (255)"),
    ("zipcode", "é" * 127, None),
    ("dateofbirth", date(999, 12, 31), "is not a date Koha can store"),
    ("surname", "x" * 100_000, None)])
def test_what_koha_would_never_store_is_read_from_its_own_columns(koha, column, value, problem):
    assert koha_problem(koha.tables.borrowers.c[column], value) == problem
