"""Intake suggestions: which existing borrowers might an incoming person be, and why.

``SuggestionIndex(borrowers)`` indexes the library once by several cheap
blocking keys; ``index.suggest(person)`` scores the borrowers that share any key
with the person, field by field (``engine.evidence``), and ranks them with a
0–100 score and the per-field explanation. Both active and recycled borrowers
are offered. A borrower linked to another MIS person is never offered, only
reported as a warning when it would have ranked, unless that person has gone
from the MIS (``link_gone``: recycled as no longer in a full export, or
deleted there): then it is offered, marked with who it was linked to
(``absent_link``), and matching it moves the link. The automatic fuzzy match
never takes one: moving a link is a person's decision. ``index.score`` weighs one
borrower named by hand, and ``match_doubt`` says why a person should think
twice before matching it: it may be the person's twin, or a stranger.
``auto_accept`` is the optional fuzzy auto-accept the sync may apply.
``suggest_one`` suggests for one person without indexing the whole library,
exactly as the index would (``mislink intake show``). Pure:
the library comes in as plain rows (as in ``Snapshot.borrowers``), nothing is
read or written here.

Twins, one rule everywhere: a borrower with the person's surname and date of
birth is taken for a twin or sibling only when its forename is clearly
another name, or when a real second person (another borrower, another
incoming record) shares that surname and date of birth and has a forename the
borrower's could as well be (Ellie beside Ella, Jon beside John). A forename
typed differently (``engine.evidence.typed_differently``) or in another form
(a short form, a nickname) is otherwise the same child, even beside a twin
named clearly otherwise, and the explanation says so ("forename typed
differently: Jsesica / Jessica").

Strangers: a borrower scoring below UNLIKELY_MATCH looks like someone else,
unless just one thing tells it from the person and that is a slip people make
(``one_difference``): the names agree and the date of birth is under a year
out, or the forename and date of birth agree and the surname has changed.
Nothing else may disagree, and no other incoming person may have the
borrower's names and date of birth.

Blocking keys, each cheap to look up, so that one record against 100,000
borrowers scores a few hundred at most: date of birth; each mistyped variant of
it (one digit, two digits swapped, day/month swapped) with the initials;
surname prefix + forename initial + birth year (a year either way); whole
surname + the forename's first two letters; forename by nickname root + the
surname's first two or last three letters; all of those with forename and
surname swapped; UPN; admission number; postcode + an initial.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from enum import Enum
from itertools import chain
from typing import Callable, Iterable, Mapping, Sequence

from engine.birthdates import mistyped_variants
from engine.config import IntakeSettings
from engine.evidence import (
    AGREE,
    DISAGREE,
    Comparer,
    FieldEvidence,
    NameWeights,
    Side,
    borrower_side,
    key_of,
    person_side,
    typed_differently,
)
from engine.matching import IntakeReason, Match, Unmatched, link_gone, linked_elsewhere, linked_key
from engine.nicknames import NicknameTable, nickname_table
from engine.person import Person, PersonKey, Presence

# A score at or above this says "probably already a borrower": transferring the
# record as new then needs --force.
PROBABLE_DUPLICATE = 60
# A borrower matched by hand that scores below this looks like a slip (the
# wrong barcode, the wrong child): the match then needs force.
UNLIKELY_MATCH = 40
# Unless it is the person with just one thing typed differently
# (``one_difference``): a date of birth less than this many days out is a
# month or the year typed wrong. A year or more out is another child as often.
NEAR_BIRTHDAY_DAYS = 365
# The fields that say who a child is; any other that disagrees says a stranger.
IDENTIFYING = frozenset({"forename", "surname", "date_of_birth"})
SHOWN = 5
# A borrower linked to someone else is worth a warning only if it looks at
# least this much like the person.
WARN_FROM = 30
# A blocking key shared by more borrowers than this says nothing (a placeholder
# date of birth typed for everyone, say) and is not used.
MAX_BLOCK = 2000
# Score = 100 / (1 + 2^-((weight - MIDPOINT) / SPREAD)): a borrower whose
# evidence sums to MIDPOINT is an even bet.
SCORE_MIDPOINT, SCORE_SPREAD = 13.0, 2.0
# Auto-accept only people the school has or is about to have: a guess about a
# leaver would link a borrower only to recycle it.
AUTO_ACCEPTED = frozenset({Presence.ON_ROLL, Presence.ARRIVING})
# Besides the names and an exact date of birth, an automatic match needs one
# of these to agree: a score made of names and a birthday alone is not enough.
CORROBORATING = frozenset({"upn", "admission_no", "postcode", "address", "gender"})


@dataclass(frozen=True)
class Suggestion:
    borrower_id: int
    barcode: str
    name: str
    status: str
    score: int
    weight: float
    evidence: tuple[FieldEvidence, ...]
    # For a borrower linked to another MIS person: who that is.
    linked_to: str | None = None
    # For a borrower offered although linked to another MIS person, who has
    # gone from the MIS: who that was. Matching it moves the link.
    absent_link: str | None = None

    @property
    def probable_duplicate(self) -> bool:
        return self.score >= PROBABLE_DUPLICATE


@dataclass(frozen=True)
class Suggestions:
    ranked: tuple[Suggestion, ...]
    # Borrowers that would have ranked but are linked to another MIS person.
    linked_elsewhere: tuple[Suggestion, ...]

    @property
    def best(self) -> Suggestion | None:
        return self.ranked[0] if self.ranked else None

    @property
    def best_score(self) -> int:
        return self.ranked[0].score if self.ranked else 0


class NameRelation(Enum):
    """How a borrower's forename or surname stands to an incoming person's, strongest first."""
    SAME = "the same"
    # A forename's short form or nickname (nickname table); one part of a double-barrelled surname.
    OTHER_FORM = "in another form"
    TYPED_DIFFERENTLY = "typed differently"
    DIFFERENT = "differs"


@dataclass(frozen=True)
class NameComparison:
    field: str  # forename or surname
    relation: NameRelation
    # The two names, as typed, that are most alike.
    stored: str
    incoming: str

    @property
    def note(self) -> str:
        return f"{self.field} {self.relation.value}: {self.stored} / {self.incoming}"


@dataclass(frozen=True)
class MatchDoubt:
    """Why matching a person to a borrower needs force."""
    kind: str  # TWIN or STRANGER
    reason: str


TWIN, STRANGER = "twin", "stranger"


def score_from_weight(weight: float) -> int:
    return round(100 / (1 + 2 ** (-(weight - SCORE_MIDPOINT) / SCORE_SPREAD)))


def _name_keys(forenames: Iterable[str], surnames: Iterable[str], years: Iterable[int | None],
               nicknames: NicknameTable) -> set[tuple]:
    keys = set()
    for s in surnames:
        for f in forenames:
            keys.update(("sfy", s[:3], f[0], year) for year in years)
            keys.add(("sf", s, f[:2]))
            keys.add(("sl", s, f[-3:]))
            for root in nicknames.roots(f):
                keys.add(("fs", root, s[:2]))
                keys.add(("fe", root, s[-3:]))
    return keys


def _date_keys(dates: Iterable[date], forenames: tuple[str, ...], surnames: tuple[str, ...],
               nicknames: NicknameTable) -> set[tuple]:
    initials = {(f[0], s[0]) for f in forenames for s in surnames}
    roots = {root for f in forenames for root in nicknames.roots(f)}
    return {("di", day, *pair) for day in dates for pair in initials} | \
        {("dr", day, root) for day in dates for root in roots}


def _id_keys(side: Side) -> set[tuple]:
    keys = {("u", u) for u in side.upns}
    if side.admission_no:
        keys.add(("a", side.admission_no))
    if side.postcode:
        keys.update(("p", side.postcode, i) for i in side.initials)
    return keys


def borrower_keys(side: Side, nicknames: NicknameTable) -> set[tuple]:
    keys = _name_keys(side.forenames, side.surnames, (side.dob.year if side.dob else None,), nicknames)
    if side.dob:
        keys.add(("d", side.dob))
        keys |= _date_keys((side.dob,), side.forenames, side.surnames, nicknames)
    return keys | _id_keys(side)


def probe_keys(side: Side, nicknames: NicknameTable) -> set[tuple]:
    """The keys a borrower typed with mistakes would still share with this
    person: a mistyped date of birth, a year out, forename and surname swapped."""
    years = (side.dob.year - 1, side.dob.year, side.dob.year + 1, None) if side.dob else (None,)
    keys = _name_keys(side.forenames, side.surnames, years, nicknames)
    keys |= _name_keys(side.surnames, side.forenames, years, nicknames)
    if side.dob:
        keys.add(("d", side.dob))
        variants = mistyped_variants(side.dob)
        keys |= _date_keys(variants, side.forenames, side.surnames, nicknames)
        keys |= _date_keys(variants, side.surnames, side.forenames, nicknames)
    return keys | _id_keys(side)


class SuggestionIndex:
    """The library indexed for suggestions; build once, ask many times.
    ``name_weights`` are the library's own (``suggest_one`` indexes only a
    part of it); by default, those of ``borrowers``."""

    def __init__(self, borrowers: Iterable[Mapping], name_weights: NameWeights | None = None):
        self.rows: list[Mapping] = []
        self.sides: list[Side] = []
        self.positions: dict[int, int] = {}
        self.blocks: dict[tuple, list[int]] = defaultdict(list)
        nicknames = nickname_table()
        for row in borrowers:
            side = borrower_side(row)
            position = len(self.rows)
            self.positions[row["id"]] = position
            self.rows.append(row)
            self.sides.append(side)
            for key in borrower_keys(side, nicknames):
                self.blocks[key].append(position)
        sides = self.sides
        if name_weights is None:
            name_weights = NameWeights(Counter(chain.from_iterable(s.forenames for s in sides)),
                                       Counter(chain.from_iterable(s.surnames for s in sides)), len(sides))
        self.name_weights = name_weights
        # (date of birth, surname) -> the borrowers' positions: more than one means twins.
        self.birthdays: dict[tuple, list[int]] = defaultdict(list)
        for position, side in enumerate(sides):
            for key in birthday_keys(side):
                self.birthdays[key].append(position)
        # surname -> how many borrowers with no date of birth: any of them may be a twin.
        self.undated = Counter(surname for s in sides if not s.dob for surname in s.surnames)

    def candidates(self, person: Person) -> set[int]:
        """Positions of the borrowers worth scoring for this person."""
        return self._candidates(person_side(person))

    def _candidates(self, probe: Side) -> set[int]:
        found: set[int] = set()
        for key in probe_keys(probe, nickname_table()):
            block = self.blocks.get(key)
            if block and len(block) <= MAX_BLOCK:
                found.update(block)
        return found

    def suggest(self, person: Person, today: date | None = None, limit: int = SHOWN) -> Suggestions:
        probe = person_side(person)
        comparer = Comparer(probe, self.name_weights, today or date.today())
        scored = []
        for weight, position, evidence in self._scored(person, comparer, limit):
            scored.append((-weight, self.rows[position]["barcode"], position, evidence))
        scored.sort(key=lambda item: item[:2])
        ranked, warnings = [], []
        for weight, _, position, evidence in scored:
            if len(ranked) >= limit:
                break
            row = self.rows[position]
            if not offered(row, person):
                if score_from_weight(-weight) >= WARN_FROM:
                    warnings.append(_suggestion(row, -weight, evidence, link_label(row)))
            elif linked_elsewhere(row, person):
                ranked.append(_suggestion(row, -weight, evidence, absent_link=link_label(row)))
            else:
                ranked.append(_suggestion(row, -weight, evidence))
        return Suggestions(tuple(ranked), tuple(warnings))

    def _scored(self, person: Person, comparer: Comparer, limit: int) -> list[tuple]:
        """(weight, position, evidence) for every candidate that could make the
        list. Names and date of birth are weighed for all of them; the other
        fields only while a candidate could still beat the ``limit``-th best
        unlinked one found so far, in order of what it could reach."""
        reachable = []
        for position in self._candidates(comparer.probe):
            side = self.sides[position]
            core = comparer.core(side)
            if core is not None:
                weight = core[0].weight + core[1].weight + core[2].weight
                reachable.append((round(weight + comparer.bound(side), 6), weight, position, core))
        reachable.sort(key=lambda item: -item[0])
        scored, best_unlinked = [], []
        for most, weight, position, core in reachable:
            if len(best_unlinked) >= limit and most < best_unlinked[0]:
                break
            side = self.sides[position]
            evidence = comparer.complete(core, side)
            # Rounded, so that equal evidence ties (and the barcode decides)
            # whatever order the weights were added in.
            total = round(weight + sum(e.weight for e in evidence[3:]), 6)
            scored.append((total, position, evidence))
            if offered(self.rows[position], person):
                heapq.heappush(best_unlinked, total)
                if len(best_unlinked) > limit:
                    heapq.heappop(best_unlinked)
        return scored

    def score(self, person: Person, row: Mapping, today: date | None = None) -> int:
        """How much this one borrower, as it is now, looks like the person
        (0 to 100; 0 when its year group rules it out), found or not."""
        evidence = self.evidence(person, row, today)
        return 0 if evidence is None else score_from_weight(sum(e.weight for e in evidence))

    def evidence(self, person: Person, row: Mapping, today: date | None = None) -> tuple[FieldEvidence, ...] | None:
        """This one borrower's per-field evidence, or None when its year group rules it out."""
        return Comparer(person_side(person), self.name_weights, today or date.today()).evidence(borrower_side(row))

    def row(self, borrower_id: int) -> Mapping:
        return self.rows[self.positions[borrower_id]]

    def sharing_birthday(self, person: Person, row: Mapping) -> list[Mapping]:
        """The borrowers other than this one with the person's, or this
        borrower's, surname and date of birth."""
        keys = birthday_keys(person_side(person)) | birthday_keys(borrower_side(row))
        found = {p for key in keys for p in self.birthdays.get(key, ()) if self.rows[p]["id"] != row["id"]}
        return [self.rows[p] for p in sorted(found)]

    def possible_twin(self, person: Person, borrower_id: int) -> bool:
        """Could this person, or this borrower, have a twin in the library:
        another borrower with the same surname and date of birth, or with the
        same surname and no date of birth to tell them apart?"""
        if self.sharing_birthday(person, self.row(borrower_id)):
            return True
        side, probe = self.sides[self.positions[borrower_id]], person_side(person)
        undated_self = set() if side.dob else set(side.surnames)
        return any(self.undated[s] - (s in undated_self) > 0 for s in {*side.surnames, *probe.surnames})


# What ``suggest_one`` reads of every borrower: what ``borrower_side`` reads, and the id.
SCANNED = ("id", "forename", "legal_forename", "preferred_forename", "surname", "legal_surname",
           "preferred_surname", "date_of_birth", "upn", "admission_no", "postcode", "address", "gender",
           "year_group", "borrower_type")


def suggest_one(person: Person, scanned: Iterable[Mapping], rows_of: Callable[[list[int]], Iterable[Mapping]],
                today: date | None = None, limit: int = SHOWN) -> Suggestions:
    """Exactly ``SuggestionIndex(library).suggest(person, today, limit)``,
    for one person, without indexing the whole library: ``scanned`` is every
    borrower in its ``SCANNED`` columns, read once to count its names for the
    name weights; only those that could share a blocking key with the person
    (``_Nearby``) are read whole (``rows_of`` their ids) and indexed. A
    borrower in the block of one of the person's keys shares that key, so
    each such block is whole and MAX_BLOCK rules on it as it would on the
    whole library; the person's names are all the name weights are asked
    about."""
    probe = person_side(person)
    nearby = _Nearby(probe)
    forenames, surnames = Counter(), Counter()
    kept, size = [], 0
    for row in scanned:
        side = borrower_side(row)
        size += 1
        for name in probe.forenames:
            if name in side.forenames:
                forenames[name] += 1
        for name in probe.surnames:
            if name in side.surnames:
                surnames[name] += 1
        if nearby(side):
            kept.append(row["id"])
    index = SuggestionIndex(rows_of(kept), NameWeights(forenames, surnames, size))
    return index.suggest(person, today, limit)


class _Nearby:
    """Could a borrower share one of this person's blocking keys
    (``probe_keys``)? Never no when it could: each key needs one of a date of
    birth the person's keys name, a surname starting with the first three
    letters of one of the person's names (forename or surname: the keys are
    made both ways round), a forename sharing a nickname root with one of
    them, or an id or postcode of theirs. Much cheaper than the keys."""

    def __init__(self, probe: Side):
        names = (*probe.forenames, *probe.surnames)
        self.dates = {probe.dob, *mistyped_variants(probe.dob)} if probe.dob else set()
        self.prefixes = {name[:3] for name in names}
        self.roots = {root for name in names for root in nickname_table().roots(name)}
        self.rooted: dict[str, bool] = {}
        self.probe = probe

    def __call__(self, side: Side) -> bool:
        probe = self.probe
        return side.dob in self.dates or any(s[:3] in self.prefixes for s in side.surnames) \
            or any(self._rooted(f) for f in side.forenames) or not set(side.upns).isdisjoint(probe.upns) \
            or side.admission_no is not None and side.admission_no == probe.admission_no \
            or side.postcode is not None and side.postcode == probe.postcode

    def _rooted(self, forename: str) -> bool:
        rooted = self.rooted.get(forename)
        if rooted is None:
            rooted = self.rooted[forename] = not self.roots.isdisjoint(nickname_table().roots(forename))
        return rooted


def offered(row: Mapping, person: Person) -> bool:
    """May this borrower be matched to the person: it is linked to nobody
    else, or only to someone who has gone from the MIS (``link_gone``)?"""
    return not linked_elsewhere(row, person) or link_gone(row)


def birthday_keys(side: Side) -> set[tuple]:
    """(date of birth, surname) for each of a record's surnames: what twins share."""
    return {(side.dob, surname) for surname in side.surnames} if side.dob else set()


def compare_forenames(person: Person, row: Mapping) -> NameComparison:
    """The closest any of the borrower's forenames comes to one of the
    person's (legal or preferred). A short form or a slip of the keys is not
    taken as the same child's name where the recorded genders differ (Louis /
    Louise, Alex / Alexandra): that is a brother and a sister."""
    return _closest_forenames(_row_forenames(row), _typed(person.preferred_forename, person.legal_forename),
                              {person.gender, row["gender"]})


def compare_surnames(person: Person, row: Mapping) -> NameComparison:
    """The closest any of the borrower's surnames comes to one of the person's."""
    return _closest("surname", _typed(row["surname"], row["legal_surname"], row["preferred_surname"]),
                    _typed(person.preferred_surname, person.legal_surname), _surname_relation)


def _row_forenames(row: Mapping) -> list[str]:
    return _typed(row["forename"], row["legal_forename"], row["preferred_forename"])


def _typed(*names: object) -> list[str]:
    """The distinct names given, as typed, blanks left out."""
    return [str(n) for n in dict.fromkeys(names) if n]


def _closest_forenames(stored: list[str], incoming: list[str], genders: set) -> NameComparison:
    best = _closest("forename", stored, incoming, _forename_relation)
    if best.relation is not NameRelation.SAME and genders >= {"M", "F"}:
        return NameComparison("forename", NameRelation.DIFFERENT, best.stored, best.incoming)
    return best


def _closest(field: str, stored: list[str], incoming: list[str],
             relation_of: Callable[[str, str], NameRelation]) -> NameComparison:
    """The strongest relation between any stored and any incoming name."""
    best = NameComparison(field, NameRelation.DIFFERENT, stored[0] if stored else "", incoming[0] if incoming else "")
    order = list(NameRelation)
    for b in stored:
        for a in incoming:
            relation = relation_of(key_of(a), key_of(b))
            if order.index(relation) < order.index(best.relation):
                best = NameComparison(field, relation, b, a)
    return best


def _forename_relation(a: str, b: str) -> NameRelation:
    return NameRelation.SAME if a == b else NameRelation.OTHER_FORM if nickname_table().relation(a, b) else \
        NameRelation.TYPED_DIFFERENTLY if typed_differently(a, b) else NameRelation.DIFFERENT


def _surname_relation(a: str, b: str) -> NameRelation:
    return NameRelation.SAME if a == b else NameRelation.OTHER_FORM if set(a.split()) & set(b.split()) else \
        NameRelation.TYPED_DIFFERENTLY if typed_differently(a, b) else NameRelation.DIFFERENT


def _agree(comparison: NameComparison) -> bool:
    return comparison.relation is not NameRelation.DIFFERENT


def twin_doubt(person: Person, row: Mapping, second_person: str | None) -> str | None:
    """Why this borrower may be the person's twin or sibling rather than the
    person, if it may: it has their surname (or that typed differently) and
    date of birth, and either its forename is clearly another name (the twin
    it belongs to may be missing from both the library and the export: left,
    or not yet arrived), or its forename is not exactly theirs and
    ``second_person`` (as ``second_person`` finds them: someone else with
    that surname and date of birth whose forename the borrower's could as
    well be) names the twin it may belong to."""
    # A surname typed differently hides no twin: Albie Lewos may be Isabella Lewis's brother.
    if not person.date_of_birth or person.date_of_birth != row["date_of_birth"] \
            or not _agree(compare_surnames(person, row)):
        return None
    forename = compare_forenames(person, row)
    if forename.relation is NameRelation.DIFFERENT:
        return (f"borrower {row['barcode']} has the same surname and date of birth but another forename "
                f"({row['forename']}), so may be a twin or sibling")
    if forename.relation is NameRelation.SAME or second_person is None:
        return None
    return (f"borrower {row['barcode']} has the same surname and date of birth ({forename.note}), and so does "
            f"{second_person}, whose forename it could as well be, so {row['barcode']} may be a twin's or "
            "sibling's")


def second_person(index: SuggestionIndex, person: Person, row: Mapping, incoming: Iterable[Person]) -> str | None:
    """Someone other than the person and the borrower with their surname and
    date of birth, and a forename the borrower's could as well be (the same,
    another form of it or it typed differently, as ``compare_forenames``
    judges): the twin or sibling whose record the borrower may be, as a
    librarian reads it. Another borrower (one linked to an MIS person
    included), or another incoming person in ``incoming``. A second person
    with a clearly different forename (Emma beside Jsesica and Jessica) is no
    reason to doubt: the borrower cannot be theirs."""
    for other in index.sharing_birthday(person, row):
        if _agree(_closest_forenames(_row_forenames(row), _row_forenames(other), {row["gender"], other["gender"]})):
            return f"borrower {other['barcode']} ({_full_name(other['forename'], other['surname'])})"
    keys = birthday_keys(person_side(person)) | birthday_keys(borrower_side(row))
    return next((_incoming_label(other) for other in incoming if other.key != person.key
                 and birthday_keys(person_side(other)) & keys
                 and _agree(compare_forenames(other, row))), None)


def _incoming_label(person: Person) -> str:
    name = _full_name(person.preferred_forename, person.preferred_surname)
    return f"incoming {person.person_type.value} {name} (MIS id {person.mis_id})"


def stranger_doubt(index: SuggestionIndex, person: Person, row: Mapping, incoming: Iterable[Person],
                   today: date | None = None) -> str | None:
    """Why this borrower looks like someone else, if it does: it scores below
    UNLIKELY_MATCH (the wrong barcode, the wrong child), and is not the person
    with just one thing typed differently (``one_difference``), or it is but
    another incoming person has its names and date of birth exactly."""
    evidence = index.evidence(person, row, today)
    score = 0 if evidence is None else score_from_weight(sum(e.weight for e in evidence))
    if score >= UNLIKELY_MATCH:
        return None
    reason = f"borrower {row['barcode']} looks like a different person (score {score})"
    if evidence is None or one_difference(person, row, evidence) is None:
        return reason
    fits = _fitting_someone_else(person, row, incoming)
    return None if fits is None else f"{reason}: its names and date of birth are those of {fits}"


def one_difference(person: Person, row: Mapping, evidence: Sequence[FieldEvidence]) -> str | None:
    """The one thing that tells this borrower from the person, said as the
    librarian reads it, when just one does and that is a slip people make;
    None otherwise. The forename must agree (the same, another form, typed
    differently), no other field may disagree (gender, ids, postcode, address,
    borrower type; the year group did not rule it out), and either
    - the surname agrees and the date of birth is under NEAR_BIRTHDAY_DAYS
      out: a month or a year typed wrong, or a birthday misheard; or
    - the date of birth is the same and the surname another: changed since,
      by marriage or a family's choice.
    A date of birth a few months out beside a different name, or a different
    forename, is a stranger."""
    born, stored = person.date_of_birth, row["date_of_birth"]
    if any(e.verdict == DISAGREE for e in evidence if e.field not in IDENTIFYING) or not born or not stored \
            or not _agree(compare_forenames(person, row)):
        return None
    surname = compare_surnames(person, row)
    if _agree(surname):
        return _date_note(row, person) if 0 < abs((stored - born).days) < NEAR_BIRTHDAY_DAYS else None
    return surname.note if stored == born else None


def _fitting_someone_else(person: Person, row: Mapping, incoming: Iterable[Person]) -> str | None:
    """Another incoming person with the borrower's date of birth and names
    (forename and surname agreeing, as ``one_difference`` asks): the
    borrower is more likely theirs."""
    return next((_incoming_label(other) for other in incoming if other.key != person.key
                 and other.date_of_birth == row["date_of_birth"] and _agree(compare_surnames(other, row))
                 and _agree(compare_forenames(other, row))), None)


def match_notes(person: Person, row: Mapping) -> list[str]:
    """How the borrower's names and date of birth differ from the person's,
    as a match's summary says them ("forename typed differently: Jsesica /
    Jessica", "date of birth differs: 2012-06-15 / 2012-03-17")."""
    notes = [name.note for name in (compare_forenames(person, row), compare_surnames(person, row))
             if name.relation is not NameRelation.SAME]
    if person.date_of_birth and row["date_of_birth"] and person.date_of_birth != row["date_of_birth"]:
        notes.append(_date_note(row, person))
    return notes


def _date_note(row: Mapping, person: Person) -> str:
    return f"date of birth differs: {row['date_of_birth'].isoformat()} / {person.date_of_birth.isoformat()}"


def match_doubt(index: SuggestionIndex, person: Person, row: Mapping, incoming: Iterable[Person],
                today: date | None = None) -> MatchDoubt | None:
    """Why matching this person to this borrower by hand needs force, if it
    does: the borrower may be their twin (``twin_doubt``), or looks like
    someone else (``stranger_doubt``). ``incoming`` are the other incoming
    people; those born on the person's or the borrower's birthday are
    enough. Twins merged are far worse than a duplicate."""
    incoming = list(incoming)
    twin = twin_doubt(person, row, second_person(index, person, row, incoming))
    if twin is not None:
        return MatchDoubt(TWIN, twin)
    stranger = stranger_doubt(index, person, row, incoming, today)
    return None if stranger is None else MatchDoubt(STRANGER, stranger)


def _suggestion(row: Mapping, weight: float, evidence: tuple[FieldEvidence, ...],
                linked_to: str | None = None, absent_link: str | None = None) -> Suggestion:
    name = _full_name(row["forename"], row["surname"])
    return Suggestion(row["id"], row["barcode"], name, row["status"], score_from_weight(weight),
                      round(weight, 2), evidence, linked_to, absent_link)


def _full_name(forename: object, surname: object) -> str:
    return " ".join(str(n) for n in (forename, surname) if n)


def link_label(row: Mapping) -> str:
    """Who a linked borrower is linked to, as a librarian reads it."""
    key = linked_key(row)
    if key is not None:
        return f"{key[0]} {key[1]}"
    return f"IdaasId {row['idaas_id']}" if row["idaas_id"] else f"ExternalId {row['external_id']}"


def auto_accept(people: Sequence[Person], results: Mapping[PersonKey, Match | Unmatched],
                borrowers: Iterable[Mapping], settings: IntakeSettings, today: date) -> dict[PersonKey, int]:
    """Fuzzy matches the sync may make after its certain tiers: person -> borrower id.

    Off while ``auto_accept_score`` is 0. Only a person on roll or arriving
    whom the certain tiers found no match for at all (not a possible twin, a
    contested borrower, clashing ids…), whose best suggestion is corroborated
    (``corroborated``) and reaches the score with ``auto_accept_margin`` over
    every other candidate (linked ones included), for a borrower nobody else
    in this run matched or wants, and never where either side could have a
    twin: a twin in the library or in the same export, or a borrower a hand
    match would doubt as a twin (``twin_doubt``).
    """
    if not settings.auto_accept_score:
        return {}
    waiting = [p for p in people if p.presence in AUTO_ACCEPTED and isinstance(results.get(p.key), Unmatched)
               and results[p.key].reason is IntakeReason.NO_MATCH]
    if not waiting:
        return {}
    index = SuggestionIndex(borrowers)
    taken = {r.borrower_id for r in results.values() if isinstance(r, Match)}
    incoming_twins = Counter((p.person_type, s, p.date_of_birth) for p in people if p.date_of_birth
                             for s in {key_of(n) for n in p.surnames()})
    proposals: dict[PersonKey, int] = {}
    for person in waiting:
        if any(incoming_twins[(person.person_type, key_of(s), person.date_of_birth)] > 1
               for s in person.surnames()):
            continue
        best = _clear_best(index.suggest(person, today, limit=2), settings)
        if best is not None and best.borrower_id not in taken and not index.possible_twin(person, best.borrower_id) \
                and twin_doubt(person, index.row(best.borrower_id), None) is None:
            proposals[person.key] = best.borrower_id
    claims = Counter(proposals.values())
    return {key: borrower_id for key, borrower_id in proposals.items() if claims[borrower_id] == 1}


def _clear_best(found: Suggestions, settings: IntakeSettings) -> Suggestion | None:
    """The best suggestion, if it is corroborated and clearly ahead of the rest."""
    best = found.best
    if best is None or best.absent_link or best.score < settings.auto_accept_score or not corroborated(best):
        return None
    rivals = [s.score for s in (*found.ranked[1:], *found.linked_elsewhere)]
    if rivals and best.score - max(rivals) < settings.auto_accept_margin:
        return None
    return best


def corroborated(suggestion: Suggestion) -> bool:
    """Enough to link without a person, whatever the score: the same date of
    birth on both sides (a name alone never matches, and a mistyped date is
    for a person to judge) and one more field beyond the names that agrees."""
    verdicts = {e.field: e.verdict for e in suggestion.evidence}
    return verdicts["date_of_birth"] == AGREE and any(verdicts[field] == AGREE for field in CORROBORATING)
