"""Automatic matching: every tier, and every case that must never match."""
from __future__ import annotations

from datetime import date

import pytest

from engine.matching import IntakeReason, LibraryIndex, Match, Tier, Unmatched, match_people
from engine.person import Person, PersonType
from tests.builders import borrower_row

DOB = date(2012, 3, 4)


def pupil(mis_id: str, forename: str, surname: str, dob: date | None = DOB, **fields) -> Person:
    return Person(person_type=PersonType.STUDENT, mis_id=mis_id, preferred_forename=forename,
                  preferred_surname=surname, legal_forename=fields.pop("legal_forename", forename),
                  legal_surname=fields.pop("legal_surname", surname), date_of_birth=dob, **fields)


def match(people: list[Person], rows: list[dict]) -> dict[str, Match | Unmatched]:
    results = match_people(people, LibraryIndex(rows))
    return {key[1]: result for key, result in results.items()}


def matched(borrower_id: int, tier: Tier) -> Match:
    return Match(borrower_id, tier)


def reason(result) -> IntakeReason | None:
    return result.reason if isinstance(result, Unmatched) else None


# --- Tier 1: a borrower already linked to this MIS person --------------------------------------------

def test_link_by_mis_id_even_when_every_other_field_differs():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="10"), borrower_row(2, "Ada", "Lovelace", dob="2012-03-04")]
    assert match([pupil("10", "Augusta", "King", date(2011, 1, 1))], rows) == {"10": matched(1, Tier.LINK)}


def test_link_by_idaas_id_whatever_its_case():
    rows = [borrower_row(1, "Someone", "Else", dob=None, idaas_id="pl-10")]
    assert match([pupil("10", "Ada", "Lovelace", idaas_id="PL-10")], rows) == {"10": matched(1, Tier.LINK)}


def test_link_by_external_id():
    guid = "05a289a1-d579-4285-b050-894f5e11e04a"
    rows = [borrower_row(1, "Someone", "Else", external_id=guid.upper())]
    assert match([pupil("10", "Ada", "Lovelace", external_id=guid)], rows) == {"10": matched(1, Tier.LINK)}


def test_a_link_is_to_a_person_type_and_id_not_an_id_alone():
    rows = [borrower_row(1, "Bob", "Teacher", borrower_type="staff", mis_id="10")]
    result = match([pupil("10", "Ann", "Pupil")], rows)["10"]
    assert reason(result) is IntakeReason.NO_MATCH


def test_ids_pointing_at_two_borrowers_are_a_conflict():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="10"), borrower_row(2, "Ada", "Lovelace", dob=None,
                                                                          external_id="guid-10")]
    result = match([pupil("10", "Ada", "Lovelace", external_id="guid-10")], rows)["10"]
    assert reason(result) is IntakeReason.CONFLICTING_IDS


def test_an_idaas_id_on_a_borrower_linked_to_someone_else_is_a_conflict_not_a_takeover():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="99", idaas_id="PL-10")]
    result = match([pupil("10", "Ada", "Lovelace", idaas_id="PL-10")], rows)["10"]
    assert reason(result) is IntakeReason.CONFLICTING_IDS
    assert "student 99" in result.detail


def test_a_recycled_borrower_is_still_found_by_its_link():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="10", status="recycled")]
    assert match([pupil("10", "Ada", "Lovelace")], rows) == {"10": matched(1, Tier.LINK)}


# --- Tier 2: UPN or FormerUPN ------------------------------------------------------------------------

def test_upn_matches_an_unlinked_borrower_with_another_name():
    rows = [borrower_row(1, "Addie", "Byron", upn="A123456789012")]
    assert match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows) == {"10": matched(1, Tier.UPN)}


def test_former_upn_matches():
    rows = [borrower_row(1, "Ada", "Lovelace", upn="X12345678901A")]
    person = pupil("10", "Ada", "King", upn="A123456789012", former_upn="X12345678901A")
    assert match([person], rows) == {"10": matched(1, Tier.UPN)}


def test_a_upn_with_a_wrong_check_letter_is_never_trusted():
    rows = [borrower_row(1, "Addie", "Byron", upn="B123456789012")]  # A is the right check letter
    assert reason(match([pupil("10", "Ada", "Lovelace", upn="B123456789012")], rows)["10"]) is IntakeReason.NO_MATCH
    rows = [borrower_row(1, "Addie", "Byron", upn="A123456789012")]
    assert match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows) == {"10": matched(1, Tier.UPN)}


def test_upn_with_a_contradicting_date_of_birth_goes_to_intake():
    rows = [borrower_row(1, "Ada", "Lovelace", dob="2011-03-04", upn="A123456789012")]
    result = match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows)["10"]
    assert reason(result) is IntakeReason.UPN_DOB_MISMATCH


@pytest.mark.parametrize("stored, incoming", [(None, DOB), ("2012-03-04", None)])
def test_upn_matches_when_one_side_has_no_date_of_birth(stored, incoming):
    rows = [borrower_row(1, "Ada", "Lovelace", dob=stored, upn="A123456789012")]
    assert match([pupil("10", "Ada", "Lovelace", incoming, upn="A123456789012")], rows) == {
        "10": matched(1, Tier.UPN)}


def test_a_upn_shared_by_two_borrowers_matches_neither():
    rows = [borrower_row(1, "Ada", "Lovelace", upn="A123456789012"),
            borrower_row(2, "Alan", "Turing", upn="A123456789012")]
    result = match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows)["10"]
    assert reason(result) is IntakeReason.DUPLICATE_UPN


def test_upn_of_a_borrower_linked_to_someone_else_is_never_taken_over():
    rows = [borrower_row(1, "Zed", "Other", mis_id="99", upn="A123456789012")]
    result = match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows)["10"]
    assert not isinstance(result, Match)


# --- Tier 3: forename, surname and date of birth -----------------------------------------------------

def test_a_clear_gender_disagreement_vetoes_a_name_and_date_of_birth_match():
    rows = [borrower_row(1, "Sam", "Jones", gender="F")]
    assert reason(match([pupil("10", "Sam", "Jones", gender="M")], rows)["10"]) is IntakeReason.NO_MATCH
    assert match([pupil("10", "Sam", "Jones", gender="F")], rows) == {"10": matched(1, Tier.NAME_DOB)}
    assert match([pupil("10", "Sam", "Jones", gender=None)], rows) == {"10": matched(1, Tier.NAME_DOB)}


@pytest.mark.parametrize("typed_forename, typed_surname", [
    ("ZOE", "SMITH JONES"), ("zoe", "smith-jones"), ("  Zoë ", "Smith  Jones"), ("Zoe", "Smith‐Jones"),
    ("zoë", "smith_jones"),
])
def test_name_and_date_of_birth_after_normalising(typed_forename, typed_surname):
    rows = [borrower_row(1, typed_forename, typed_surname)]
    assert match([pupil("10", "Zoë", "Smith-Jones")], rows) == {"10": matched(1, Tier.NAME_DOB)}


def test_apostrophes_do_not_count():
    rows = [borrower_row(1, "Sean", "OBrien")]
    assert match([pupil("10", "Seán", "O'Brien")], rows) == {"10": matched(1, Tier.NAME_DOB)}


def test_legal_forename_typed_by_the_library_matches_a_preferred_name_in_the_mis():
    rows = [borrower_row(1, "Elizabeth", "Bennet")]
    person = pupil("10", "Lizzy", "Bennet", legal_forename="Elizabeth")
    assert match([person], rows) == {"10": matched(1, Tier.NAME_DOB)}


def test_preferred_forename_typed_by_the_library_matches_too():
    rows = [borrower_row(1, "Lizzy", "Bennet")]
    person = pupil("10", "Lizzy", "Bennet", legal_forename="Elizabeth")
    assert match([person], rows) == {"10": matched(1, Tier.NAME_DOB)}


def test_legal_surname_matches():
    rows = [borrower_row(1, "Jane", "Fairfax")]
    person = pupil("10", "Jane", "Churchill", legal_surname="Fairfax")
    assert match([person], rows) == {"10": matched(1, Tier.NAME_DOB)}


def test_twins_in_the_library_are_never_auto_matched():
    rows = [borrower_row(1, "Fred", "Weasley"), borrower_row(2, "George", "Weasley")]
    result = match([pupil("10", "Fred", "Weasley")], rows)["10"]
    assert reason(result) is IntakeReason.POSSIBLE_TWIN


def test_twins_in_the_incoming_export_are_never_auto_matched():
    rows = [borrower_row(1, "Fred", "Weasley")]
    results = match([pupil("10", "Fred", "Weasley"), pupil("11", "George", "Weasley")], rows)
    assert reason(results["10"]) is IntakeReason.POSSIBLE_TWIN
    assert reason(results["11"]) is IntakeReason.NO_MATCH


def test_same_surname_different_birthday_is_not_a_twin():
    rows = [borrower_row(1, "Fred", "Weasley"), borrower_row(2, "Percy", "Weasley", dob="2009-08-22")]
    results = match([pupil("10", "Fred", "Weasley"), pupil("11", "Ron", "Weasley", date(2013, 3, 1))], rows)
    assert results["10"] == matched(1, Tier.NAME_DOB)


def test_twins_already_linked_still_match_by_link():
    rows = [borrower_row(1, "Fred", "Weasley", mis_id="10"), borrower_row(2, "George", "Weasley", mis_id="11")]
    results = match([pupil("10", "Fred", "Weasley"), pupil("11", "George", "Weasley")], rows)
    assert results == {"10": matched(1, Tier.LINK), "11": matched(2, Tier.LINK)}


@pytest.mark.parametrize("incoming_dob, stored_dob", [(None, "2012-03-04"), (date(2012, 3, 5), "2012-03-04"),
                                                      (date(2012, 4, 3), "2012-03-04"), (DOB, None)])
def test_a_name_alone_never_matches(incoming_dob, stored_dob):
    rows = [borrower_row(1, "Ada", "Lovelace", dob=stored_dob)]
    result = match([pupil("10", "Ada", "Lovelace", incoming_dob)], rows)["10"]
    assert reason(result) is IntakeReason.NO_MATCH


def test_a_different_forename_with_the_same_surname_and_birthday_never_matches():
    rows = [borrower_row(1, "Ada", "Lovelace")]
    assert reason(match([pupil("10", "Ida", "Lovelace")], rows)["10"]) is IntakeReason.NO_MATCH


def test_a_borrower_linked_to_a_different_mis_person_is_never_taken_over():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="99")]
    result = match([pupil("10", "Ada", "Lovelace")], rows)["10"]
    assert reason(result) is IntakeReason.LINKED_ELSEWHERE


def test_a_staff_borrower_is_never_matched_to_a_student_by_name():
    rows = [borrower_row(1, "Ada", "Lovelace", borrower_type="staff")]
    assert reason(match([pupil("10", "Ada", "Lovelace")], rows)["10"]) is IntakeReason.NO_MATCH


def test_two_identically_typed_borrowers_match_neither():
    rows = [borrower_row(1, "Ada", "Lovelace"), borrower_row(2, "ada", "LOVELACE")]
    assert reason(match([pupil("10", "Ada", "Lovelace")], rows)["10"]) is IntakeReason.POSSIBLE_TWIN


# --- One to one --------------------------------------------------------------------------------------

def test_two_incoming_records_claiming_one_borrower_get_neither():
    rows = [borrower_row(1, "Ada", "Lovelace", upn="A123456789012")]
    people = [pupil("10", "Ada", "Lovelace"), pupil("11", "Augusta", "King", upn="A123456789012")]
    results = match(people, rows)
    assert reason(results["10"]) is IntakeReason.CONTESTED
    assert reason(results["11"]) is IntakeReason.CONTESTED


def test_two_people_sharing_a_upn_claim_one_borrower_and_get_neither():
    rows = [borrower_row(1, "Ada", "Lovelace", upn="A123456789012")]
    people = [pupil("10", "Ada", "Lovelace", upn="A123456789012"),
              pupil("11", "Bob", "Byron", None, upn="A123456789012")]
    assert {k: reason(r) for k, r in match(people, rows).items()} == {"10": IntakeReason.CONTESTED,
                                                                       "11": IntakeReason.CONTESTED}


def test_each_tier_in_one_run():
    rows = [borrower_row(1, "Ada", "Lovelace", mis_id="10"), borrower_row(2, "Alan", "Turing", upn="A123456789012"),
            borrower_row(3, "Grace", "Hopper", dob="2011-12-09")]
    people = [pupil("10", "Ada", "Lovelace"), pupil("11", "Alan", "Turing", upn="A123456789012"),
              pupil("12", "Grace", "Hopper", date(2011, 12, 9)), pupil("13", "New", "Pupil")]
    assert match(people, rows) == {"10": matched(1, Tier.LINK), "11": matched(2, Tier.UPN),
                                   "12": matched(3, Tier.NAME_DOB), "13": Unmatched(IntakeReason.NO_MATCH)}


def test_the_tiers_are_tried_in_order_link_first():
    # Borrower 1 is linked; borrower 2 has the UPN and borrower 3 the name: the link wins.
    rows = [borrower_row(1, "Other", "Name", dob="2000-01-01", mis_id="10"),
            borrower_row(2, "Ada", "Byron", upn="A123456789012"), borrower_row(3, "Ada", "Lovelace")]
    assert match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows) == {"10": matched(1, Tier.LINK)}


def test_upn_before_name():
    rows = [borrower_row(2, "Ada", "Byron", upn="A123456789012"), borrower_row(3, "Ada", "Lovelace")]
    assert match([pupil("10", "Ada", "Lovelace", upn="A123456789012")], rows) == {"10": matched(2, Tier.UPN)}


@pytest.mark.parametrize("identity", [{"idaas_id": "PL-99"}, {"external_id": "guid-99"}])
def test_a_borrower_known_by_another_persons_idaas_or_external_id_is_never_taken_over(identity):
    rows = [borrower_row(1, "Ada", "Lovelace", upn="A123456789012", **identity)]
    by_name = match([pupil("10", "Ada", "Lovelace", idaas_id="PL-10", external_id="guid-10")], rows)["10"]
    by_upn = match([pupil("11", "Ada", "King", upn="A123456789012", idaas_id="PL-11")], rows)["11"]
    assert reason(by_name) is IntakeReason.LINKED_ELSEWHERE
    assert not isinstance(by_upn, Match)
