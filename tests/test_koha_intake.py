"""Intake decisions on a Koha library: a match links a patron typed into Koha;
a transfer adds a Koha patron as Koha's own patron store would; undoing it
removes only a patron mislink made and that has never borrowed."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert

from engine.api import list_entries, make_decision, open_library, undo_last
from engine.sync import run_sync
from tests.builders import TODAY, Library, staff_member, student, write_export

ZED = student("Zed", "Newman", "2011-10-09", Id="301", RegGroup="9C", YearGroup="Year  9")
ZED_TOO = student("Zed", "Newman", "2012-02-02", Id="302", RegGroup="8A")
# Born on another day than Koha says: only a person can match her.
ADA = student("Ada", "Lovelace", "2012-03-05", Id="201", RegGroup="8A")


def first_sync(koha, tmp_path, students):
    write_export(tmp_path / "export", Students=students)
    config = koha.config(tmp_path, sync={"max_recycle_share": 1.0, "min_export_share": 0.0})
    assert run_sync(config, today=TODAY).outcome == "ok"
    return config


def decide(config, action, mis_ids, **options):
    with open_library(config, write=True) as session:
        ids = [e.id for e in list_entries(session, score_missing=False) if e.mis_id in mis_ids]
        return make_decision(session, config, action, ids, actor="mrs.b", **options)


def test_a_match_links_the_patron_typed_into_koha(koha, tmp_path):
    number = koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04")
    config = first_sync(koha, tmp_path, [ADA])
    decide(config, "match", ["201"], barcode="1001")
    assert koha.attributes(number)["MISID"] == ["201"]
    assert (koha.patron("1001")["dateofbirth"], koha.patron("1001")["sort1"]) == (date(2012, 3, 5), "8A")


def test_a_transfer_adds_koha_patrons_as_koha_itself_would(koha, tmp_path):
    koha.add_patron("9999", "Zed", "Newman", "1970-01-01", category="AD", userid="ZED.NEWMAN")
    config = first_sync(koha, tmp_path, [ZED, ZED_TOO])
    decide(config, "new", ["301"])
    decide(config, "new", ["302"])
    decide(config, "transfer", ["301", "302"])
    made = {p["cardnumber"]: p for p in koha.patrons().values() if p["cardnumber"] != "9999"}
    assert sorted((p["userid"], p["sort1"]) for p in made.values()) == [("zed.newman2", "9C"), ("zed.newman3", "8A")]
    today = date.today()
    for patron in made.values():
        assert (patron["branchcode"], patron["categorycode"], patron["dateenrolled"], patron["password"]) == \
            ("MAIN", "ST", today, None)
        assert patron["dateexpiry"] == date(today.year + 1, today.month, min(today.day, 28)) or \
            (patron["dateexpiry"] - today).days in range(365, 367)
    numbers = sorted(p["borrowernumber"] for p in made.values())
    assert sorted(koha.attributes(n)["MISID"][0] for n in numbers) == ["301", "302"]
    links = Library(koha.url).rows("koha_patrons")
    assert sorted(r["borrowernumber"] for r in links) == numbers and all(r["created_by_mislink"] for r in links)


def test_undoing_a_transfer_removes_the_patron_mislink_made(koha, tmp_path):
    config = first_sync(koha, tmp_path, [ZED])
    decide(config, "new", ["301"])
    decide(config, "transfer", ["301"])
    [made] = koha.patrons().values()
    with open_library(config, write=True) as session:
        undo_last(session, actor="mrs.b")
    assert koha.patrons() == {}
    assert Library(koha.url).rows("koha_patrons") == []
    # Kept in deletedborrowers first, as Koha's own delete keeps a patron
    # (updated_on then says when it was deleted).
    [kept] = koha.rows("deletedborrowers")
    assert {**kept, "updated_on": None} == {**made, "updated_on": None}


@pytest.mark.parametrize("loan, refusal", [
    ("out", r"borrower 000001 has 1 loan\b"),
    ("returned", r"^borrower 000001: Koha patron \d+ has loans or loan history in Koha, so it cannot be deleted; "
                 r"nothing written$")])
def test_a_patron_that_has_borrowed_is_never_deleted_by_an_undo(koha, tmp_path, loan, refusal):
    config = first_sync(koha, tmp_path, [ZED])
    decide(config, "new", ["301"])
    decide(config, "transfer", ["301"])
    [patron] = koha.patrons().values()
    if loan == "out":
        koha.add_issue(patron["borrowernumber"], 777)  # the mirror has it: the undo itself refuses
    else:
        koha.execute(insert(koha.tables.old_issues).values(issue_id=1, borrowernumber=patron["borrowernumber"],
                                                           itemnumber=777, returndate=datetime(2024, 2, 1)))
    with pytest.raises(Exception, match=refusal):
        with open_library(config, write=True) as session:
            undo_last(session, actor="mrs.b")
    assert list(koha.patrons()) == [patron["cardnumber"]]
    assert len(Library(koha.url).rows("koha_patrons")) == 1
    assert koha.rows("deletedborrowers") == []


def test_a_new_patron_whose_barcode_koha_cannot_hold_is_refused_whole(koha, tmp_path):
    config = first_sync(koha, tmp_path, [ZED])
    config = koha.config(tmp_path, barcodes={"prefix": "P" * 30, "digits": 6})
    decide(config, "new", ["301"])
    with pytest.raises(Exception, match=r"^borrower P{30}000001: cannot be added to Koha: the barcode is 36 "
                                         r"characters, longer than Koha's cardnumber allows \(32\); nothing written$"):
        decide(config, "transfer", ["301"])
    assert koha.patrons() == {}
    assert [b["barcode"] for b in Library(koha.url).rows("borrowers")] == []


def test_staff_are_the_staff_category_and_a_transferred_one_joins_it(koha, tmp_path):
    number = koha.add_patron("5001", "Tess", "Tutor", "1980-05-06", category="S")
    staff = [staff_member("Tess", "Tutor", Id="601"), staff_member("Sam", "Newer", "1985-01-01", Id="602")]
    write_export(tmp_path / "export", Students=[ZED], Staff=staff)
    config = koha.config(tmp_path, data={"staff": True, "staff_year_group": 14},
                         sync={"max_recycle_share": 1.0, "min_export_share": 0.0})
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    assert koha.attributes(number)["MISID"] == ["601"]
    decide(config, "new", ["602"])
    decide(config, "transfer", ["602"])
    made = [p for p in koha.patrons().values() if p["cardnumber"] != "5001"]
    assert [(p["categorycode"], p["userid"]) for p in made] == [("S", "sam.newer")]
    assert Library(koha.url).borrower(made[0]["cardnumber"])["borrower_type"] == "staff"
