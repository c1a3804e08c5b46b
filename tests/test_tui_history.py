"""engine.history (runs and their events, the change marker) and the Intake
reads and checks the terminal UI relies on: the quick queue listing, the
side-by-side comparison, and decisions refused when an entry changed after
it was shown."""
from __future__ import annotations

import pytest

from engine import history, intake
from engine.config import load_config
from engine.intake import load_index
from tests.builders import TODAY, library_session
from tests.support.schools import ALFIE, PUPILS, build_school, sync_export


@pytest.fixture
def config(tmp_path, library_url):
    return load_config(build_school(tmp_path, url=library_url))


def read(config, function, *args, **kwargs):
    with library_session(config.library_url) as session:
        return function(session, *args, **kwargs)


def queued(config, mis_id):
    return next(e for e in read(config, intake.list_entries, score_missing=False) if e.mis_id == mis_id)


def test_recent_runs_newest_first_with_counts(config, tmp_path):
    sync_export(tmp_path, PUPILS)
    runs = read(config, history.recent_runs)
    assert [r.kind for r in runs] == ["sync", "sync"]
    assert runs[0].run_id > runs[1].run_id
    assert runs[1].counts["intake_added"] == 5 and runs[1].actions["intake_added"] == 5
    assert runs[0].counts["intake_added"] == 0


def test_decisions_outside_a_run_come_first(config):
    entry = queued(config, "103")
    read(config, intake.decide, config, "new", [entry], actor="librarian")
    runs = read(config, history.recent_runs)
    assert (runs[0].run_id, runs[0].kind) == (None, history.DECISIONS)
    assert runs[0].actions == {"intake_new": 1}
    page = read(config, history.run_events, None)
    assert [(e.action, e.actor, e.intake_name) for e in page.events] == [("intake_new", "librarian", "Zed Newman")]


def test_run_events_filter_by_action_and_field(config):
    run_id = read(config, history.recent_runs)[0].run_id
    everything = read(config, history.run_events, run_id)
    assert everything.matching == len(everything.events) > 0
    assert set(everything.actions) >= {"intake_added", "linked", "recycled"}
    added = read(config, history.run_events, run_id, action="intake_added")
    assert added.matching == 5 and {e.action for e in added.events} == {"intake_added"}
    status = read(config, history.run_events, run_id, field="status")
    assert status.events and {e.field for e in status.events} == {"status"}
    assert len(read(config, history.run_events, run_id, limit=2).events) == 2


def test_the_change_marker_moves_with_every_write(config, tmp_path):
    before = read(config, history.change_marker)
    entry = queued(config, "104")
    read(config, intake.decide, config, "reject", [entry], actor="librarian")
    after_decision = read(config, history.change_marker)
    assert after_decision.last_event > before.last_event and after_decision.last_run == before.last_run
    sync_export(tmp_path, PUPILS)
    assert read(config, history.change_marker).last_run > after_decision.last_run


def test_a_decision_is_refused_when_the_entry_changed_after_it_was_shown(config, tmp_path):
    shown = queued(config, "101")
    sync_export(tmp_path, [dict(ALFIE, RegGroup="8C")] + PUPILS[1:])
    with pytest.raises(intake.EntryChanged, match="changed after it was shown"):
        read(config, intake.decide, config, "match", [shown], actor="librarian", barcode="S0001")
    now = queued(config, "101")
    decision = read(config, intake.decide, config, "match", [now], actor="librarian", barcode="S0001")
    assert decision.action == "match"


def test_the_comparison_marks_each_field(config):
    entry = queued(config, "101")
    with library_session(config.library_url) as session:
        comparison = intake.compare_suggestions(session, entry.id, index=load_index(session), today=TODAY)
    best = comparison.candidates[0]
    verdicts = {f.label: (f.incoming, f.candidate, f.verdict) for f in best.fields}
    assert verdicts["Forename"] == ("Alfie", "Alfred", "partial")  # the same through the legal name
    assert verdicts["Surname"] == ("Smith", "Smyth", "partial")
    assert verdicts["Born"][2] == "agree"
    assert verdicts["Tutor"] == ("8A", "8A", "agree")
    assert [f.label for f in comparison.incoming][:3] == ["Forename", "Surname", "Born"]
    assert all(f.candidate is None for f in comparison.incoming)


def test_the_quick_queue_lists_what_the_scored_listing_lists(config):
    for filters in ({}, {"status": "all"}, {"year": "9"}, {"name": "twin"}, {"reason": "possible_twin"}):
        listed = read(config, intake.list_entries, today=TODAY, **filters)
        queued = read(config, intake.list_entries, score_missing=False, **filters)
        assert [e.id for e in queued] == [i.id for i in listed], filters
        assert [e.best_score for e in queued] == [i.best_score for i in listed], filters


def test_a_change_within_the_same_second_is_noticed_too(config):
    """MariaDB keeps whole seconds: a sync in the second the entry was read
    leaves updated_at as it was, but not what the queue shows."""
    from sqlalchemy import update

    from engine.models import IntakeEntry

    shown = queued(config, "103")
    with library_session(config.library_url) as session:
        session.execute(update(IntakeEntry).where(IntakeEntry.id == shown.id)
                        .values(tutor_group="9Z", updated_at=shown.updated_at))
    with pytest.raises(intake.EntryChanged):
        read(config, intake.decide, config, "new", [shown], actor="librarian")
