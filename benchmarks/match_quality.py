"""How well does mislink match? Precision, recall and suggestion accuracy, printed.

    python -m benchmarks.match_quality                 # school test set + FEBRL4
    python -m benchmarks.match_quality --seed 7        # another school (the dev seed)
    python -m benchmarks.match_quality --febrl 3       # FEBRL3 (the FEBRL dev set)
    python -m benchmarks.match_quality --by-label      # where the misses are

For each set, with fuzzy auto-accept off and at ``--auto-accept`` (score and
margin): automatic matches are the sync's certain tiers (``match_people``)
plus ``auto_accept``; precision is the share of them that are right, recall the
share of records with a true match that they find. Suggestions: top-1 and top-3
accuracy for records with a true match, over all of them and over those the
automatic matching leaves in Intake; for records with no true match, how often
the best suggestion wrongly claims a probable duplicate. Hand matches: the
share of true matches a person could not make without forcing
(``match_doubt``, the check ``intake match`` and the Intake screen make, with
every other incoming record as a possible second person), and the share of
twin pairs where matching one twin to the other's borrower is refused without
force (it must be all of them). Beside them, the wrong picks a librarian might
make, refused without force: for each incoming record, the best suggestion
that is not its true borrower, and for a twin the other twin's borrower
(``--doubt-scores`` prints how the refused true matches and the wrong picks
score). Time per record is
``SuggestionIndex.suggest`` alone; building the index is printed apart.
FEBRL needs the benchmark extra (``pip install -e '.[benchmark]'``).
"""
from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from benchmarks.eval_set import TEST_SEED, EvalSet, febrl_set, school_set
from engine.config import IntakeSettings
from engine.matching import LibraryIndex, Match, match_people
from engine.person import Person
from engine.suggest import STRANGER, TWIN, MatchDoubt, SuggestionIndex, Suggestions, auto_accept, match_doubt


@dataclass
class Automatic:
    made: int
    right: int
    findable: int

    @property
    def precision(self) -> float:
        return self.right / self.made if self.made else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.findable if self.findable else 1.0


def automatic_matches(eval_set: EvalSet, settings: IntakeSettings) -> dict:
    """person key -> borrower id, as the sync would match them."""
    results = match_people(eval_set.people, LibraryIndex(eval_set.borrowers))
    matched = {key: r.borrower_id for key, r in results.items() if isinstance(r, Match)}
    matched.update(auto_accept(eval_set.people, results, eval_set.borrowers, settings, eval_set.today))
    return matched


def score_automatic(eval_set: EvalSet, matched: dict) -> Automatic:
    right = sum(1 for key, borrower_id in matched.items() if eval_set.truth[key] == borrower_id)
    findable = sum(1 for b in eval_set.truth.values() if b is not None)
    return Automatic(len(matched), right, findable)


def _share(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "n/a"


def report(eval_set: EvalSet, settings: IntakeSettings, by_label: bool, doubt_scores: bool) -> None:
    started = time.perf_counter()
    index = SuggestionIndex(eval_set.borrowers)
    built = time.perf_counter() - started
    started = time.perf_counter()
    found: dict = {p.key: index.suggest(p, eval_set.today, limit=3) for p in eval_set.people}
    per_record = (time.perf_counter() - started) / len(eval_set.people)
    print(f"\n== {eval_set.name}: {len(eval_set.people)} incoming, {len(eval_set.borrowers)} borrowers, "
          f"{sum(1 for b in eval_set.truth.values() if b is None)} with no true match")
    for label, accept in (("auto-accept off", IntakeSettings()), (
            f"auto-accept at {settings.auto_accept_score} (margin {settings.auto_accept_margin})", settings)):
        automatic = score_automatic(eval_set, automatic_matches(eval_set, accept))
        print(f"  automatic, {label}: precision {_share(automatic.right, automatic.made)}, "
              f"recall {_share(automatic.right, automatic.findable)}")
    in_intake = set(eval_set.truth) - set(automatic_matches(eval_set, IntakeSettings()))
    with_truth = [k for k, b in eval_set.truth.items() if b is not None]
    for title, keys in (("all records with a true match", with_truth),
                        ("of those, left in Intake", [k for k in with_truth if k in in_intake])):
        top1 = [k for k in keys if _rank(found[k], eval_set.truth[k]) == 1]
        top3 = [k for k in keys if _rank(found[k], eval_set.truth[k]) in (1, 2, 3)]
        print(f"  suggestions, {title}: top-1 {_share(len(top1), len(keys))}, top-3 {_share(len(top3), len(keys))}")
    new = [k for k, b in eval_set.truth.items() if b is None]
    claimed = [k for k in new if found[k].best and found[k].best.probable_duplicate]
    print(f"  no true match: probable duplicate wrongly claimed {_share(len(claimed), len(new))}")
    hand = HandMatches(eval_set, index)
    doubts = {k: hand.doubt(hand.people[k], eval_set.truth[k]) for k in with_truth}
    refused = {k for k, doubt in doubts.items() if doubt}
    for title, keys in (("all", with_truth), ("left in Intake", [k for k in with_truth if k in in_intake])):
        kinds = Counter(doubts[k].kind for k in keys if k in refused)
        print(f"  true matches refused without force, {title}: {_share(sum(kinds.values()), len(keys))}; "
              f"as a twin {_share(kinds[TWIN], len(keys))}, as a different person {_share(kinds[STRANGER], len(keys))}")
    pairs = [(a, b) for a, b in hand.twin_pairs() if eval_set.truth[b.key] is not None]
    guarded = [(a, b) for a, b in pairs if hand.doubt(a, eval_set.truth[b.key])]
    print(f"  twins: matching one to the other's borrower refused without force {_share(len(guarded), len(pairs))}")
    wrong = hand.wrong_picks(found, pairs)
    wrong_doubts = [hand.doubt(person, borrower_id) for person, borrower_id in wrong]
    kinds = Counter(doubt.kind for doubt in wrong_doubts if doubt)
    print(f"  wrong picks refused without force: {_share(sum(kinds.values()), len(wrong))}; "
          f"as a twin {_share(kinds[TWIN], len(wrong))}, as a different person {_share(kinds[STRANGER], len(wrong))}")
    print(f"  time: {per_record * 1000:.2f} ms per record (index built in {built:.2f} s)")
    if doubt_scores:
        _score_spread("true matches refused", [(hand.people[k], eval_set.truth[k]) for k in refused], hand)
        _score_spread("wrong picks", wrong, hand)
        _score_spread("wrong picks let through", [pick for pick, doubt in zip(wrong, wrong_doubts) if not doubt],
                      hand)
    if by_label:
        missed = {k for k in with_truth if _rank(found[k], eval_set.truth[k]) != 1}
        _by_label("top-1 misses", eval_set, with_truth, missed)
        _by_label("refused without force", eval_set, with_truth, refused)


class HandMatches:
    """Hand matches checked as a person would make them: every other incoming
    record is a person who may share the surname and date of birth."""

    def __init__(self, eval_set: EvalSet, index: SuggestionIndex):
        self.eval_set, self.index = eval_set, index
        self.rows = {row["id"]: row for row in eval_set.borrowers}
        self.people = {p.key: p for p in eval_set.people}
        self.born: dict = defaultdict(list)
        for person in eval_set.people:
            self.born[person.date_of_birth].append(person)

    def doubt(self, person: Person, borrower_id: int) -> MatchDoubt | None:
        row = self.rows[borrower_id]
        birthdays = {person.date_of_birth, row["date_of_birth"]}
        others = [p for day in birthdays for p in self.born[day] if p.key != person.key]
        return match_doubt(self.index, person, row, others, self.eval_set.today)

    def wrong_picks(self, found: dict, twin_pairs: list[tuple[Person, Person]]) -> list[tuple[Person, int]]:
        """(person, borrower id) a librarian might wrongly match: each
        person's best suggestion that is not their true borrower, and each
        twin's twin's borrower."""
        truth = self.eval_set.truth
        picks = {(a.key, truth[b.key]) for a, b in twin_pairs}
        for key, suggestions in found.items():
            wrong = next((s for s in suggestions.ranked if s.borrower_id != truth[key]), None)
            if wrong is not None:
                picks.add((key, wrong.borrower_id))
        return [(self.people[key], borrower_id) for key, borrower_id in sorted(picks)]

    def twin_pairs(self) -> list[tuple[Person, Person]]:
        """Each twin pair both ways round: the set labels twins, who share a
        surname and a date of birth."""
        families: dict = defaultdict(list)
        for person in self.eval_set.people:
            if "twin" in self.eval_set.labels[person.key]:
                families[(person.legal_surname, person.date_of_birth)].append(person)
        return [(a, b) for twins in families.values() if len(twins) == 2 for a, b in (twins, twins[::-1])]


def _rank(suggestions: Suggestions, borrower_id: int) -> int | None:
    ids = [s.borrower_id for s in suggestions.ranked]
    return ids.index(borrower_id) + 1 if borrower_id in ids else None


def _score_spread(title: str, picks: list[tuple[Person, int]], hand: HandMatches) -> None:
    """How many of these (person, borrower) pairs score in each band of ten."""
    bands = Counter(min(hand.index.score(p, hand.rows[b], hand.eval_set.today) // 10, 9) for p, b in picks)
    print(f"  scores of {title} ({len(picks)}): " + ", ".join(f"{band * 10}-{band * 10 + 9}: {bands[band]}"
                                                           for band in sorted(bands)))


def _by_label(title: str, eval_set: EvalSet, keys: list, hit: set) -> None:
    totals, hits = Counter(), Counter()
    for key in keys:
        labels = eval_set.labels.get(key) or ["plain"]
        totals.update(labels)
        if key in hit:
            hits.update(labels)
    print(f"  {title} by label: " + ", ".join(f"{label} {hits[label]}/{totals[label]}"
                                             for label in sorted(totals) if hits[label]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=TEST_SEED, help="school set seed (the test seed by default)")
    parser.add_argument("--febrl", choices=["3", "4", "none"], default="4", help="which FEBRL set, or none")
    parser.add_argument("--auto-accept", type=int, nargs=2, default=(90, 15), metavar=("SCORE", "MARGIN"))
    parser.add_argument("--by-label", action="store_true", help="break top-1 misses down by what makes them hard")
    parser.add_argument("--doubt-scores", action="store_true",
                        help="how the true matches refused and the wrong picks score")
    args = parser.parse_args(argv)
    settings = IntakeSettings(auto_accept_score=args.auto_accept[0], auto_accept_margin=args.auto_accept[1])
    report(school_set(args.seed), settings, args.by_label, args.doubt_scores)
    if args.febrl != "none":
        report(febrl_set(args.febrl), settings, args.by_label, args.doubt_scores)


if __name__ == "__main__":
    main()
