"""One folding rule on every database: which ids and barcodes are the same.

MariaDB's default collation (utf8mb4_general_ci) makes its unique indexes
ignore case, accents and trailing spaces; PostgreSQL and SQLite compare
exactly. The engine decides with ``unique_key``, as the strictest index does,
before any database sees the values: a clash is a rejection naming both,
never an IntegrityError on one database alone."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, text

from engine.barcodes import BarcodeAllocator, BarcodeError, stored_barcode
from engine.config import BarcodeSettings
from engine.models import IntakeEntry
from engine.text import unique_key
from tests.builders import Library, student, sync, write_export
from tests.optional_builders import contact, student_contact
from tests.support.borrower_csv import HEADER, csv_file, do_import

SAME = [("ab12", "AB12"), ("é1", "E1"), ("Zoë-7", "zoe-7"), ("a1 ", "a1"), ("ß1", "s1"), ("ı1", "I1"),
        ("x😀", "x😁"), ("Ǣ2", "æ2")]


@pytest.mark.parametrize(("first", "second"), SAME)
def test_values_a_unique_index_takes_for_one_have_one_key(first, second):
    assert unique_key(first) == unique_key(second)


def test_different_values_keep_different_keys():
    assert len({unique_key(v) for v in ("a1", "a2", "b1", "a 1", "a-1")}) == 5


@pytest.mark.slow
def test_the_key_folds_at_least_as_much_as_mariadbs_collation(library_url):
    """Every character of the Basic Multilingual Plane that MariaDB's unique
    index takes for another has the same key as it."""
    if not library_url.startswith("mysql"):
        pytest.skip("the collation being matched is MariaDB's")
    chars = [chr(i) for i in range(0x21, 0x10000) if not 0xD800 <= i <= 0xDFFF]
    library = Library(library_url)
    with library.session() as session:
        session.execute(text("CREATE TEMPORARY TABLE folding (v VARCHAR(4) CHARACTER SET utf8mb4 "
                             "COLLATE utf8mb4_general_ci, i INT)"))
        session.execute(text("INSERT INTO folding (v, i) VALUES (:v, :i)"), [{"v": c, "i": ord(c)} for c in chars])
        groups = session.execute(text("SELECT GROUP_CONCAT(i) FROM folding GROUP BY v HAVING COUNT(*) > 1")).all()
    assert len(groups) > 100
    split = [[chr(int(i)) for i in str(group).split(",")] for (group,) in groups]
    assert [g for g in split if len({unique_key(c) for c in g}) > 1] == []


@pytest.mark.parametrize(("first", "second"), SAME[:3])
def test_two_pupils_whose_ids_fold_together_are_both_rejected_by_name(tmp_path, library_url, first, second):
    library = Library(library_url)
    report = sync(tmp_path, library_url, [student("Ann", "One", Id=first), student("Bea", "Two", Id=second),
                                          student("Cat", "Three", Id="300")])
    assert report.outcome == "ok", report.message
    reasons = {r.record: r.reason for r in report.plan.rejections}
    assert len(reasons) == 2 and all(first in r and second in r for r in reasons.values())
    assert [e["mis_id"] for e in library.intake()] == ["300"]


def test_a_newcomer_whose_id_folds_to_a_stored_one_is_rejected_and_the_stored_one_kept(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Ann", "One", mis_id="AB7")
    with library.session() as session:
        session.execute(insert(IntakeEntry), [{"person_type": "student", "mis_id": "X9", "status": "pending",
                                               "reason": "no_match", "forename": "P", "surname": "Q",
                                               "record": "{}", "updated_at": datetime(2020, 1, 1)}])
    report = sync(tmp_path, library_url, [student("Ann", "One", Id="ab7"), student("Pat", "Que", Id="x9"),
                                          student("Cat", "Three", Id="300")])
    assert report.outcome == "ok", report.message
    assert sorted((r.record.split(" (")[0], r.field, r.file) for r in report.plan.rejections) == [
        ("student ab7", "Id", "Students.json"), ("student x9", "Id", "Students.json")]
    assert any("AB7" in r.reason for r in report.plan.rejections)
    borrower = library.borrower("B1")
    assert borrower["status"] == "active" and borrower["mis_id"] == "AB7"  # not taken for a leaver
    assert sorted(e["mis_id"] for e in library.intake()) == ["300", "X9"]


def test_guardian_contacts_whose_ids_fold_together_are_one_row(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Ann", "One", mis_id="1")
    write_export(tmp_path / "export", Students=[student("Ann", "One", Id="1")],
                 Contacts=[contact("c1", "Mum", "One"), contact("C1", "Dad", "One")],
                 StudentContacts=[student_contact("1", "c1", "Mother", 1), student_contact("1", "C1", "Father", 2)])
    report = sync(tmp_path, library_url, data={"guardians": True})
    assert report.outcome == "ok", report.message
    assert [(r.file, r.field) for r in report.plan.rejections] == [("StudentContacts.json", "ContactId")]
    assert [g["contact_id"] for g in library.rows("guardians")] == ["c1"]


@pytest.mark.parametrize(("first", "second"), [("B1", "b1"), ("É1", "E1"), ("Zoë1", "ZOE1")])
def test_barcodes_that_fold_together_in_the_csv_are_a_bad_row(tmp_path, library_url, first, second):
    path = csv_file(tmp_path, f"101,Ada,Lovelace,10/12/2011,F,8A,8,{first}",
                    f"102,Alan,Turing,23/06/2012,M,8B,8,{second}", header=HEADER + ",Barcode")
    result = do_import(library_url, path)
    assert [(p.line, first in p.reason or "line 2" in p.reason) for p in result.problems] == [(3, True)]
    result = do_import(library_url, path, skip_invalid=True)
    assert result.imported == 1 and list(Library(library_url).borrowers()) == [first]
    # Importing the other spelling again is the same borrower, on every database.
    again = do_import(library_url, csv_file(tmp_path, f"103,Bob,Other,01/01/2012,M,8B,8,{second}",
                                            header=HEADER + ",Barcode", name="again.csv"))
    assert again.problems == [] and again.already_present == 1


def test_mis_ids_that_fold_together_in_the_csv_or_with_the_library_are_a_bad_row(tmp_path, library_url):
    Library(library_url).add_borrower("B9", "Old", "One", mis_id="XY9")
    path = csv_file(tmp_path, "ab1,Ada,Lovelace,10/12/2011,F,8A,8", "AB1,Alan,Turing,23/06/2012,M,8B,8",
                    "xy9,Grace,Hopper,09/12/2011,F,8C,8")
    result = do_import(library_url, path, skip_invalid=True)
    assert [(p.line, ("ab1" in p.reason) if p.line == 3 else ("XY9" in p.reason)) for p in result.problems] == [
        (3, True), (4, True)]
    assert sorted(b["mis_id"] for b in Library(library_url).borrowers().values()) == ["XY9", "ab1"]


def test_a_barcode_scheme_never_gives_a_barcode_that_folds_to_a_stored_one():
    allocator = BarcodeAllocator(BarcodeSettings("mis_id", "", 6), {"É5", "s000001"})
    with pytest.raises(BarcodeError, match="already belongs"):
        allocator.allocate(mis_id="E5")
    assert BarcodeAllocator(BarcodeSettings("sequence", "S", 6), {"s000001"}).allocate() == "S000002"


def test_a_barcode_typed_by_hand_finds_its_borrower_as_the_database_would():
    stored = ["É1", "B2", "b3", "B3"]
    assert stored_barcode("e1", stored) == "É1" and stored_barcode("B2", stored) == "B2"
    assert stored_barcode("b3", stored) == "b3"  # exact first
    assert stored_barcode("B4", stored) is None
