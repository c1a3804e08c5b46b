"""The Intake operations against a real library database (SQLite, PostgreSQL,
MariaDB): each decision, its refusals, undo, and what the next sync makes of it."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, insert, select, update

import engine.intake.queue
import engine.intake.scores
from engine.decisions import REMOVED, scrub_decisions
from engine.intake import (
    IntakeError,
    list_entries,
    load_index,
    make_decision,
    mark_new,
    match_entry,
    recent_decisions,
    refresh_best_scores,
    reject_entry,
    search_borrowers,
    show_entry,
    transfer_entries,
    undo_decision_by_id,
    undo_last,
    unreject_entry,
)
from engine.statuses import DecisionAction, IntakeStatus
from engine.models import (
    Borrower,
    BorrowerPhoto,
    Guardian,
    IntakeDecision,
    IntakeEntry,
    Loan,
    SyncEvent,
)
from tests.builders import student
from tests.intake_builders import (
    borrower_by_barcode,
    entry_id,
    library,
    row,
    session_for,
    sync,
)
from tests.optional_builders import b64, contact, image_bytes, photo, student_contact

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


def forced_events(config):
    with session_for(config) as session:
        return session.execute(select(SyncEvent.intake_id, SyncEvent.borrower_id, SyncEvent.field)
                               .where(SyncEvent.action == "intake_forced")).all()


def no_index(*_args, **_kwargs):
    raise AssertionError("the library was indexed again")


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


def test_list_without_scoring_reads_no_record_and_says_when_each_entry_changed(config, monkeypatch):
    with session_for(config) as session:
        stored = dict(session.execute(select(IntakeEntry.id, IntakeEntry.updated_at)).all())
        # Unscored, and a record that cannot be read: a quick list needs neither.
        session.execute(update(IntakeEntry).values(best_score=None, record="not read"))
    monkeypatch.setattr(engine.intake.queue, "load_index", no_index)
    with session_for(config) as session:
        items = list_entries(session, score_missing=False)
    assert [i.best_score for i in items] == [None, None]
    assert {i.id: i.updated_at for i in items} == stored


def test_refresh_best_scores_reuses_the_index_it_is_given(config, monkeypatch):
    with session_for(config) as session:
        index = load_index(session)
        session.execute(update(IntakeEntry).values(best_score=None))
        monkeypatch.setattr(engine.intake.scores, "load_index", no_index)
        assert refresh_best_scores(session, index=index) == 2


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


def test_a_hand_match_to_a_twins_borrower_needs_force(tmp_path, library_url):
    """Scarlett's record matched to her twin Tori's borrower would merge the twins."""
    config = library(tmp_path, library_url, row("Tori", "Clark", "2013-06-01", barcode="S0001969", gender="F"))
    sync(config, student("Scarlett", "Clark", "2013-06-01", Id="13", YearGroup="Year  6"))
    tori = borrower_by_barcode(config, "S0001969")
    with pytest.raises(IntakeError, match=r"same surname and date of birth but another forename \(Tori\).*force"), \
            session_for(config) as session:
        match_entry(session, config, entry_id(config, "13"), "S0001969", actor="mrs.b")
    assert borrower_by_barcode(config, "S0001969") == tori and count(config, IntakeDecision) == 0
    with session_for(config) as session:
        decision = match_entry(session, config, entry_id(config, "13"), "S0001969", actor="mrs.b", force=True)
    assert decision.summary.endswith("(forced past borrower S0001969)")
    assert forced_events(config) == [(entry_id(config, "13"), tori["id"], "match")]


def test_a_hand_match_to_a_borrower_who_looks_like_someone_else_needs_force(config):
    zed = entry_id(config, "102")
    with pytest.raises(IntakeError, match=r"borrower S0041 looks like a different person \(score \d+\)"), \
            session_for(config) as session:
        match_entry(session, config, zed, "S0041", actor="mrs.b")
    assert borrower_by_barcode(config, "S0041")["mis_id"] is None
    with session_for(config) as session:
        match_entry(session, config, zed, "S0041", actor="mrs.b", force=True)
    assert borrower_by_barcode(config, "S0041")["mis_id"] == "102"


def test_a_hand_match_of_the_right_borrower_needs_no_force_and_records_none(config):
    with session_for(config) as session:
        decision = match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b",
                               index=load_index(session))
    assert "forced" not in decision.summary and forced_events(config) == []


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


def test_a_forced_transfer_records_the_borrower_it_was_forced_past(config):
    with session_for(config) as session:
        decision = transfer_entries(session, config, [entry_id(config, "101"), entry_id(config, "102")], force=True,
                                    actor="mrs.b")
    assert decision.summary.endswith("(forced past borrower S0041)")
    assert forced_events(config) == [(entry_id(config, "101"), borrower_by_barcode(config, "S0041")["id"],
                                      "transfer")]


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


def test_a_decision_that_cannot_be_undone_does_not_block_older_ones(config):
    with session_for(config) as session:
        rejected = reject_entry(session, entry_id(config, "102"), actor="mrs.b")
        matched = match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    sync(config, alfie(RegGroup="8B"), zed())
    with pytest.raises(IntakeError, match="has changed since"), session_for(config) as session:
        undo_last(session, actor="mrs.b")
    with session_for(config) as session:
        assert [(d.id, d.action, d.undone_at) for d in recent_decisions(session)] == [
            (matched.id, "match", None), (rejected.id, "reject", None)]
        undone = undo_decision_by_id(session, rejected.id, actor="mr.c")
    assert undone.summary.startswith("undid: rejected Intake") and status(config, "102") == "pending"
    with session_for(config) as session:
        assert [d.undone_by for d in recent_decisions(session)] == [None, "mr.c"]
    with pytest.raises(IntakeError, match=f"decision {rejected.id} .* was already undone"), \
            session_for(config) as session:
        undo_decision_by_id(session, rejected.id, actor="mrs.b")
    with pytest.raises(IntakeError, match="no Intake decision 9999"), session_for(config) as session:
        undo_decision_by_id(session, 9999, actor="mrs.b")


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


@pytest.mark.parametrize("score, linked", [(90, True), (0, False)])
def test_the_sync_auto_accepts_a_clear_fuzzy_match_only_when_switched_on(tmp_path, library_url, score, linked):
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"),
                     intake={"auto_accept_score": score})
    report = sync(config, alfie(AdmissionNo=None), zed())
    assert report.counts["matched_by_fuzzy"] == int(linked)
    assert report.counts["intake_added"] == (1 if linked else 2)
    assert borrower_by_barcode(config, "S0041")["mis_id"] == ("101" if linked else None)


def test_one_library_record_per_person(config):
    with session_for(config) as session:
        session.execute(insert(Borrower).values(barcode="S0050", forename="Alfie", surname="Smith",
                                                mis_person_type="student", mis_id="101"))
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "101")], force=True, actor="mrs.b")
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")


@pytest.mark.parametrize("ids", [{"idaas_id": "pl-101"}, {"external_id": "00000000-0000-0000-0000-000000000101"}])
def test_one_library_record_per_person_whichever_id_links_it(config, ids):
    """A second borrower carrying the person's IdaasId or ExternalId would make
    the next sync reopen the decision as conflicting ids."""
    with session_for(config) as session:
        session.execute(insert(Borrower).values(barcode="S0050", forename="Alfie", surname="Smith", **ids))
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    with pytest.raises(IntakeError, match="already linked to borrower S0050"), session_for(config) as session:
        transfer_entries(session, config, [entry_id(config, "101")], force=True, actor="mrs.b")


# --- what decisions keep of optional data --------------------------------------

GUARDIAN = contact("9", "Perpetua", "Smith", MobilePhone="07700 900123")


def stored_decisions(config) -> str:
    with session_for(config) as session:
        return "\n".join(session.execute(select(IntakeDecision.changes)).scalars())


def test_a_decision_keeps_no_photo_or_guardian_and_forgets_what_is_switched_off(tmp_path, library_url):
    picture = image_bytes()
    optional = {"Photos": [photo("101", picture)], "Contacts": [GUARDIAN],
                "StudentContacts": [student_contact("101", "9", "Mother", 1)]}
    on = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"),
                 data={"email": True, "photos": True, "guardians": True})
    before = borrower_by_barcode(on, "S0041")
    sync(on, alfie(WorkEmail="alfie@example.org"), **optional)
    with session_for(on) as session:
        match_entry(session, on, entry_id(on, "101"), "S0041", actor="mrs.b")
    kept = stored_decisions(on)
    assert b64(picture)[:40] not in kept and "Perpetua" not in kept and "07700" not in kept, "digests only"
    assert "alfie@example.org" in kept
    after = json.loads(kept)["rows"][0]["after"]
    assert after["photo"]["digest"] == after["photo_digest"] and after["guardians"]["count"] == 1

    # Switched off: the sync empties the borrower and the decisions lose their copies...
    sync(library(tmp_path, library_url), alfie(WorkEmail="alfie@example.org"), **optional)
    with session_for(on) as session:
        assert scrub_decisions(session, {"email", "photo_digest", "guardians"}) == 0, "the sync scrubbed them"
    kept = stored_decisions(on)
    assert "alfie@example.org" not in kept and REMOVED in kept
    recorded = json.loads(kept)["rows"]
    borrower = next(r for r in recorded if r["table"] == "borrowers")
    assert {borrower["after"][k] for k in ("email", "photo_digest", "guardians_digest", "photo", "guardians")} \
        == {REMOVED}
    # ...and the match can still be undone: what is gone stays gone.
    with session_for(on) as session:
        undo_last(session, actor="mrs.b")
    assert borrower_by_barcode(on, "S0041") == before and count(on, BorrowerPhoto) == count(on, Guardian) == 0


def test_undo_removes_a_photo_the_decision_wrote_and_cannot_bring_back_the_one_it_replaced(tmp_path, library_url):
    """Decisions keep no photos: the old one is gone, and the borrower says it
    has none, so the next sync to link it writes the photo afresh."""
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M",
                                                 photo_digest="old"), data={"photos": True})
    with session_for(config) as session:
        session.execute(insert(BorrowerPhoto).values(borrower_id=borrower_by_barcode(config, "S0041")["id"],
                                                     content_type="image/jpeg", data=b"old"))
    sync(config, alfie(), Photos=[photo("101", image_bytes())])
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
        undo_last(session, actor="mrs.b")
    assert borrower_by_barcode(config, "S0041")["photo_digest"] is None and count(config, BorrowerPhoto) == 0


def test_list_by_ids_reads_each_once_in_chunks_oldest_first(config, monkeypatch):
    monkeypatch.setattr(engine.intake.queue, "IDS_PER_QUERY", 1)
    alfie_id, zed_id = entry_id(config, "101"), entry_id(config, "102")
    with session_for(config) as session:
        assert [i.id for i in list_entries(session, ids=[zed_id, alfie_id, zed_id, 9999])] == [alfie_id, zed_id]
        assert list_entries(session, ids=[]) == []
        reject_entry(session, zed_id, actor="mrs.b")
        # The other filters still apply.
        assert [i.id for i in list_entries(session, ids=[zed_id, alfie_id])] == [alfie_id]
        assert [i.id for i in list_entries(session, ids=[zed_id, alfie_id], status="all")] == [alfie_id, zed_id]


def test_every_decision_is_made_through_one_dispatch_by_its_action(config):
    alfie_id, zed_id = entry_id(config, "101"), entry_id(config, "102")
    with session_for(config) as session:
        made = [make_decision(session, config, "reject", [alfie_id], actor="mrs.b"),
                make_decision(session, config, DecisionAction.UNREJECT, [alfie_id], actor="mrs.b"),
                make_decision(session, config, "match", [alfie_id], actor="mrs.b", barcode="S0041"),
                make_decision(session, config, "new", [zed_id], actor="mrs.b"),
                make_decision(session, config, "transfer", [], all_new=True, actor="mrs.b")]
        stored = session.execute(select(IntakeDecision.action).order_by(IntakeDecision.id)).scalars().all()
    assert [d.action for d in made] == stored == ["reject", "unreject", "match", "new", "transfer"]
    assert [type(a) for a in stored] == [str] * 5 and all(isinstance(d.action, DecisionAction) for d in made)
    assert status(config, "101") == IntakeStatus.MATCHED and status(config, "102") == "transferred"


@pytest.mark.parametrize("action, ids, options, message", [
    ("delete", "101", {}, "'delete' is not an Intake decision"),
    ("undo", "101", {}, "'undo' is not an Intake decision"),
    ("match", "101 102", {"barcode": "S0041"}, "about one Intake entry, not 2"),
    ("reject", "", {}, "about one Intake entry, not 0"),
    ("match", "101", {}, "name the borrower to match to"),
])
def test_a_decision_asked_for_wrongly_is_refused_and_writes_nothing(config, action, ids, options, message):
    entry_ids = [entry_id(config, mis_id) for mis_id in ids.split()]
    with pytest.raises(IntakeError, match=message), session_for(config) as session:
        make_decision(session, config, action, entry_ids, actor="mrs.b", **options)
    assert status(config, "101") == "pending" and count(config, IntakeDecision) == 0


@pytest.mark.parametrize("typed", ["le-41", "LE-41 ", "Lé-41", "LÉ-41"])
def test_a_hand_match_finds_the_barcode_typed_in_any_case_or_accent_on_every_database(tmp_path, library_url,
                                                                                      typed):
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="LÉ-41", gender="M"))
    sync(config, alfie())
    with session_for(config) as session:
        decision = match_entry(session, config, entry_id(config, "101"), typed, actor="mrs.b")
    assert decision.barcodes == ("LÉ-41",) and decision.summary.startswith("matched Intake")
    assert "borrower LÉ-41" in decision.summary
    assert borrower_by_barcode(config, "LÉ-41")["mis_id"] == "101" and status(config, "101") == "matched"


def _unreadable_records(stored: str) -> list[str]:
    """Records an Intake entry may hold that are not a person's: not JSON, not
    an object, or an object whose fields no person has."""
    record = json.loads(stored)
    broken = [{k: v for k, v in record.items() if k != "person_type"}, {**record, "person_type": "alien"},
              {**record, "preferred_forename": 5}, {**record, "date_of_birth": "2011-02-30"},
              {**record, "guardians": ["mum"]}, {**record, "photo": "a photo"}, {**record, "presence": None}]
    return ["not json", "", "[1, 2]", "null", '"text"', stored[:-1]] + [json.dumps(b) for b in broken]


def test_an_entry_whose_stored_record_cannot_be_read_is_listed_unscored_and_refused_by_name(config):
    alfie_id, zed_id = entry_id(config, "101"), entry_id(config, "102")
    with session_for(config) as session:
        stored = session.execute(select(IntakeEntry.record).where(IntakeEntry.id == zed_id)).scalar_one()
    refused = rf"Intake {zed_id} \(Zed Newman\): its stored record cannot be read"
    for record in _unreadable_records(stored):
        with session_for(config) as session:
            session.execute(update(IntakeEntry).where(IntakeEntry.id == zed_id).values(record=record, best_score=None))
            session.execute(update(IntakeEntry).where(IntakeEntry.id == alfie_id).values(best_score=None))
            listed = {i.id: i.best_score for i in list_entries(session)}
            assert listed[alfie_id] >= 60 and listed[zed_id] is None, record
            assert refresh_best_scores(session) == 1, record
        for refuse in (lambda s: show_entry(s, zed_id), lambda s: match_entry(s, config, zed_id, "S0041", actor="x"),
                       lambda s: transfer_entries(s, config, [zed_id, alfie_id], actor="x", force=True)):
            with pytest.raises(IntakeError, match=refused), session_for(config) as session:
                refuse(session)
    assert count(config, IntakeDecision) == 0 and status(config, "101") == status(config, "102") == "pending"
    with session_for(config) as session:
        assert session.execute(select(IntakeEntry.best_score).where(IntakeEntry.id == zed_id)).scalar() is None


def test_an_unreadable_record_beside_a_match_names_no_twin(config):
    """The match reads the other entries born the same day, as possible
    owners of the borrower: one it cannot read is nobody."""
    with session_for(config) as session:
        session.execute(update(IntakeEntry).where(IntakeEntry.mis_id == "102")
                        .values(record="{damaged", date_of_birth=date(2012, 3, 4)))
    with session_for(config) as session:
        match_entry(session, config, entry_id(config, "101"), "S0041", actor="mrs.b")
    assert status(config, "101") == "matched"
