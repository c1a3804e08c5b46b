"""The Intake operations against a real library database (SQLite, PostgreSQL,
MariaDB): each decision, its refusals, undo, and what the next sync makes of it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update

from engine.intake import (
    IntakeError,
    list_entries,
    mark_new,
    match_entry,
    refresh_best_scores,
    reject_entry,
    search_borrowers,
    show_entry,
    transfer_entries,
    undo_last,
    unreject_entry,
)
from engine.models import Borrower, IntakeDecision, IntakeEntry, Loan, SyncEvent
from tests.builders import student
from tests.intake_builders import (
    borrower_by_barcode,
    entry_id,
    library,
    row,
    session_for,
    sync,
)

ALFIE = dict(Id="101", LegalForename="Alfred", Gender="M")


def alfie(**fields):
    return student("Alfie", "Smith", "2012-03-04", **{**ALFIE, **fields})


def zed(**fields):
    return student("Zed", "Newman", "2011-10-09", Id="102", YearGroup="Year  9", **fields)


@pytest.fixture
def config(tmp_path, library_url):
    """Alfred Smyth typed in by hand; Alfie Smith (him) and Zed Newman (new) in Intake."""
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"),
                     barcodes={"prefix": "S", "digits": 4})
    sync(config, alfie(), zed())
    return config


def status(config, mis_id):
    with session_for(config) as session:
        return session.execute(select(IntakeEntry.status).where(IntakeEntry.mis_id == mis_id)).scalar_one()


def count(config, model):
    with session_for(config) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_list_filters_and_scores(config):
    with session_for(config) as session:
        items = list_entries(session)
        assert [(i.mis_id, i.status, i.reason) for i in items] == [("101", "pending", "no_match"),
                                                                   ("102", "pending", "no_match")]
        scores = {i.mis_id: i.best_score for i in items}
        assert scores["101"] >= 60 and scores["102"] == 0
        assert [i.mis_id for i in list_entries(session, name="alfie smi")] == ["101"]
        assert [i.mis_id for i in list_entries(session, year="9")] == ["102"]
        assert list_entries(session, reason="possible_twin") == []
        assert list_entries(session, status="rejected") == []


def test_refresh_best_scores_stores_what_list_shows(config):
    with session_for(config) as session:
        shown = {i.mis_id: i.best_score for i in list_entries(session)}
        session.execute(update(IntakeEntry).values(best_score=None))
        assert refresh_best_scores(session, limit=1) == 1
        assert refresh_best_scores(session) == 1
        assert refresh_best_scores(session) == 0
        stored = dict(session.execute(select(IntakeEntry.mis_id, IntakeEntry.best_score)).all())
    assert stored == shown


def test_show_ranks_the_existing_borrower_first(config):
    with session_for(config) as session:
        detail = show_entry(session, entry_id(config, "101"))
    assert detail.person.legal_forename == "Alfred"
    assert detail.suggestions.best.barcode == "S0041" and detail.suggestions.best.probable_duplicate


def test_a_match_links_and_updates_the_borrower_and_the_next_sync_keeps_it(config):
    with session_for(config) as session:
        decision = match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    assert decision.barcodes == ("S0041",)
    borrower = borrower_by_barcode(config, "S0041")
    assert (borrower["mis_person_type"], borrower["mis_id"], borrower["forename"], borrower["surname"],
            borrower["tutor_group"]) == ("student", "101", "Alfie", "Smith", "8A")
    assert status(config, "101") == "matched"
    with session_for(config) as session:
        actors = set(session.execute(select(SyncEvent.actor, SyncEvent.action).where(SyncEvent.run_id.is_(None))))
    assert {("mrs.b", "intake_matched"), ("mrs.b", "linked"), ("mrs.b", "updated")} <= actors
    again = sync(config, alfie(), zed())
    assert again.counts["matched_by_link"] == 1 and again.counts["intake_added"] == 0
    assert again.plan.is_empty and status(config, "101") == "matched"


def test_a_match_restores_a_recycled_borrower(tmp_path, library_url):
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", status="recycled",
                                                tutor_group="Leaver 2024 (Old Group 7A)", group_before_recycle="7A"))
    sync(config, alfie())
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    borrower = borrower_by_barcode(config, "S0041")
    assert (borrower["status"], borrower["tutor_group"], borrower["group_before_recycle"]) == ("active", "8A", None)


@pytest.mark.parametrize("barcode, entry, message", [
    ("S0099", "101", r"linked to another MIS person \(student 999\)"),
    ("NOPE", "101", "no borrower with barcode NOPE"),
])
def test_match_refusals_write_nothing(config, barcode, entry, message):
    with session_for(config) as session:
        session.execute(insert(Borrower).values(barcode="S0099", forename="Alfie", surname="Smith",
                                                mis_person_type="student", mis_id="999"))
    with pytest.raises(IntakeError, match=message), session_for(config) as session:
        match_entry(session, config, entry_id(config, entry), barcode, actor="mrs.b")
    assert status(config, "101") == "pending" and count(config, IntakeDecision) == 0


def test_a_decided_entry_cannot_be_decided_again(config):
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
        reject_entry(session, entry_id(config, "102"), actor="mrs.b")
    with pytest.raises(IntakeError, match="already matched"), session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    with pytest.raises(IntakeError, match="unreject it first"), session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "102")], actor="mrs.b")
    with pytest.raises(IntakeError, match="no Intake entry 9999"), session_for(config) as session:
        mark_new(session, 9999, actor="mrs.b")


def test_new_then_transfer_gives_the_next_barcode_in_sequence_and_links(config):
    with session_for(config) as session:
        mark_new(session, entry_id(config, "102"), actor="mrs.b")
    sync(config, alfie(), zed(HouseGroup="Darwin"))
    assert status(config, "102") == "new"
    with session_for(config) as session:
        decision = transfer_entries(session, config, all_new=True, actor="mrs.b")
    assert decision.barcodes == ("S0042",)
    created = borrower_by_barcode(config, "S0042")
    assert (created["mis_id"], created["forename"], created["surname"], created["status"]) == (
        "102", "Zed", "Newman", "active")
    assert status(config, "102") == "transferred"
    again = sync(config, alfie(), zed(HouseGroup="Darwin"))
    assert again.counts["matched_by_link"] == 1 and again.counts["intake_added"] == 0 and again.plan.is_empty


def test_transfer_all_new_needs_some(config):
    with pytest.raises(IntakeError, match="no Intake entries are confirmed as new"), session_for(config) as session:
        transfer_entries(session, config, all_new=True, actor="mrs.b")


@pytest.mark.parametrize("scheme, expected", [("mis_id", "P102"), ("admission_no", "P000102")])
def test_transfer_barcode_schemes(tmp_path, library_url, scheme, expected):
    config = library(tmp_path, library_url, barcodes={"scheme": scheme, "prefix": "P"})
    sync(config, zed())
    with session_for(config) as session:
        assert transfer_entries(session, config, [entry_id(config, "102")], actor="mrs.b").barcodes == (expected,)


def test_a_barcode_clash_is_refused_and_nothing_is_created(tmp_path, library_url):
    config = library(tmp_path, library_url, row("Someone", "Else", "2001-01-01", barcode="P102"),
                     barcodes={"scheme": "mis_id", "prefix": "P"})
    sync(config, zed())
    with pytest.raises(IntakeError, match="barcode P102 .* already belongs to another borrower"), \
            session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "102")], actor="mrs.b")
    assert count(config, Borrower) == 1 and status(config, "102") == "pending"


def test_transferring_a_probable_duplicate_needs_force(config):
    alfie_entry = entry_id(config, "101")
    with pytest.raises(IntakeError, match=r"looks like borrower S0041 \(Alfred Smyth"), \
            session_for(config) as session:
        transfer_entries(session, config, [alfie_entry, entry_id(config, "102")], actor="mrs.b")
    assert count(config, Borrower) == 1
    with session_for(config) as session:
        assert transfer_entries(session, config, [alfie_entry], force=True, actor="mrs.b").barcodes == ("S0042",)


def test_a_rejection_is_remembered_across_syncs_until_unrejected(config):
    with session_for(config) as session:
        reject_entry(session, entry_id(config, "102"), actor="mrs.b")
    for _ in range(2):
        report = sync(config, alfie(), zed(Forename="Zedd"))
        assert report.counts["skipped_rejected"] == 1 and report.counts["intake_refreshed"] == 0
        assert status(config, "102") == "rejected"
    with session_for(config) as session:
        unreject_entry(session, entry_id(config, "102"), actor="mrs.b")
    assert status(config, "102") == "pending"
    report = sync(config, alfie(), zed(Forename="Zedd"))
    assert report.counts["skipped_rejected"] == 0 and report.counts["intake_refreshed"] == 1


def test_undo_a_match_puts_the_borrower_back_exactly(config):
    before = borrower_by_barcode(config, "S0041")
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    with session_for(config) as session:
        undone = undo_last(session, actor="mrs.b")
    assert undone.summary.startswith("undid: matched Intake")
    assert borrower_by_barcode(config, "S0041") == before
    assert status(config, "101") == "pending"
    # The next sync asks again, as if the match had never been made.
    assert sync(config, alfie(), zed()).counts["matched_by_link"] == 0


def test_undo_a_transfer_removes_the_borrower(config):
    with session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "102")], actor="mrs.b")
        undo_last(session, actor="mrs.b")
    assert borrower_by_barcode(config, "S0042") is None and status(config, "102") == "pending"
    with session_for(config) as session:
        kept = session.execute(select(SyncEvent.action).where(SyncEvent.action == "created")).scalars().all()
    assert kept == ["created"]


@pytest.mark.parametrize("decide", [
    lambda s, c, e: mark_new(s, e, actor="mrs.b"),
    lambda s, c, e: reject_entry(s, e, actor="mrs.b"),
])
def test_undo_a_status_decision(config, decide):
    entry = entry_id(config, "102")
    with session_for(config) as session:
        decide(session, config, entry)
        undo_last(session, actor="mrs.b")
        decided = session.execute(select(IntakeEntry.decided_at, IntakeEntry.decided_by)
                                  .where(IntakeEntry.id == entry)).one()
    assert status(config, "102") == "pending" and tuple(decided) == (None, None)


def test_undo_steps_back_one_decision_at_a_time(config):
    entry = entry_id(config, "102")
    with session_for(config) as session:
        reject_entry(session, entry, actor="mrs.b")
        unreject_entry(session, entry, actor="mrs.b")
        mark_new(session, entry, actor="mrs.b")
    steps = []
    for _ in range(3):
        with session_for(config) as session:
            undo_last(session, actor="mrs.b")
        steps.append(status(config, "102"))
    assert steps == ["pending", "rejected", "pending"]
    with pytest.raises(IntakeError, match="no Intake decision to undo"), session_for(config) as session:
        undo_last(session, actor="mrs.b")


def test_undo_is_refused_when_the_sync_has_changed_what_it_wrote(config):
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    sync(config, alfie(RegGroup="8B"), zed())
    with pytest.raises(IntakeError, match=r"borrower S0041 has changed since \(tutor_group\)"), \
            session_for(config) as session:
        undo_last(session, actor="mrs.b")
    assert borrower_by_barcode(config, "S0041")["mis_id"] == "101"


def test_undo_of_a_transfer_is_refused_once_the_borrower_has_a_loan(config):
    with session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "102")], actor="mrs.b")
    created = borrower_by_barcode(config, "S0042")
    with session_for(config) as session:
        session.execute(insert(Loan).values(borrower_id=created["id"], item="The Hobbit"))
    with pytest.raises(IntakeError, match="borrower S0042 has 1 loan"), session_for(config) as session:
        undo_last(session, actor="mrs.b")


def test_search_finds_borrowers_by_name_or_barcode(config):
    with session_for(config) as session:
        assert [h.barcode for h in search_borrowers(session, "alf smy")] == ["S0041"]
        assert [h.barcode for h in search_borrowers(session, "s004")] == ["S0041"]
        assert search_borrowers(session, "zed") == []


# --- what the sync does with it (engine/plan.py and engine/sync.py call these) --

def test_the_sync_stores_each_new_entrys_best_score(config):
    with session_for(config) as session:
        stored = dict(session.execute(select(IntakeEntry.mis_id, IntakeEntry.best_score)).all())
    assert stored["101"] >= 60 and stored["102"] == 0


def test_a_sync_that_fills_intake_beyond_the_limit_leaves_scores_for_later(tmp_path, library_url, monkeypatch):
    import engine.sync

    monkeypatch.setattr(engine.sync, "SCORES_PER_RUN", 1)
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"))
    sync(config, alfie(), zed())
    with session_for(config) as session:
        assert set(session.scalars(select(IntakeEntry.best_score))) == {None}
        assert list_entries(session)[0].best_score is not None, "the list still shows a score"


def test_the_sync_auto_accepts_a_clear_fuzzy_match_only_when_switched_on(tmp_path, library_url):
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"),
                     intake={"auto_accept_score": 90})
    report = sync(config, alfie(AdmissionNo=None), zed())
    assert report.counts["intake_added"] == 1 and borrower_by_barcode(config, "S0041")["mis_id"] == "101"


def test_one_library_record_per_person(config):
    with session_for(config) as session:
        session.execute(insert(Borrower).values(barcode="S0050", forename="Alfie", surname="Smith",
                                                mis_person_type="student", mis_id="101"))
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "101")], force=True, actor="mrs.b")
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
