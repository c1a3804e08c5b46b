"""The twin guard on a hand match, against a real library (SQLite, PostgreSQL,
MariaDB): a forename typed differently is the same child unless a second
person (another borrower, another incoming record) shares the surname and date
of birth; a clearly different forename always needs force."""
from __future__ import annotations

import pytest

from engine.intake import NeedsForce, match_entry, reject_entry
from tests.builders import student
from tests.intake_builders import borrower_by_barcode, entry_id, library, row, session_for, sync

DOB = "2012-03-04"


def jessica(**fields):
    return student("Jessica", "Smith", DOB, Id="201", **fields)


def match(config, mis_id, barcode, force=False):
    with session_for(config) as session:
        return match_entry(session, config, entry_id(config, mis_id), barcode, actor="mrs.b", force=force)


def refused_then_forced(config, mis_id, barcode, *expected):
    """The match needs force, for the reasons given; forced, it links."""
    with pytest.raises(NeedsForce) as refusal:
        match(config, mis_id, barcode)
    assert all(text in str(refusal.value) for text in expected), str(refusal.value)
    assert borrower_by_barcode(config, barcode)["mis_id"] is None
    assert match(config, mis_id, barcode, force=True).summary.endswith(f"(forced past borrower {barcode})")
    assert borrower_by_barcode(config, barcode)["mis_id"] == mis_id


@pytest.mark.parametrize("typed, note", [
    ("Jsesica", "forename typed differently: Jsesica / Jessica"),  # two letters swapped
    ("Jessoca", "forename typed differently: Jessoca / Jessica"),  # a neighbouring key
    ("Jesica", "forename typed differently: Jesica / Jessica"),  # a letter lost
    ("Jesssica", "forename typed differently: Jesssica / Jessica"),  # a letter doubled
    ("Jess", "forename in another form: Jess / Jessica"),  # the short form
])
def test_a_forename_typed_differently_with_nobody_else_born_that_day_matches_without_force(
        tmp_path, library_url, typed, note):
    config = library(tmp_path, library_url, row(typed, "Smith", DOB, barcode="S1"),
                     row("Tom", "Smith", "2010-05-06", barcode="S2"))
    sync(config, jessica(), student("Jessica", "Smithson", DOB, Id="202"))
    decision = match(config, "201", "S1")
    assert note in decision.summary and "forced" not in decision.summary
    assert borrower_by_barcode(config, "S1")["mis_id"] == "201"


def test_a_second_borrower_with_the_surname_and_birthday_makes_a_typo_a_possible_twin(tmp_path, library_url):
    config = library(tmp_path, library_url, row("Jsesica", "Smith", DOB, barcode="S1"),
                     row("Tom", "Smith", DOB, barcode="S2", gender="M"))
    sync(config, jessica())
    refused_then_forced(config, "201", "S1", "borrower S2 (Tom Smith)", "Jsesica / Jessica", "twin")


def test_a_second_borrower_linked_to_its_pupil_counts_as_well(tmp_path, library_url):
    """Tom matched by his link at the sync, so he is in no Intake entry."""
    config = library(tmp_path, library_url, row("Jsesica", "Smith", DOB, barcode="S1"),
                     row("Tom", "Smyth", DOB, barcode="S2", gender="M", mis_person_type="student", mis_id="202"))
    sync(config, jessica(), student("Tom", "Smith", DOB, Id="202", Gender="M"))
    assert borrower_by_barcode(config, "S2")["surname"] == "Smith", "brought up to date by the sync"
    refused_then_forced(config, "201", "S1", "borrower S2 (Tom Smith)", "twin")


@pytest.mark.parametrize("decided", [False, True])
def test_a_second_incoming_pupil_with_the_surname_and_birthday_makes_a_typo_a_possible_twin(
        tmp_path, library_url, decided):
    """Tom is in Intake too (waiting, or already rejected: either way a real
    second person the MIS knows)."""
    config = library(tmp_path, library_url, row("Jsesica", "Smith", DOB, barcode="S1"))
    sync(config, jessica(), student("Tom", "Smith", DOB, Id="202", Gender="M"))
    if decided:
        with session_for(config) as session:
            reject_entry(session, entry_id(config, "202"), actor="mrs.b")
    refused_then_forced(config, "201", "S1", "incoming student Tom Smith (MIS id 202)", "twin")


def test_a_clearly_different_forename_needs_force_with_nobody_else_born_that_day(tmp_path, library_url):
    """Tori may be Jessica's twin, whose own record is not in the export."""
    config = library(tmp_path, library_url, row("Tori", "Smith", DOB, barcode="S1"))
    sync(config, jessica())
    refused_then_forced(config, "201", "S1", "same surname and date of birth but another forename (Tori)")
