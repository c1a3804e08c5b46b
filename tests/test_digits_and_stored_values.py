"""Digits are ASCII digits, and nothing stored in the library can make a later
sync fail.

Python's ``\\d``, ``str.isdigit()`` and ``int()`` all accept "٣" (Arabic-Indic)
and "３" (fullwidth): a UPN written so once passed the check and then failed
every sync. A value stored in the library that the engine cannot use (SQLite
keeps any text in a date column, a row edited by hand) is reported and left
alone, never a failed run."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, text, update

from engine.barcodes import BarcodeAllocator
from engine.config import BarcodeSettings
from engine.export.fields import FieldProblem, number, parse_date
from engine.models import Borrower, IntakeEntry, SyncRun
from engine.text import whole_number, year_number
from engine.upn import check_letter, is_valid_upn
from tests.builders import Library, student, sync
from tests.support.borrower_csv import HEADER, csv_file, do_import

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
REST = "123456789012"
UPN = check_letter(REST) + REST  # valid, in ASCII digits


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH], ids=["arabic-indic", "fullwidth"])
def test_only_ascii_digits_are_digits(digits):
    assert whole_number("42") == 42 and whole_number("-7") == -7
    assert whole_number("42".translate(digits)) is None
    assert number("3".translate(digits)) is None
    assert number(2.0) == 2 and number(float("inf")) is None and number(float("nan")) is None
    assert year_number("Year 7".translate(digits)) is None
    assert not is_valid_upn(UPN.translate(digits)) and is_valid_upn(UPN)
    with pytest.raises(FieldProblem, match="not a date"):
        parse_date("2012-03-04".translate(digits), "DateofBirth")
    allocator = BarcodeAllocator(BarcodeSettings("sequence", "S", 6), {"S000009".translate(digits)})
    assert allocator.allocate() == "S000001"


def test_a_upn_in_other_digits_never_stops_a_sync(tmp_path, library_url):
    odd = UPN.translate(ARABIC_INDIC)
    library = Library(library_url)
    library.add_borrower("B1", "Ada", "Lovelace", upn=odd)
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="1", UPN=odd),
                                          student("Alan", "Turing", Id="2", UPN=UPN.translate(FULLWIDTH))])
    assert report.outcome == "ok", report.message
    # Not a trusted UPN, so no match by it; the name and date of birth still match.
    assert library.borrower("B1")["mis_id"] == "1"


def test_a_date_of_birth_in_other_digits_is_rejected(tmp_path, library_url):
    fullwidth_dob = "2012-03-04".translate(FULLWIDTH)
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="1", dob=fullwidth_dob)])
    assert report.outcome == "ok", report.message
    assert [(r.field, r.reason) for r in report.plan.rejections] == [
        ("DateofBirth", "not a date (expected YYYY-MM-DD)")]


def test_the_borrower_import_blanks_a_upn_in_other_digits_with_a_warning(tmp_path, library_url):
    path = csv_file(tmp_path, f"101,Ada,Lovelace,10/12/2011,F,8A,Year 8,{UPN.translate(ARABIC_INDIC)}",
                    header=HEADER + ",UPN")
    result = do_import(library_url, path)
    assert result.problems == []
    assert [(w.line, w.field) for w in result.warnings] == [(2, "UPN")]
    assert [b["upn"] for b in Library(library_url).borrowers().values()] == [None]


def _store_unusable_values(library: Library, sqlite: bool) -> None:
    """Rows a sync must survive, written as a hand edit or an old version might."""
    library.add_borrower("B1", "Ada", "Lovelace", mis_id="1")
    library.add_borrower("B2", "Alan", "Turing", mis_id="2")
    library.add_borrower("B3", "Odd", "Type", mis_id="3", mis_person_type="teacher")
    with library.session() as session:
        if sqlite:  # only SQLite lets a date column hold any text
            session.execute(text("UPDATE mislink_borrowers SET date_of_birth = 'not a date', "
                                 "recycled_at = '31/02/2020' WHERE barcode = 'B2'"))
        entry = {"status": "pending", "reason": "no_match", "forename": "X", "surname": "Y",
                 "created_at": datetime(2020, 1, 1), "updated_at": datetime(2020, 1, 1)}
        session.execute(insert(IntakeEntry), [{**entry, "person_type": "student", "mis_id": "4", "record": "{nope"},
                                              {**entry, "person_type": "alien", "mis_id": "5", "record": "{}"},
                                              {**entry, "person_type": "student", "mis_id": "6", "record": "[]"}])
        session.execute(insert(SyncRun), [{"kind": "sync", "source": "x", "outcome": "ok", "counts": "{broken"},
                                          {"kind": "sync", "source": "x", "outcome": "ok", "counts": "[1]"}])


def test_nothing_stored_in_the_library_can_stop_a_sync(tmp_path, library_url):
    library = Library(library_url)
    _store_unusable_values(library, library_url.startswith("sqlite"))
    people = [student("Ada", "Lovelace", Id="1"), student("Alan", "Turing", Id="2"),
              student("New", "Pupil", Id="4"), student("Other", "Pupil", Id="6")]
    for _ in range(2):  # and the run after it
        report = sync(tmp_path, library_url, people)
        assert report.outcome == "ok", report.message
    warnings = " ".join(sync(tmp_path, library_url, people, dry_run=True).plan.warnings)
    assert "borrower B3" in warnings and "Intake entry" in warnings
    with library.session() as session:
        stored = dict(session.execute(text("SELECT barcode, date_of_birth FROM mislink_borrowers")).all())
        kinds = dict(session.execute(text("SELECT barcode, mis_person_type FROM mislink_borrowers")).all())
        records = dict(session.execute(text("SELECT mis_id, record FROM mislink_intake")).all())
    assert str(stored["B2"]) == "2012-03-04"  # put right from the MIS
    assert kinds["B3"] == "teacher"  # left alone
    assert '"mis_id": "4"' in records["4"] and '"mis_id": "6"' in records["6"]


def test_the_first_run_reports_what_it_could_not_use(tmp_path, library_url):
    library = Library(library_url)
    _store_unusable_values(library, library_url.startswith("sqlite"))
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", Id="1")], dry_run=True)
    assert report.outcome == "dry-run", report.message
    warnings = report.plan.warnings
    assert any("borrower B3" in w and "person type" in w for w in warnings)
    assert any("Intake entry" in w and "person type" in w for w in warnings)
    if library_url.startswith("sqlite"):
        assert any("borrower B2" in w and "date_of_birth" in w for w in warnings)
    # Only ids and barcodes, never the stored value itself.
    assert not any("31/02/2020" in w or "{nope" in w for w in warnings)
    with library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "B1").values(upn=UPN.translate(FULLWIDTH)))
    assert sync(tmp_path, library_url).outcome == "ok"
