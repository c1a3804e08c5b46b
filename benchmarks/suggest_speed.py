"""Suggestion speed against a 100,000-borrower library, printed.

    python -m benchmarks.suggest_speed
    python -m benchmarks.suggest_speed --borrowers 20000 --records 2000

The library and the incoming records come from the evaluation generator
(``benchmarks.eval_set``) scaled up. The index is built once, as the sync and
the Intake screen do; then one record at a time (median and worst of
``--singles`` records), and a batch of ``--records`` records. Targets (issue
3): one record under 50 ms; 10,000 records against 100,000 under 30 s, index
building included. Last, ``--shows`` records each suggested as ``mislink
intake show`` suggests one, with no index (``suggest_one``: the whole
library scanned, the few that could be suggested indexed), beside building
the index for it (issue 15).
"""
from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.eval_set import DEV_SEED, school_set
from engine.suggest import SuggestionIndex, suggest_one


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--shows", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # The generator's library has about 97 borrowers for every 100 pupils on roll.
    eval_set = school_set(DEV_SEED, students=args.borrowers * 104 // 100, staff=args.borrowers // 50)
    borrowers, people = eval_set.borrowers[:args.borrowers], eval_set.people[:args.records]
    print(f"generated {len(borrowers)} borrowers and {len(people)} incoming records "
          f"in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    index = SuggestionIndex(borrowers)
    built = time.perf_counter() - started
    print(f"index built in {built:.2f} s")

    singles = []
    sample = people[:args.singles]
    scored = sum(len(index.candidates(p)) for p in sample) / len(sample)
    for person in sample:
        started = time.perf_counter()
        index.suggest(person, eval_set.today)
        singles.append(time.perf_counter() - started)
    print(f"one record: median {statistics.median(singles) * 1000:.1f} ms, "
          f"worst {max(singles) * 1000:.1f} ms over {len(singles)} records, {scored:.0f} candidates considered "
          "on average (target: under 50 ms)")

    started = time.perf_counter()
    for person in people:
        index.suggest(person, eval_set.today)
    batch = time.perf_counter() - started
    print(f"{len(people)} records: {batch:.1f} s suggesting + {built:.1f} s index = {batch + built:.1f} s "
          f"(target: under 30 s); {batch / len(people) * 1000:.2f} ms per record")

    by_id = {b["id"]: b for b in borrowers}
    shows = []
    for person in people[:args.shows]:
        started = time.perf_counter()
        suggest_one(person, borrowers, lambda ids: [by_id[i] for i in ids], eval_set.today)
        shows.append(time.perf_counter() - started)
    print(f"one record with no index, as intake show: median {statistics.median(shows) * 1000:.0f} ms, "
          f"worst {max(shows) * 1000:.0f} ms over {len(shows)} records (building the index: {built * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
