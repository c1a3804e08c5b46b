"""Intake suggestions: each rule that puts the right borrower at the top, or keeps
the wrong one off, and the fuzzy auto-accept's refusals. Pure: no database."""
from __future__ import annotations

from datetime import date

import pytest

from engine.birthdates import (
    DateRelation,
    date_relation,
    mistyped_variants,
    school_year,
)
from engine.config import IntakeSettings
from engine.matching import (
    IntakeReason,
    LibraryIndex,
    Match,
    Tier,
    Unmatched,
    match_people,
)
from engine.nicknames import Relation, nickname_table
from engine.person import PersonType, Presence
from engine.suggest import (
    PROBABLE_DUPLICATE,
    STRANGER,
    TWIN,
    UNLIKELY_MATCH,
    NameRelation,
    SuggestionIndex,
    auto_accept,
    compare_forenames,
    match_doubt,
    match_notes,
    score_from_weight,
    twin_doubt,
)
from tests.intake_builders import TODAY, person, row

ON = IntakeSettings(auto_accept_score=90, auto_accept_margin=15)


def suggest(incoming, *borrowers, limit=5):
    return SuggestionIndex(borrowers).suggest(incoming, TODAY, limit)


def evidence(suggestion, field):
    return next(e for e in suggestion.evidence if e.field == field)


def test_a_short_form_finds_the_full_name_and_says_so():
    alfred = row("Alfred", "Smith")
    found = suggest(person("Alfie", "Smith"), row("Arthur", "Smith"), alfred)
    assert found.best.borrower_id == alfred["id"]
    assert evidence(found.best, "forename").verdict == "partial"
    assert "short form" in evidence(found.best, "forename").detail
    assert found.best.probable_duplicate


def test_the_legal_forename_is_tried_as_well_as_the_preferred_one():
    mohammed = row("Mohammed", "Khan")
    found = suggest(person("Mo", "Khan", legal_forename="Mohammed"), mohammed)
    assert evidence(found.best, "forename").verdict == "agree"


def test_nicknames_relate_short_forms_but_never_two_full_names():
    table = nickname_table()
    assert table.relation("alfie", "alfred") is Relation.SHORT_FORM
    assert table.relation("alfie", "freddie") is Relation.SIBLING
    assert table.relation("samuel", "samantha") is None
    assert "isabella" in table.roots("izzy")


def test_forename_and_surname_typed_the_other_way_round():
    swapped = row("Smith", "Oliver")
    found = suggest(person("Oliver", "Smith"), swapped, row("Olivia", "Smithers", "2012-05-06"))
    assert found.best.borrower_id == swapped["id"]
    assert "typed as the surname" in evidence(found.best, "forename").detail
    assert found.best.probable_duplicate


@pytest.mark.parametrize("typed, relation", [("2012-03-14", DateRelation.ONE_DIGIT),
                                              ("2012-04-03", DateRelation.DAY_MONTH_SWAPPED),
                                              ("2021-03-04", DateRelation.TRANSPOSED)])
def test_a_mistyped_date_of_birth_still_ranks_first(typed, relation):
    mistyped = row("Amelia", "Jones", typed)
    found = suggest(person("Amelia", "Jones", "2012-03-04"), row("Amelia", "Jones", "2012-09-21"), mistyped)
    assert found.best.borrower_id == mistyped["id"]
    dob = evidence(found.best, "date_of_birth")
    assert (dob.verdict, dob.detail.split(" (")[0]) == ("partial", relation.value)


def test_dates_are_never_compared_as_strings():
    # Jaro-Winkler would call these 0.9 alike; as dates they are unrelated.
    assert date_relation(date(2012, 3, 4), date(2013, 4, 3)) is DateRelation.DIFFERENT
    assert date(2012, 4, 3) in mistyped_variants(date(2012, 3, 4))
    assert all(v != date(2012, 3, 4) for v in mistyped_variants(date(2012, 3, 4)))


def test_a_mistyped_date_is_found_even_when_the_names_are_mistyped_too():
    # Neither name agrees enough for a name key: only the date-variant key finds it.
    borrower = row("Oilver", "Smtih", "2012-04-03")
    index = SuggestionIndex([borrower])
    assert index.candidates(person("Oliver", "Smith", "2012-03-04")) == {0}


def test_a_married_name_with_a_mistyped_date_is_still_found():
    maiden = row("Sophie", "Jones", "1985-04-03", borrower_type="staff")
    found = suggest(person("Sophie", "Price", "1985-03-04", person_type=PersonType.STAFF), maiden)
    assert found.best.borrower_id == maiden["id"]
    assert evidence(found.best, "surname").verdict == "disagree"


def test_a_forename_mistyped_in_its_first_letter_is_still_found():
    index = SuggestionIndex([row("Feorge", "Shaw", None)])
    assert index.candidates(person("George", "Shaw")) == {0}


def test_a_year_group_ahead_of_the_date_of_birth_rules_a_borrower_out():
    # Born 2012-03-04: Year 8 on 2025-01-15. Year 11 cannot be this child;
    # Year 6 is a year group typed two years ago.
    assert school_year(date(2012, 3, 4), TODAY) == 8
    older = row("Amelia", "Jones", year_group="Year 11")
    stale = row("Amelia", "Jones", "2012-03-05", year_group="Year 6")
    found = suggest(person("Amelia", "Jones"), older, stale)
    assert [s.borrower_id for s in found.ranked] == [stale["id"]]
    assert evidence(found.best, "year_group").weight == 0


def test_a_borrower_linked_to_another_mis_person_is_not_offered_but_warned_about():
    linked = row("Amelia", "Jones", mis_person_type="student", mis_id="999")
    free = row("Amelia", "Jonas", "2012-03-05")
    found = suggest(person("Amelia", "Jones"), linked, free)
    assert [s.borrower_id for s in found.ranked] == [free["id"]]
    assert [(s.borrower_id, s.linked_to) for s in found.linked_elsewhere] == [(linked["id"], "student 999")]


def test_a_borrower_linked_to_this_person_and_a_recycled_one_are_offered():
    incoming = person("Amelia", "Jones")
    own = row("Amelia", "Jones", mis_person_type="student", mis_id=incoming.mis_id, status="recycled")
    found = suggest(incoming, own)
    assert found.best.borrower_id == own["id"] and found.best.status == "recycled"
    assert not found.linked_elsewhere


def test_a_twin_ranks_below_the_right_child_and_is_not_a_probable_duplicate():
    amy, ben = row("Amy", "Brown", gender="F"), row("Ben", "Brown", gender="M")
    found = suggest(person("Amy", "Brown", gender="F"), ben, amy)
    assert [s.borrower_id for s in found.ranked] == [amy["id"], ben["id"]]
    assert not found.ranked[1].probable_duplicate


def test_the_explanation_adds_up_to_the_score():
    found = suggest(person("Alfie", "Smith", upn="A123", gender="M"), row("Alfred", "Smyth", upn="A123", gender="M"))
    assert sum(e.weight for e in found.best.evidence) == pytest.approx(found.best.weight, abs=0.01)
    assert found.best.score == score_from_weight(found.best.weight)
    assert {e.field for e in found.best.evidence} >= {"forename", "surname", "date_of_birth", "upn", "gender",
                                                      "admission_no", "postcode", "year_group"}
    assert evidence(found.best, "upn").verdict == "agree"


def test_a_borrower_with_the_same_surname_and_birthday_but_another_forename_may_be_a_twin():
    scarlett = person("Scarlett", "Clark", legal_forename="Scarlett Rose")
    assert "may be a twin" in twin_doubt(scarlett, row("Tori", "Clark"), None)
    assert twin_doubt(scarlett, row("Scarlett", "Clark"), None) is None
    assert twin_doubt(scarlett, row("Tori", "Clark", "2012-03-05"), None) is None, "another birthday: not a twin"
    # One child's names: the legal one, or a short form.
    assert twin_doubt(person("Alfie", "Smith", legal_forename="Alfred"), row("Alfred", "Smith"), None) is None
    assert twin_doubt(person("Alfie", "Smith"), row("Alfred", "Smith"), None) is None


JESSICA = ("Jessica", "Smith")


@pytest.mark.parametrize("typed, relation", [
    ("Jsesica", NameRelation.TYPED_DIFFERENTLY),  # two letters swapped
    ("Jessoca", NameRelation.TYPED_DIFFERENTLY),  # a neighbouring key
    ("Jesica", NameRelation.TYPED_DIFFERENTLY),  # a letter lost
    ("Jesssica", NameRelation.TYPED_DIFFERENTLY),  # a letter doubled
    ("Jessika", NameRelation.TYPED_DIFFERENTLY),  # spelled as it sounds
    ("Jess", NameRelation.OTHER_FORM),  # the short form she goes by
])
def test_a_forename_typed_differently_on_its_own_is_the_same_child_and_says_so(typed, relation):
    jessica, borrower = person(*JESSICA), row(typed, "Smith")
    forename = compare_forenames(jessica, borrower)
    assert (forename.relation, forename.stored, forename.incoming) == (relation, typed, "Jessica")
    assert twin_doubt(jessica, borrower, None) is None
    assert match_doubt(SuggestionIndex([borrower]), jessica, borrower, [], TODAY) is None


@pytest.mark.parametrize("pupil, typed, twin", [
    ("Jessica", "Jsesica", "Jesica"),
    ("Jessica", "Jess", "Jessie"),  # a short form both could go by
    ("Ella", "Elle", "Ellie"),
    ("Lily", "Lilu", "Lilly"),
    ("Jon", "Jhon", "John"),
    ("Ella", "Ellie", "Ellie"),  # the twin's own name, exactly
])
def test_a_forename_typed_differently_is_a_possible_twin_beside_a_second_person_it_could_as_well_be(
        pupil, typed, twin):
    """The second person shares surname and birthday, and the borrower's
    forename could be theirs as well as the pupil's."""
    child, borrower, second = person(pupil, "Smith"), row(typed, "Smith"), row(twin, "Smith")
    doubt = match_doubt(SuggestionIndex([borrower, second]), child, borrower, [], TODAY)
    assert doubt.kind == TWIN and f"{second['barcode']} ({twin} Smith)" in doubt.reason
    assert f"{typed} / {pupil}" in doubt.reason and "could as well be" in doubt.reason
    incoming = person(twin, "Smith")
    doubt = match_doubt(SuggestionIndex([borrower]), child, borrower, [child, incoming], TODAY)
    assert doubt.kind == TWIN and f"MIS id {incoming.mis_id}" in doubt.reason
    born_elsewhen = [person(twin, "Smith", "2010-01-01"), person(twin, "Smithson")]
    assert match_doubt(SuggestionIndex([borrower, row(twin, "Smith", "2010-01-01")]), child, borrower,
                       born_elsewhen, TODAY) is None, "no one else shares both surname and birthday"


@pytest.mark.parametrize("typed", ["Jsesica", "Jess"])
@pytest.mark.parametrize("twin", [row("Emma", "Smith"), row("Tom", "Smith", gender="M")])
def test_a_typo_beside_a_twin_named_clearly_otherwise_is_the_same_child(typed, twin):
    jessica, borrower = person(*JESSICA, gender="F"), row(typed, "Smith")
    incoming_twin = person(twin["forename"], "Smith", gender=twin["gender"])
    assert match_doubt(SuggestionIndex([borrower, twin]), jessica, borrower, [incoming_twin], TODAY) is None
    assert match_notes(jessica, borrower) == [compare_forenames(jessica, borrower).note]


def test_the_same_forename_is_never_a_twin_even_beside_one():
    jessica, borrower, tom = person(*JESSICA), row("Jessica", "Smith"), row("Tom", "Smith")
    assert match_doubt(SuggestionIndex([borrower, tom]), jessica, borrower, [person("Tom", "Smith")], TODAY) is None


@pytest.mark.parametrize("incoming, stored", [
    (person("Louise", "Smith", gender="F"), row("Louis", "Smith", gender="M")),  # one letter, and a brother
    (person("Alexandra", "Smith", gender="F"), row("Alex", "Smith", gender="M")),  # a short form of his name
    (person("Frances", "Smith"), row("Francis", "Smith")),  # two names of their own, one letter apart
    (person("Alexandra", "Smith"), row("Alexander", "Smith")),
    (person("Alfie", "Smith"), row("Zachary", "Smith")),
    (person("Isabella", "Lewis"), row("Albie", "Lewos")),  # her brother's record, his surname mistyped
])
def test_a_clearly_different_forename_with_the_same_surname_and_birthday_needs_force_on_its_own(incoming, stored):
    assert compare_forenames(incoming, stored).relation is NameRelation.DIFFERENT
    doubt = match_doubt(SuggestionIndex([stored]), incoming, stored, [], TODAY)
    assert doubt.kind == TWIN and f"another forename ({stored['forename']})" in doubt.reason


def test_a_borrower_scoring_too_low_looks_like_a_different_person():
    stranger = row("Maisie", "Okafor", "2010-11-30")
    doubt = match_doubt(SuggestionIndex([stranger]), person("Zachary", "Newman"), stranger, [], TODAY)
    assert doubt.kind == STRANGER and "looks like a different person" in doubt.reason


SAME_SCHOOL_YEAR = f"Year {school_year(date(2012, 3, 4), TODAY)}"


@pytest.mark.parametrize("stored, note", [
    (row("Jessica", "Smith", "2011-11-20", year_group=SAME_SCHOOL_YEAR),
     "date of birth differs: 2011-11-20 / 2012-03-04"),
    (row("Jessica", "Smith", "2012-06-15"), "date of birth differs: 2012-06-15 / 2012-03-04"),
    (row("Jess", "Smyth", "2011-04-01"), "date of birth differs: 2011-04-01 / 2012-03-04"),  # names typed, agreeing
    (row("Jessica", "Harris", "2012-03-04"), "surname differs: Harris / Smith"),  # her surname changed
])
def test_just_one_thing_differing_the_way_people_slip_is_no_stranger_however_low_it_scores(stored, note):
    jessica = person(*JESSICA, gender="F")
    # A school where Jessica is a common name: the forename alone weighs little.
    index = SuggestionIndex([stored, *(row("Jessica", f"Other{n}", "2008-01-01") for n in range(40))])
    assert index.score(jessica, stored, TODAY) < UNLIKELY_MATCH
    assert match_doubt(index, jessica, stored, [], TODAY) is None
    assert note in match_notes(jessica, stored)


@pytest.mark.parametrize("stored", [
    row("Jasmine", "Smith", "2011-11-20"),  # another forename
    row("Jessica", "Harris", "2011-11-20"),  # another surname and another birthday
    row("Jessica", "Smith", "2011-02-20"),  # more than a year out
    row("Jessica", "Smith", "2011-11-20", gender="M"),  # and another gender
    row("Jessica", "Smith", "2011-11-20", upn="B000000000001"),  # and another UPN
    row("Jessica", "Smith", "2011-11-20", year_group="Year 12"),  # and a year group ruling her out
    row("Jessica", "Harris", None),  # another surname, and no birthday to say it changed
])
def test_more_than_one_thing_differing_is_a_stranger(stored):
    jessica = person(*JESSICA, gender="F", upn="A000000000001")
    doubt = match_doubt(SuggestionIndex([stored]), jessica, stored, [], TODAY)
    assert doubt.kind == STRANGER and "looks like a different person" in doubt.reason


def test_a_birthday_out_is_a_stranger_when_another_incoming_person_has_the_borrowers_names_and_birthday():
    """Two Jessica Smiths a few months apart: the borrower is the other one's."""
    jessica, other, stored = person(*JESSICA), person(*JESSICA, dob="2011-11-20"), row("Jess", "Smith", "2011-11-20")
    doubt = match_doubt(SuggestionIndex([stored]), jessica, stored, [jessica, other], TODAY)
    assert doubt.kind == STRANGER and f"those of incoming student Jessica Smith (MIS id {other.mis_id})" in doubt.reason
    assert match_doubt(SuggestionIndex([stored]), other, stored, [jessica, other], TODAY) is None


def test_the_evidence_calls_a_slip_of_the_keys_a_forename_typed_differently():
    found = suggest(person(*JESSICA), row("Jsesica", "Smith"))
    assert evidence(found.best, "forename").detail == "typed differently (jessica / jsesica)"
    assert evidence(suggest(person(*JESSICA), row("Jess", "Smith")).best, "forename").detail.startswith("short form")


def test_score_weighs_one_borrower_as_suggest_would():
    alfred, tori = row("Alfred", "Smyth", gender="M"), row("Tori", "Clark", "2010-01-01")
    index = SuggestionIndex([alfred, tori])
    alfie = person("Alfie", "Smith", legal_forename="Alfred", gender="M")
    assert index.score(alfie, alfred, TODAY) == index.suggest(alfie, TODAY).best.score
    assert index.score(alfie, tori, TODAY) < 5
    assert index.score(alfie, {**alfred, "year_group": "Year 11"}, TODAY) == 0, "ruled out by its year group"


def test_a_stranger_is_not_a_probable_duplicate():
    found = suggest(person("Zachary", "Okafor", "2012-03-04"), row("Maisie", "Okafor", "2010-11-30"))
    assert all(s.score < PROBABLE_DUPLICATE for s in found.ranked)


# --- the fuzzy auto-accept ---------------------------------------------------

def accept(people, borrowers, settings=ON):
    results = match_people(people, LibraryIndex(borrowers))
    return auto_accept(people, results, borrowers, settings, TODAY)


def test_auto_accept_is_off_unless_a_score_is_set():
    borrowers = [row("Alfred", "Smyth", gender="M")]
    incoming = person("Alfie", "Smith", legal_forename="Alfred", gender="M")
    assert accept([incoming], borrowers, IntakeSettings()) == {}
    assert accept([incoming], borrowers) == {incoming.key: borrowers[0]["id"]}


def test_auto_accept_never_where_the_library_has_a_twin():
    amy, ben = row("Amy", "Brown", gender="F"), row("Ben", "Brown", gender="F")
    incoming = person("Amie", "Brown", gender="F")
    assert accept([incoming], [amy]) == {incoming.key: amy["id"]}
    assert accept([incoming], [amy, ben]) == {}


def test_auto_accept_never_where_the_export_has_a_twin():
    amy = row("Amy", "Brown", gender="F")
    incoming, twin = person("Amie", "Brown", gender="F"), person("Zoe", "Brown", gender="F")
    assert accept([incoming, twin], [amy]) == {}


def test_auto_accept_never_takes_a_borrower_a_hand_match_would_doubt_as_a_twin():
    """Tori Quirk, born the same day in the same house, scores high enough; she
    is Scarlett's twin, whose own record the export does not have."""
    details = {"gender": "F", "postcode": "ZZ9 9ZZ", "address": "1 Lane End"}
    tori = row("Tori", "Quirk", **details)
    scarlett = person("Scarlett", "Quirk", **details)
    at_85 = IntakeSettings(auto_accept_score=85, auto_accept_margin=15)
    assert SuggestionIndex([tori]).suggest(scarlett, TODAY).best.score >= at_85.auto_accept_score
    assert accept([scarlett], [tori], at_85) == {}
    typo = row("Scralett", "Quirk", **details)
    assert accept([scarlett], [typo], at_85) == {scarlett.key: typo["id"]}


def test_auto_accept_needs_a_clear_margin_over_the_runner_up():
    borrowers = [row("Alfred", "Smyth", gender="M"), row("Alfred", "Smythe", gender="M")]
    assert accept([person("Alfie", "Smith", legal_forename="Alfred", gender="M")], borrowers) == {}


def test_auto_accept_is_one_to_one():
    borrowers = [row("Alfred", "Smyth", "2012-03-04", gender="M", admission_no="777")]
    first = person("Alfie", "Smith", "2012-03-04", legal_forename="Alfred", gender="M")
    second = person("Alfrid", "Smyth", gender="M", admission_no="000777")
    assert accept([first], borrowers) and accept([second], borrowers)
    assert accept([first, second], borrowers) == {}


def test_auto_accept_only_takes_records_the_certain_tiers_found_nothing_for():
    taken = row("Alfred", "Smith", gender="M")
    incoming = person("Alfred", "Smith", gender="M")
    results = {incoming.key: Unmatched(IntakeReason.CONTESTED)}
    assert auto_accept([incoming], results, [taken], ON, TODAY) == {}
    other = person("Alfred", "Smyth", gender="M")
    results = {other.key: Unmatched(IntakeReason.NO_MATCH)}
    assert auto_accept([other], results, [taken], ON, TODAY) == {other.key: taken["id"]}
    results[incoming.key] = Match(taken["id"], Tier.NAME_DOB)
    assert auto_accept([incoming, other], results, [taken], ON, TODAY) == {}


def test_auto_accept_needs_the_same_date_of_birth_on_both_sides():
    """A name alone never matches, however rare the name and whatever else agrees."""
    details = {"gender": "F", "postcode": "ZZ9 9ZZ", "address": "1 Lane End"}
    incoming = person("Xanthe", "Quirk", **details)
    undated = row("Xanthe", "Quirke", None, **details)
    assert SuggestionIndex([undated]).suggest(incoming, TODAY).best.score >= ON.auto_accept_score
    assert accept([incoming], [undated]) == {}
    mistyped = row("Xanthe", "Quirke", "2012-03-14", **details)
    assert SuggestionIndex([mistyped]).suggest(incoming, TODAY).best.score >= ON.auto_accept_score
    assert accept([incoming], [mistyped]) == {}, "a mistyped date of birth is for a person to judge"
    dated = row("Xanthe", "Quirke", **details)
    assert accept([incoming], [dated]) == {incoming.key: dated["id"]}


def test_auto_accept_needs_a_field_beyond_names_and_date_of_birth_to_agree():
    incoming = person("Alfie", "Smith", legal_forename="Alfred")
    borrower = row("Alfred", "Smyth")
    assert SuggestionIndex([borrower]).suggest(incoming, TODAY).best.score >= ON.auto_accept_score
    assert accept([incoming], [borrower]) == {}
    with_gender = person("Alfie", "Smith", legal_forename="Alfred", gender="M")
    assert accept([with_gender], [{**borrower, "gender": "M"}]) == {with_gender.key: borrower["id"]}


def test_auto_accept_never_where_a_borrower_with_the_surname_has_no_date_of_birth():
    """Ben Brown, typed without a birthday, may be Amy's twin: leave it to a person."""
    amy, ben = row("Amy", "Brown", gender="F"), row("Ben", "Brown", None, gender="M")
    incoming = person("Amie", "Brown", gender="F")
    assert accept([incoming], [amy, row("Ben", "Green", None, gender="M")]) == {incoming.key: amy["id"]}
    assert accept([incoming], [amy, ben]) == {}


@pytest.mark.parametrize("presence, accepted", [(Presence.ON_ROLL, True), (Presence.ARRIVING, True),
                                                (Presence.LEFT, False)])
def test_auto_accept_only_for_people_on_roll_or_arriving(presence, accepted):
    """A guess about a leaver would link a borrower only to recycle it."""
    amy = row("Amy", "Brown", gender="F")
    incoming = person("Amie", "Brown", gender="F", presence=presence)
    assert accept([incoming], [amy]) == ({incoming.key: amy["id"]} if accepted else {})
