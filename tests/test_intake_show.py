"""``show_entry`` without an index (``mislink intake show``) indexes only the
borrowers that could be suggested (``engine.suggest.suggest_one``) and
suggests exactly what the whole library's index does: for every Intake entry
of the demo school (twins, typos, names swapped, a mistyped date of birth,
borrowers linked to someone else, one whose MIS person has gone), on every
database, and with MAX_BLOCK low enough to leave blocks out; and
``suggest_one`` itself against the index, person by person, on the
evaluation school (``benchmarks.eval_set``)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import engine.suggest
from benchmarks.eval_set import school_set
from engine.borrower_import import import_borrowers
from engine.intake import ALL, list_entries, load_index, show_entry
from engine.suggest import SuggestionIndex, suggest_one
from engine.sync import run_sync
from tests.builders import make_config
from tests.intake_builders import TODAY, person, row, session_for

DEMO = Path(__file__).resolve().parent.parent / "demo"
# The demo export's day, so that year groups read as they did then.
DAY = date(2026, 9, 14)


@pytest.fixture
def demo(tmp_path, library_url):
    """The demo school's borrower list imported and its export synced."""
    config = make_config(tmp_path, library_url, source=DEMO / "school")
    with session_for(config) as session:
        import_borrowers(session, DEMO / "borrowers.csv", config.barcodes, skip_invalid=True)
    report = run_sync(config, today=DAY)
    assert report.outcome == "ok", report.message
    return config


@pytest.fixture
def indexed(monkeypatch):
    """How many borrowers each SuggestionIndex made indexes."""
    sizes = []
    made = engine.suggest.SuggestionIndex.__init__

    def counted(index, *args, **kwargs):
        made(index, *args, **kwargs)
        sizes.append(len(index.rows))

    monkeypatch.setattr(engine.suggest.SuggestionIndex, "__init__", counted)
    return sizes


def shown_both_ways(config, ids: list[int] | None = None) -> tuple[list, list, int]:
    """These entries (every one by default) shown by the fast path and with
    the whole library's index, and how many borrowers the library has."""
    with session_for(config) as session:
        whole = load_index(session)
        if ids is None:
            ids = [item.id for item in list_entries(session, status=ALL, score_missing=False)]
        fast = [show_entry(session, entry_id, today=DAY) for entry_id in ids]
        slow = [show_entry(session, entry_id, index=whole, today=DAY) for entry_id in ids]
    return fast, slow, len(whole.rows)


def test_show_suggests_exactly_what_the_whole_index_does_indexing_a_few_borrowers(demo, indexed, monkeypatch):
    fast, slow, size = shown_both_ways(demo)
    assert fast == slow
    # The demo's traps are among them.
    suggestions = [detail.suggestions for detail in fast]
    details = " ".join(e.detail for s in suggestions for found in s.ranked for e in found.evidence)
    assert all(trap in details for trap in ("typed differently", "swapped", "one digit", "day and month"))
    assert sum(bool(s.linked_elsewhere) for s in suggestions) >= 3
    assert any(found.absent_link for s in suggestions for found in s.ranked)
    assert sum(d.item.reason == "possible_twin" for d in fast) >= 5
    # One index of the whole library (the comparison's); each show indexed a few.
    assert indexed[0] == size == 783 and len(indexed) == len(fast) + 1
    assert max(indexed[1:]) < size / 10

    # A block shared by more than MAX_BLOCK borrowers is left out by both.
    suggested = [d for d in fast if d.suggestions.ranked or d.suggestions.linked_elsewhere]
    monkeypatch.setattr(engine.suggest, "MAX_BLOCK", 2)
    fast, slow, _ = shown_both_ways(demo, [d.item.id for d in suggested])
    assert fast == slow
    assert fast != suggested


def one_at_a_time(person, borrowers, today):
    by_id = {b["id"]: b for b in borrowers}
    return suggest_one(person, borrowers, lambda ids: [by_id[i] for i in ids], today)


@pytest.mark.parametrize("max_block", [engine.suggest.MAX_BLOCK, 3])
def test_one_person_at_a_time_is_suggested_what_the_whole_index_suggests(monkeypatch, max_block):
    """The evaluation school: families, typos, swapped names, mistyped dates."""
    monkeypatch.setattr(engine.suggest, "MAX_BLOCK", max_block)
    school = school_set(students=900, staff=40)
    index = SuggestionIndex(school.borrowers)
    for incoming in school.people[:150]:
        assert one_at_a_time(incoming, school.borrowers, school.today) == index.suggest(incoming, school.today)


def test_a_borrower_sharing_only_a_key_made_with_the_names_swapped_is_found():
    """Bob Jessop (born the year before) shares with Jessica Brown only the key
    of her forename's first three letters, her surname's initial and a year
    either way: the names typed the other way round."""
    jessop = row("Bob", "Jessop", "2011-07-30")
    borrowers = [jessop, *(row("Ann", "Zed", f"2000-01-{day:02d}") for day in range(1, 10))]
    jessica = person("Jessica", "Brown")
    found = one_at_a_time(jessica, borrowers, TODAY)
    assert found == SuggestionIndex(borrowers).suggest(jessica, TODAY)
    assert [s.borrower_id for s in found.ranked] == [jessop["id"]]
