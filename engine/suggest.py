"""Intake suggestions: which existing borrowers might an incoming person be, and why.

``SuggestionIndex(borrowers)`` indexes the library once by several cheap
blocking keys; ``index.suggest(person)`` scores the borrowers that share any key
with the person, field by field (``engine.evidence``), and ranks them with a
0–100 score and the per-field explanation. Both active and recycled borrowers
are offered. A borrower linked to another MIS person is never offered, only
reported as a warning when it would have ranked. ``index.score`` weighs one
borrower named by hand, and ``twin_rather_than`` says when it may be the
person's twin. ``auto_accept`` is the optional fuzzy auto-accept the sync may
apply. Pure: the library comes in as plain rows (as in
``Snapshot.borrowers``), nothing is read or written here.

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
from itertools import chain
from typing import Iterable, Mapping, Sequence

from engine.birthdates import mistyped_variants
from engine.config import IntakeSettings
from engine.evidence import (
    AGREE,
    Comparer,
    FieldEvidence,
    NameWeights,
    Side,
    borrower_side,
    key_of,
    person_side,
)
from engine.matching import IntakeReason, Match, Unmatched, linked_elsewhere, linked_key
from engine.nicknames import NicknameTable, nickname_table
from engine.person import Person, PersonKey, Presence

# A score at or above this says "probably already a borrower": transferring the
# record as new then needs --force.
PROBABLE_DUPLICATE = 60
# A borrower matched by hand that scores below this looks like a slip (the
# wrong barcode, the wrong child): the match then needs force.
UNLIKELY_MATCH = 40
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
    """The library indexed for suggestions; build once, ask many times."""

    def __init__(self, borrowers: Iterable[Mapping]):
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
        self.name_weights = NameWeights(Counter(chain.from_iterable(s.forenames for s in sides)),
                                        Counter(chain.from_iterable(s.surnames for s in sides)), len(sides))
        # (date of birth, surname) -> how many borrowers: more than one means twins.
        self.twins = Counter((s.dob, surname) for s in sides if s.dob for surname in s.surnames)
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
            if linked_elsewhere(row, person):
                if score_from_weight(-weight) >= WARN_FROM:
                    warnings.append(_suggestion(row, -weight, evidence, link_label(row)))
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
            if not linked_elsewhere(self.rows[position], person):
                heapq.heappush(best_unlinked, total)
                if len(best_unlinked) > limit:
                    heapq.heappop(best_unlinked)
        return scored

    def score(self, person: Person, row: Mapping, today: date | None = None) -> int:
        """How much this one borrower, as it is now, looks like the person
        (0 to 100; 0 when its year group rules it out), found or not."""
        comparer = Comparer(person_side(person), self.name_weights, today or date.today())
        evidence = comparer.evidence(borrower_side(row))
        return 0 if evidence is None else score_from_weight(sum(e.weight for e in evidence))

    def possible_twin(self, person: Person, borrower_id: int) -> bool:
        """Could this person, or this borrower, have a twin in the library:
        another borrower with the same surname and date of birth, or with the
        same surname and no date of birth to tell them apart?"""
        probe = person_side(person)
        side = self.sides[self.positions[borrower_id]]
        own = {(side.dob, s) for s in side.surnames} if side.dob else set()
        theirs = {(probe.dob, s) for s in probe.surnames} if probe.dob else set()
        if any(self.twins[key] - (key in own) > 0 for key in own | theirs):
            return True
        undated_self = set() if side.dob else set(side.surnames)
        return any(self.undated[s] - (s in undated_self) > 0 for s in {*side.surnames, *probe.surnames})


def twin_rather_than(person: Person, row: Mapping) -> bool:
    """Is this borrower perhaps the person's twin rather than the person: the
    same surname and date of birth, but a forename that is neither one of the
    person's (legal or preferred) nor a short form of one?"""
    probe, side = person_side(person), borrower_side(row)
    if not probe.dob or probe.dob != side.dob or not set(probe.surnames) & set(side.surnames):
        return False
    table = nickname_table()
    return not any(table.one_name(a, b) for a in probe.forenames for b in side.forenames)


def _suggestion(row: Mapping, weight: float, evidence: tuple[FieldEvidence, ...],
                linked_to: str | None = None) -> Suggestion:
    name = " ".join(str(n) for n in (row["forename"], row["surname"]) if n)
    return Suggestion(row["id"], row["barcode"], name, row["status"], score_from_weight(weight),
                      round(weight, 2), evidence, linked_to)


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
    twin: a twin in the library or in the same export.
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
        if best is not None and best.borrower_id not in taken and not index.possible_twin(person, best.borrower_id):
            proposals[person.key] = best.borrower_id
    claims = Counter(proposals.values())
    return {key: borrower_id for key, borrower_id in proposals.items() if claims[borrower_id] == 1}


def _clear_best(found: Suggestions, settings: IntakeSettings) -> Suggestion | None:
    """The best suggestion, if it is corroborated and clearly ahead of the rest."""
    best = found.best
    if best is None or best.score < settings.auto_accept_score or not corroborated(best):
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
