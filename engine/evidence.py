"""Field-by-field evidence that an incoming person and a borrower are one child.

Fellegi–Sunter style: each field contributes log2(m/u), where m is how often it
looks like this for the same child and u how often for two different children,
so contributions add up and the list of them is the explanation a librarian
reads. A name that agrees exactly weighs more the rarer it is in the library;
dates of birth are compared as typing mistakes, never by string similarity; a
year group is never evidence, only a veto. ``Comparer`` compares one incoming
person with many borrowers and remembers each distinct name, date and year it
has already weighed, because common names repeat.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Callable, Iterable, Mapping, NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from engine.birthdates import DateRelation, mistyped_variants, school_year
from engine.nicknames import nickname_table
from engine.person import Person, PersonType
from engine.text import name_key, year_number

# A name that agrees exactly: log2(m / frequency), frequency smoothed so that a
# tiny library behaves as if a name were shared by 1 in 400, and capped.
NAME_M = {"forename": 0.9, "surname": 0.95}
NAME_WEIGHT_CAP = 12.0
NAME_PRIOR_COUNT, NAME_PRIOR_SIZE = 1, 400
# A near-agreement weighs that much less than the exact name would, and never
# less than a merely similar spelling.
NAME_LEVELS_BELOW_EXACT = {"short form": 1.0, "one part matches": 1.5, "close spelling": 2.0,
                           "one letter different": 2.5, "sounds alike": 3.0, "short forms of the same name": 3.0}
NAME_FIXED = {"forename": {"similar spelling": 1.0, "initial only": 0.5, "different": -7.0},
              "surname": {"similar spelling": 1.0, "initial only": 0.0, "different": -5.0}}
SWAP_PENALTY = 1.0
# A forename this close to another is the other mistyped (``typed_differently``):
# one slip (a letter swapped with the next, changed, lost or added), or two in
# a name of LONG_NAME letters or more or where the two sound alike (Rosie / Rosy).
TYPING_SLIPS, LONG_NAME, LONG_NAME_SLIPS = 1, 8, 2
TYPED_DIFFERENTLY = "typed differently"
# The name levels a typing slip can reach: a nickname or a shared part says more.
SPELLING_LEVELS = frozenset({"close spelling", "one letter different", "sounds alike", "similar spelling"})
DATE_WEIGHTS = {DateRelation.SAME: 11.0, DateRelation.DAY_MONTH_SWAPPED: 4.5, DateRelation.TRANSPOSED: 2.5,
                DateRelation.ONE_DIGIT: 1.5, DateRelation.DIFFERENT: -4.5}
# A borrower's year group may be stale (typed years ago) but never ahead of the
# child by more than a year held back or moved up, nor staler than a whole
# school career (Reception to Year 13).
YEAR_AHEAD_ALLOWED = 1
YEARS_STALE_ALLOWED = 14

AGREE, PARTIAL, DISAGREE, MISSING = "agree", "partial", "disagree", "missing"


class FieldEvidence(NamedTuple):
    """One field's part in a score: its weight is what it added or took away."""
    field: str
    verdict: str  # agree | partial | disagree | missing
    weight: float
    detail: str


def _fixed(field: str, **verdicts: tuple[float, str]) -> dict[str, FieldEvidence]:
    """The evidence a field can give whose detail never varies, made once."""
    made = {verdict: FieldEvidence(field, verdict, weight, detail) for verdict, (weight, detail) in verdicts.items()}
    made.setdefault(MISSING, FieldEvidence(field, MISSING, 0.0, "not recorded"))
    return made


UPN = _fixed("upn", agree=(16.0, "same UPN"), disagree=(-3.0, "different UPN"))
ADMISSION = _fixed("admission_no", agree=(12.0, "same admission number"),
                   disagree=(-1.5, "different admission number"))
# Brothers and sisters share a postcode, and they are the candidates it must tell apart.
POSTCODE = _fixed("postcode", agree=(3.0, "same postcode"), partial=(1.0, "same postcode district"),
                  disagree=(-1.5, "different postcode"))
ADDRESS = _fixed("address", agree=(3.0, "same address"), partial=(1.0, "similar address"),
                 disagree=(-1.0, "different address"))
GENDER = _fixed("gender", agree=(0.9, "same"), disagree=(-4.0, "different"))
# A staff member typed in as a student, or the other way round, happens.
BORROWER_TYPE = _fixed("borrower_type", agree=(0.0, "same"), disagree=(-2.0, "staff and student"))
YEAR_GROUP = _fixed("year_group", agree=(0.0, "fits the date of birth"),
                    partial=(0.0, "typed in an earlier school year"))
YEAR_NOT_CHECKED = FieldEvidence("year_group", MISSING, 0.0, "not checked")
DATE_MISSING = FieldEvidence("date_of_birth", MISSING, 0.0, "not recorded")
DATE_SAME = FieldEvidence("date_of_birth", AGREE, DATE_WEIGHTS[DateRelation.SAME], DateRelation.SAME.value)
# The fields that count only when both records have them, and the most each can add.
OPTIONAL_FIELDS = (("upns", UPN), ("admission_no", ADMISSION), ("postcode", POSTCODE), ("address", ADDRESS),
                   ("gender", GENDER))

key_of: Callable[[str], str] = lru_cache(maxsize=200_000)(name_key)
year_of: Callable[[object], int | None] = lru_cache(maxsize=1_000)(year_number)


@lru_cache(maxsize=200_000)
def sound_key(key: str) -> str:
    """A crude English sound-alike form: first letter, then the consonants,
    runs collapsed ("amie" and "amy", "smith" and "smyth" agree)."""
    if not key:
        return ""
    key = key.replace("ph", "f").replace("c", "k").replace("q", "k").replace("z", "s")
    rest = [ch for ch in key[1:] if ch not in "aeiouyhw "]
    collapsed = [key[0]]
    for ch in rest:
        if ch != collapsed[-1]:
            collapsed.append(ch)
    return "".join(collapsed)


@dataclass(slots=True)
class Side:
    """One record, borrower or incoming person, in the form it is compared in."""
    forenames: tuple[str, ...]
    surnames: tuple[str, ...]
    dob: date | None
    upns: tuple[str, ...]
    admission_no: str | None
    postcode: str | None
    address: str | None
    gender: str | None
    year: int | None
    kind: str
    # Which of the optional fields (see OPTIONAL_FIELDS) this record has, as bits.
    present: int = 0

    @property
    def initials(self) -> set[str]:
        return {k[0] for k in (*self.forenames, *self.surnames)}


def _names(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for k in (key_of(v) for v in values if v) if k))


def _side(forenames: Iterable[object], surnames: Iterable[object], dob: date | None, upns: Iterable[object],
          admission_no: object, postcode: object, address: object, gender: object, year_group: object,
          kind: str) -> Side:
    # Admission numbers are compared without padding ("000123" is "123").
    admission = str(admission_no).strip().lstrip("0") or None if admission_no else None
    side = Side(_names(forenames), _names(surnames), dob, tuple(u for u in upns if u), admission,
                str(postcode).replace(" ", "").upper() or None if postcode else None,
                name_key(str(address)) if address else None, str(gender) if gender else None,
                year_of(year_group) if year_group else None, kind)
    side.present = sum(1 << bit for bit, (attribute, _) in enumerate(OPTIONAL_FIELDS) if getattr(side, attribute))
    return side


def person_side(person: Person) -> Side:
    return _side((person.preferred_forename, person.legal_forename),
                 (person.preferred_surname, person.legal_surname), person.date_of_birth,
                 (person.upn, person.former_upn), person.admission_no, person.postcode, person.address,
                 person.gender, person.year_group, person.person_type.value)


def borrower_side(row: Mapping) -> Side:
    return _side((row["forename"], row["legal_forename"], row["preferred_forename"]),
                 (row["surname"], row["legal_surname"], row["preferred_surname"]), row["date_of_birth"],
                 (row["upn"],), row["admission_no"], row["postcode"], row["address"], row["gender"],
                 row["year_group"], row["borrower_type"])


class NameWeights:
    """Name evidence for one library: an exact agreement weighs more the rarer
    the name is there."""

    def __init__(self, forenames: Mapping[str, int], surnames: Mapping[str, int], size: int):
        self.counts = {"forename": forenames, "surname": surnames}
        self.size = size
        self.made: dict[tuple[str, str], float] = {}

    def exact(self, field: str, name: str) -> float:
        weight = self.made.get((field, name))
        if weight is None:
            frequency = (self.counts[field].get(name, 0) + NAME_PRIOR_COUNT) / (self.size + NAME_PRIOR_SIZE)
            weight = self.made[(field, name)] = round(min(NAME_WEIGHT_CAP, math.log2(NAME_M[field] / frequency)), 2)
        return weight

    def evidence(self, field: str, incoming: tuple[str, ...], stored: tuple[str, ...]) -> FieldEvidence:
        if not incoming or not stored:
            return FieldEvidence(field, MISSING, 0.0, "not recorded")
        for name in incoming:
            if name in stored:
                return FieldEvidence(field, AGREE, self.exact(field, name), f"same ({name})")
        best = None
        for a in incoming:
            for b in stored:
                level = name_level(field, a, b)
                below = NAME_LEVELS_BELOW_EXACT.get(level)
                weight = NAME_FIXED[field][level] if below is None else \
                    max(self.exact(field, a) - below, NAME_FIXED[field]["similar spelling"])
                if best is None or weight > best[0]:
                    best = (weight, level, a, b)
        weight, level, a, b = best
        if field == "forename" and level in SPELLING_LEVELS and typed_differently(a, b):
            level = TYPED_DIFFERENTLY
        return FieldEvidence(field, DISAGREE if weight < 0 else PARTIAL, weight, f"{level} ({a} / {b})")


class Comparer:
    """Weighs one incoming person against borrowers, one at a time."""

    def __init__(self, probe: Side, weights: NameWeights, today: date):
        self.probe, self.weights = probe, weights
        self.expected_year = school_year(probe.dob, today) if probe.dob else probe.year
        self.mistyped = mistyped_variants(probe.dob) if probe.dob else {}
        self.dates: dict[date | None, FieldEvidence] = {}
        self.years: dict[tuple, FieldEvidence | None] = {}
        self.names: dict[tuple, FieldEvidence] = {}
        self.bounds: dict[int, float] = {}

    def evidence(self, side: Side) -> tuple[FieldEvidence, ...] | None:
        """The per-field evidence, or None if the year group rules the borrower out."""
        core = self.core(side)
        return None if core is None else self.complete(core, side)

    def core(self, side: Side) -> tuple[FieldEvidence, ...] | None:
        """Names, date of birth and year group: cheap, because remembered; None
        if the year group rules the borrower out."""
        year_key = (side.kind, side.year)
        if year_key not in self.years:
            self.years[year_key] = self._year(side)
        year = self.years[year_key]
        if year is None:
            return None
        dob = self.dates.get(side.dob)
        if dob is None:
            dob = self.dates[side.dob] = self._date(side.dob)
        return (*self._names(side), dob, year)

    def bound(self, side: Side) -> float:
        """The most the remaining fields could add for this borrower."""
        bound = self.bounds.get(side.present)
        if bound is None:
            shared = side.present & self.probe.present
            bound = self.bounds[side.present] = sum(
                made[AGREE].weight for bit, (_, made) in enumerate(OPTIONAL_FIELDS) if shared & (1 << bit))
        return bound

    def complete(self, core: tuple[FieldEvidence, ...], side: Side) -> tuple[FieldEvidence, ...]:
        probe = self.probe
        forename, surname, dob, year = core
        return (forename, surname, dob, _upn(probe, side), _admission(probe, side), _postcode(probe, side),
                _address(probe, side), _gender(probe, side), _kind(probe, side), year)

    def _year(self, side: Side) -> FieldEvidence | None:
        """Year group is checked, never counted: None when it rules the borrower out."""
        if PersonType.STUDENT != self.probe.kind or PersonType.STUDENT != side.kind or side.year is None \
                or self.expected_year is None:
            return YEAR_NOT_CHECKED
        expected = self.expected_year
        if not expected - YEARS_STALE_ALLOWED <= side.year <= expected + YEAR_AHEAD_ALLOWED:
            return None
        return YEAR_GROUP[AGREE] if side.year >= expected - YEAR_AHEAD_ALLOWED else YEAR_GROUP[PARTIAL]

    def _date(self, stored: date | None) -> FieldEvidence:
        if not self.probe.dob or not stored:
            return DATE_MISSING
        if stored == self.probe.dob:
            return DATE_SAME
        return _date_evidence(self.mistyped.get(stored, DateRelation.DIFFERENT), stored)

    def _names(self, side: Side) -> tuple[FieldEvidence, FieldEvidence]:
        probe = self.probe
        name = self._name
        forename = name("forename", probe.forenames, side.forenames)
        surname = name("surname", probe.surnames, side.surnames)
        if forename.weight + surname.weight >= 0 or not (probe.forenames and probe.surnames):
            return forename, surname
        # Typed the other way round?
        crossed_forename = name("forename", probe.forenames, side.surnames)
        crossed_surname = name("surname", probe.surnames, side.forenames)
        if min(crossed_forename.weight, crossed_surname.weight) <= 0 or \
                crossed_forename.weight + crossed_surname.weight - SWAP_PENALTY <= forename.weight + surname.weight:
            return forename, surname
        return _swapped(crossed_forename, "surname"), _swapped(crossed_surname, "forename")

    def _name(self, field: str, incoming: tuple[str, ...], stored: tuple[str, ...]) -> FieldEvidence:
        """Remembered: the same few names come up again and again."""
        key = (field, stored)
        evidence = self.names.get(key)
        if evidence is None:
            evidence = self.names[key] = self.weights.evidence(field, incoming, stored)
        return evidence

@lru_cache(maxsize=200_000)
def name_level(field: str, a: str, b: str) -> str:
    """How two different (``name_key``) names are alike, from the strongest kind
    down. Remembered: common names meet each other again and again."""
    if field == "forename":
        relation = nickname_table().relation(a, b)
        if relation is not None:
            return relation.value
    if (" " in a or " " in b) and set(a.split()) & set(b.split()):
        return "one part matches"
    similarity = JaroWinkler.normalized_similarity(a, b)
    if similarity >= 0.92:
        return "close spelling"
    if OSA.distance(a, b) == 1:
        return "one letter different"
    if similarity >= 0.75 and sound_key(a) == sound_key(b):
        return "sounds alike"
    if similarity >= 0.85:
        return "similar spelling"
    if (len(a) == 1 or len(b) == 1) and a[0] == b[0]:
        return "initial only"
    return "different"


@lru_cache(maxsize=200_000)
def typed_differently(a: str, b: str) -> bool:
    """Is one (``name_key``) forename the other one mistyped ("jsesica" /
    "jessica") or spelled as it sounds ("poppie" / "poppy")? Not when the
    nickname table knows both as names of their own and unrelated (Louis /
    Louise, Alexander / Alexandra): parents do give twins names a letter or
    two apart."""
    long_or_alike = min(len(a), len(b)) >= LONG_NAME or sound_key(a) == sound_key(b)
    slips = LONG_NAME_SLIPS if long_or_alike else TYPING_SLIPS
    if a == b or OSA.distance(a, b, score_cutoff=slips) > slips:
        return False
    table = nickname_table()
    return not (table.knows(a) and table.knows(b) and table.relation(a, b) is None)


@lru_cache(maxsize=100_000)
def _date_evidence(relation: DateRelation, stored: date) -> FieldEvidence:
    """Made once per date and relation: a library has only a few thousand birthdays."""
    verdict = DISAGREE if relation is DateRelation.DIFFERENT else PARTIAL
    return FieldEvidence("date_of_birth", verdict, DATE_WEIGHTS[relation], f"{relation.value} ({stored.isoformat()})")


def _swapped(evidence: FieldEvidence, typed_as: str) -> FieldEvidence:
    return FieldEvidence(evidence.field, PARTIAL, round(evidence.weight - SWAP_PENALTY / 2, 2),
                         f"{evidence.detail}, typed as the {typed_as}")


def _upn(probe: Side, side: Side) -> FieldEvidence:
    if not probe.upns or not side.upns:
        return UPN[MISSING]
    return UPN[AGREE] if any(u in side.upns for u in probe.upns) else UPN[DISAGREE]


def _admission(probe: Side, side: Side) -> FieldEvidence:
    if not probe.admission_no or not side.admission_no:
        return ADMISSION[MISSING]
    return ADMISSION[AGREE] if probe.admission_no == side.admission_no else ADMISSION[DISAGREE]


def _postcode(probe: Side, side: Side) -> FieldEvidence:
    if not probe.postcode or not side.postcode:
        return POSTCODE[MISSING]
    if probe.postcode == side.postcode:
        return POSTCODE[AGREE]
    # A UK postcode's district (outward code) is all but its last three characters.
    if len(probe.postcode) >= 5 and probe.postcode[:-3] == side.postcode[:-3]:
        return POSTCODE[PARTIAL]
    return POSTCODE[DISAGREE]


def _address(probe: Side, side: Side) -> FieldEvidence:
    if not probe.address or not side.address:
        return ADDRESS[MISSING]
    similarity = token_set_ratio(probe.address, side.address)
    return ADDRESS[AGREE if similarity >= 90 else PARTIAL if similarity >= 70 else DISAGREE]


def _gender(probe: Side, side: Side) -> FieldEvidence:
    if not probe.gender or not side.gender:
        return GENDER[MISSING]
    return GENDER[AGREE] if probe.gender == side.gender else GENDER[DISAGREE]


def _kind(probe: Side, side: Side) -> FieldEvidence:
    return BORROWER_TYPE[AGREE] if probe.kind == side.kind else BORROWER_TYPE[DISAGREE]
