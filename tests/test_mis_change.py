"""A change of MIS (SIMS to Arbor): noticed, previewed, re-keyed with --rekey,
and never a dead end (Intake offers a borrower whose MIS person has gone;
`borrowers unlink` takes a link off by hand)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cli.main import ExitCode, main
from engine.intake import IntakeError, make_decision, show_entry, undo_last
from engine.library import load_snapshot
from engine.links import UnlinkRefused, unlink_borrower
from engine.matching import Tier
from engine.models import SyncRun
from engine.person import PersonType
from engine.rekey import MIS_NAME, MisChange, same_mis
from tests.builders import Library, library_session, make_config, student, write_export
from tests.support.mis_change import arbor_school, as_mis, new_ids, old_school, sync_as, synced_under_sims, upn

SUMMARY = "MIS change: 13 pupils re-linked by UPN, 2 staff by name and date of birth, 3 recycled"


def test_each_successful_run_records_its_mis_and_the_snapshot_knows_the_last(tmp_path, library_url):
    synced_under_sims(tmp_path, library_url)
    with library_session(library_url) as session:
        assert session.scalars(select(SyncRun.mis_name)).all() == ["simsnet"]
        assert load_snapshot(session).last_mis_name == "simsnet"


def test_without_rekey_a_change_of_mis_stops_the_run_with_the_numbers_and_writes_nothing(tmp_path, library_url):
    library = synced_under_sims(tmp_path, library_url)
    before = library.snapshot()
    pupils, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", pupils, staff)
    assert report.outcome == "refused"
    assert ("a change of MIS was detected (the export is from arbor, but earlier syncs were from simsnet). "
            f"{SUMMARY}; run `mislink --sync --rekey` to re-link them") in report.message
    after = library.snapshot()
    assert {k: v for k, v in after.items() if k != "sync_runs"} == {k: v for k, v in before.items()
                                                                   if k != "sync_runs"}


def test_a_dry_run_previews_the_rekey(tmp_path, library_url):
    library = synced_under_sims(tmp_path, library_url)
    before = library.snapshot()
    pupils, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", pupils, staff, dry_run=True)
    assert report.outcome == "dry-run" and report.guard_stops
    assert report.counts["matched_by_rekey"] == 15 and report.counts["recycled"] == 3
    text = report.to_text()
    assert f"  {SUMMARY} (the export is from arbor, but earlier syncs were from simsnet)" in text
    assert "not re-linked: B121: its date of birth differs from that of student 721, who has its UPN" in text
    assert "not re-linked: B122: its UPN is also borrower B123's" in text
    assert "not re-linked: B123: its UPN is also borrower B122's" in text
    change = report.to_json()["mis_change"]
    assert (change["old_mis"], change["new_mis"], change["detected_by"]) == ("simsnet", "arbor", "mis_name")
    assert (change["pupils_by_upn"], change["staff_by_name_dob"], change["recycled"]) == (13, 2, 3)
    assert [n["barcode"] for n in change["not_relinked"]] == ["B121", "B122", "B123"]
    assert library.snapshot() == before


def test_with_rekey_everyone_is_relinked_keeping_barcodes_and_loans(tmp_path, library_url):
    library = synced_under_sims(tmp_path, library_url)
    loans = library.rows("loans")
    pupils, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", pupils, staff, rekey=True)
    assert report.outcome == "ok", report.message
    assert (report.counts["matched_by_rekey"], report.counts["recycled"], report.counts["intake_added"]) == (15, 3, 3)
    borrowers = library.borrowers()
    for i, record in enumerate(pupils[:13]):
        barcode = f"B{old_school()[0][i]['Id']}"
        row = borrowers[barcode]
        assert (row["mis_person_type"], row["mis_id"], row["idaas_id"], row["external_id"], row["status"]) == (
            "student", record["Id"], record["IdaasId"], record["ExternalId"], "active"), barcode
    assert borrowers["B120"]["upn"] == upn(21)  # Mo's permanent UPN, found through FormerUPN
    assert (borrowers["T50"]["mis_id"], borrowers["T51"]["mis_id"]) == ("51", "50")
    # Not re-linked: recycled, their SIMS links cleared; their Arbor records wait in Intake.
    for barcode in ("B121", "B122", "B123"):
        row = borrowers[barcode]
        assert (row["status"], row["mis_id"], row["idaas_id"], row["recycled_reason"]) == (
            "recycled", None, None, "no longer in the MIS export")
    assert sorted(e["mis_id"] for e in library.intake()) == ["721", "722", "723"]
    assert library.rows("loans") == loans
    # Every re-link is in the audit trail with both ids.
    moved = {(e["borrower_id"], e["old_value"], e["new_value"]) for e in library.events(report.run_id)
             if e["field"] == "mis_id"}
    assert (borrowers["B100"]["id"], "100", "101") in moved and (borrowers["T50"]["id"], "50", "51") in moved
    with library_session(library_url) as session:
        assert session.scalars(select(SyncRun.mis_name).order_by(SyncRun.id)).all()[-1] == "arbor"
    again = sync_as(tmp_path, library_url, "arbor", pupils, staff)
    assert again.outcome == "ok", again.message
    assert again.plan.is_empty and again.plan.mis_change is None
    assert again.counts["matched_by_link"] == 15


def test_a_clean_change_of_mis_relinks_everyone_and_recycles_nobody(tmp_path, library_url):
    """The target: with nothing odd in the school, nobody recycled, nobody in Intake."""
    pupils, staff = old_school()
    library = synced_under_sims(tmp_path, library_url, pupils[:13], staff)
    pupils, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", pupils[:13], staff, rekey=True)
    assert report.outcome == "ok", report.message
    assert report.plan.mis_change.summary == \
        "MIS change: 13 pupils re-linked by UPN, 2 staff by name and date of birth, 0 recycled"
    assert (report.counts["recycled"], report.counts["intake_added"]) == (0, 0)
    assert {b["status"] for b in library.borrowers().values()} == {"active"}


def test_the_mass_change_guard_does_not_stop_a_rekey(tmp_path, library_url):
    """Everyone's MIS id is gone, yet after re-keying nobody is recycled."""
    pupils, staff = old_school()
    library = synced_under_sims(tmp_path, library_url, pupils[:13], staff)
    pupils, staff = arbor_school()
    report = sync_as(tmp_path, library_url, "arbor", pupils[:13], staff, rekey=True, max_recycle_share=0.1)
    assert report.outcome == "ok", report.message
    assert report.guard_stops == []
    assert library.borrower("B105")["mis_id"] == "106"


def test_a_change_of_mis_is_noticed_by_missing_ids_when_the_name_stays(tmp_path, library_url):
    library = synced_under_sims(tmp_path, library_url)
    pupils, staff = old_school()
    renumbered = [new_ids(p, str(900 + i), "PL") for i, p in enumerate(pupils[:12])]
    report = sync_as(tmp_path, library_url, "simsnet", renumbered, staff)
    assert report.outcome == "refused"
    assert ("a change of MIS was detected (16 of 16 linked pupils are missing from the export, and 12 of their "
            "UPNs are in it under new MIS ids)") in report.message
    assert report.plan.mis_change.detected_by == "missing_ids"
    done = sync_as(tmp_path, library_url, "simsnet", renumbered, staff, rekey=True)
    assert done.outcome == "ok", done.message
    assert library.borrower("B100")["mis_id"] == "900"


def test_a_few_leavers_are_not_a_change_of_mis(tmp_path, library_url):
    synced_under_sims(tmp_path, library_url)
    pupils, staff = old_school()
    report = sync_as(tmp_path, library_url, "simsnet", pupils[:12], staff, rekey=True)
    assert report.outcome == "ok", report.message
    assert report.plan.mis_change is None and report.counts["recycled"] == 4
    assert "--rekey was given, but the export shows no change of MIS: nothing to re-link" in report.plan.warnings


def test_one_mis_named_by_another_feed_is_no_change_of_mis(tmp_path, library_url):
    synced_under_sims(tmp_path, library_url)  # XoD's "simsnet"
    pupils, staff = old_school()
    for name in ("SIMS", " SimsNet ", "SIMS  .net", "Capita SIMS"):  # Wonde's and others' names for it
        report = sync_as(tmp_path, library_url, name, pupils, staff)
        assert report.outcome == "ok", report.message
        assert report.plan.mis_change is None, name


def test_an_mis_renamed_with_its_ids_kept_does_not_stop_the_run(tmp_path, library_url):
    synced_under_sims(tmp_path, library_url)
    pupils, staff = old_school()
    report = sync_as(tmp_path, library_url, "Arbor", pupils, staff)
    assert report.outcome == "ok", report.message
    assert report.plan.mis_change is not None and not report.plan.mis_change.needs_rekey
    assert (report.plan.mis_change.old_mis, report.plan.mis_change.new_mis) == ("simsnet", "Arbor")
    assert sync_as(tmp_path, library_url, " arbor ", pupils, staff).plan.mis_change is None


@pytest.mark.parametrize("old, new, same", [
    ("simsnet", "SIMS", True), ("simsnet", "sims .net", True), ("capita  sims", "simsnet", True),
    ("simsnet", "arbor", False), ("SIMS", "Bromcom", False), ("ScholarPack", "scholarpack", True),
    ("Pupil  Asset", "pupil asset", True), ("Pupil Asset", "Pupil Assets", False)])
def test_mis_names_compare_as_the_product_they_name(old, new, same):
    assert same_mis(new, old) is same


def test_cli_sync_rekey_end_to_end(tmp_path, library_url, capsys):
    library = synced_under_sims(tmp_path, library_url)
    pupils, staff = arbor_school()
    write_export(tmp_path / "export", Students=as_mis("arbor", "Students", pupils),
                 Staff=as_mis("arbor", "Staff", staff))
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n\n[library]\nurl = "{library_url}"\n\n'
                      '[data]\nstaff = true\nstaff_year_group = 14\n\n'
                      '[sync]\nlog_file = "mislink.log"\nmax_recycle_share = 1.0\n', encoding="utf-8")
    assert main(["--config", str(config), "--sync"]) == ExitCode.GUARD
    captured = capsys.readouterr()
    assert "run `mislink --sync --rekey` to re-link them" in captured.err
    assert main(["--config", str(config), "--sync", "--dry-run"]) == ExitCode.GUARD
    assert SUMMARY in capsys.readouterr().out
    assert main(["--config", str(config), "--sync", "--dry-run", "--rekey"]) == ExitCode.OK
    capsys.readouterr()
    assert main(["--config", str(config), "--sync", "--rekey", "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert (report["outcome"], report["matched_by_rekey"], report["mis_change"]["summary"]) == ("ok", 15, SUMMARY)
    assert library.borrower("B100")["mis_id"] == "101"
    assert main(["--config", str(config), "--rekey"]) == ExitCode.USAGE


def unlink_config(tmp_path, library_url):
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n\n[library]\nurl = "{library_url}"\n', encoding="utf-8")
    return config


def test_borrowers_unlink_clears_the_link_records_it_and_can_be_undone(tmp_path, library_url, capsys):
    library = synced_under_sims(tmp_path, library_url)
    before = library.borrower("B100")
    config = unlink_config(tmp_path, library_url)
    assert main(["--config", str(config), "borrowers", "unlink", "b100", "--json"]) == ExitCode.OK
    done = json.loads(capsys.readouterr().out)
    assert (done["barcode"], done["linked_to"]) == ("B100", "student 100")
    assert done["cleared"] == {"mis_person_type": "student", "mis_id": "100", "idaas_id": "PL-100",
                               "external_id": before["external_id"]}
    row = library.borrower("B100")
    assert (row["mis_person_type"], row["mis_id"], row["idaas_id"], row["external_id"]) == (None,) * 4
    assert {k: v for k, v in row.items() if k not in ("mis_person_type", "mis_id", "idaas_id", "external_id",
                                                     "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("mis_person_type", "mis_id", "idaas_id", "external_id",
                                                     "updated_at")}
    events = {(e["action"], e["field"], e["old_value"]) for e in library.events() if e["borrower_id"] == row["id"]}
    assert {("unlinked", "mis_id", "100"), ("unlinked", "idaas_id", "PL-100")} <= events
    with library_session(library_url) as session:
        undone = undo_last(session, actor="tester")
    assert "unlinked borrower B100 from student 100" in undone.summary
    assert library.borrower("B100")["mis_id"] == "100"


def test_borrowers_unlink_refuses_an_unknown_or_unlinked_barcode(tmp_path, library_url, capsys):
    library = Library(library_url)
    library.add_borrower("B1", "Ada", "Lovelace")
    config = unlink_config(tmp_path, library_url)
    assert main(["--config", str(config), "borrowers", "unlink", "NOPE"]) == ExitCode.FAILED
    assert "there is no borrower with barcode NOPE" in capsys.readouterr().err
    assert main(["--config", str(config), "borrowers", "unlink", "B1", "--json"]) == ExitCode.FAILED
    assert "borrower B1 is not linked to an MIS person" in json.loads(capsys.readouterr().out)["error"]
    with library_session(library_url) as session, pytest.raises(UnlinkRefused):
        unlink_borrower(session, "B1", actor="tester")
    assert library.events() == []


def test_intake_offers_a_borrower_whose_mis_person_left_and_matching_moves_the_link(tmp_path, library_url, capsys):
    """An MIS record deleted and made again with a new id: no change of MIS,
    the old borrower is recycled and the new record waits in Intake, which
    offers that borrower, marked, and matching it moves the link."""
    library = synced_under_sims(tmp_path, library_url)
    pupils, staff = old_school()
    remade = new_ids(pupils[3], "999", "PL")
    report = sync_as(tmp_path, library_url, "simsnet", [*pupils[:3], remade, *pupils[4:]], staff)
    assert report.outcome == "ok" and report.plan.mis_change is None
    assert library.borrower("B103")["status"] == "recycled"
    (entry,) = library.intake()
    config = make_config(tmp_path, library_url)
    with library_session(library_url) as session:
        best = show_entry(session, entry["id"]).suggestions.best
    assert (best.barcode, best.absent_link, best.linked_to) == ("B103", "student 103", None)
    assert main(["--config", str(unlink_config(tmp_path, library_url)), "intake", "show", str(entry["id"])]) == 0
    assert "(recycled; linked to MIS student 103, who is no longer in the MIS export; matching moves the link)" \
        in capsys.readouterr().out
    with library_session(library_url) as session:
        decision = make_decision(session, config, "match", [entry["id"]], actor="tester", barcode="B103")
    assert "moving its link from student 103, who is no longer in the MIS" in decision.summary
    row = library.borrower("B103")
    assert (row["status"], row["mis_id"], row["idaas_id"], row["external_id"]) == (
        "active", "999", "PL-999", remade["ExternalId"])
    assert any(e["action"] == "relinked" and e["old_value"] == "student 103" and e["new_value"] == "student 999"
               for e in library.events())
    again = sync_as(tmp_path, library_url, "simsnet", [*pupils[:3], remade, *pupils[4:]], staff)
    assert again.plan.is_empty, again.to_text()
    with library_session(library_url) as session:
        undo_last(session, actor="tester")
    row = library.borrower("B103")
    assert (row["status"], row["mis_id"]) == ("recycled", "103")


def test_a_borrower_linked_to_someone_still_in_the_export_is_never_offered(tmp_path, library_url):
    library = synced_under_sims(tmp_path, library_url)
    pupils, staff = old_school()
    twin = student("Ada", "Family0", pupils[0]["DateofBirth"], Id="555")
    sync_as(tmp_path, library_url, "simsnet", [*pupils, twin], staff)
    (entry,) = library.intake()
    with library_session(library_url) as session:
        found = show_entry(session, entry["id"]).suggestions
    assert "B100" not in [s.barcode for s in found.ranked]
    assert [s.barcode for s in found.linked_elsewhere] == ["B100"]
    with library_session(library_url) as session, \
            pytest.raises(IntakeError, match=r"is linked to another MIS person \(student 100\)"):
        make_decision(session, make_config(tmp_path, library_url), "match", [entry["id"]], actor="tester",
                      barcode="B100")


def test_person_types_are_told_apart_in_the_summary():
    change = MisChange("simsnet", "arbor", MIS_NAME, {1: "gone"})
    change.relinked.update({(PersonType.STUDENT, Tier.UPN): 1024, (PersonType.STAFF, Tier.NAME_DOB): 61,
                            (PersonType.STUDENT, Tier.NAME_DOB): 3})
    assert change.summary == ("MIS change: 1,024 pupils re-linked by UPN, 3 pupils by name and date of birth, "
                              "61 staff by name and date of birth, 0 recycled")


def test_intake_entries_follow_their_people_to_the_new_mis(tmp_path, library_url):
    """Nia waits in Intake and Rex was rejected under SIMS; Arbor gives each
    the other's old id, and Quinn's old id to Zoe, who is new (Quinn has
    left). Nia still waits and Rex stays rejected, each on the same entry;
    Quinn's entry keeps its id, marked, and Zoe gets her own."""
    pupils, staff = old_school()
    nia = student("Nia", "Newman", "2013-01-05", Id="130", UPN=upn(30))
    rex = student("Rex", "Reject", "2013-02-06", Id="131", UPN=upn(31))
    quinn = student("Quinn", "Gone", "2013-03-07", Id="132", UPN=upn(32))
    library = synced_under_sims(tmp_path, library_url, pupils, staff)
    sync_as(tmp_path, library_url, "simsnet", [*pupils, nia, rex, quinn], staff)
    library.set_intake_status("student", "131", "rejected")
    entries = {e["mis_id"]: e["id"] for e in library.intake()}
    pupils, staff = arbor_school()
    zoe = student("Zoe", "Zed", "2013-04-08", Id="132", UPN=upn(33))
    arbor = [*pupils, new_ids(nia, "131", "PL"), new_ids(rex, "130", "PL"), zoe]
    report = sync_as(tmp_path, library_url, "arbor", arbor, staff, rekey=True)
    assert report.outcome == "ok", report.message
    assert report.plan.mis_change.entries_rekeyed == 2
    assert (report.counts["skipped_rejected"], report.counts["intake_added"]) == (1, 4)  # Zoe; Dee, Sam and Sid
    intake = {e["id"]: e for e in library.intake()}
    assert (intake[entries["130"]]["mis_id"], intake[entries["130"]]["status"]) == ("131", "pending")
    assert (intake[entries["131"]]["mis_id"], intake[entries["131"]]["status"]) == ("130", "rejected")
    assert (intake[entries["132"]]["mis_id"], intake[entries["132"]]["status"]) == ("simsnet:132", "withdrawn")
    zoes = [e for e in intake.values() if e["forename"] == "Zoe"]
    assert [(e["mis_id"], e["status"]) for e in zoes] == [("132", "pending")]
    # Ids were handed round, so entries held placeholders for a moment; the
    # run's record (for runs undo) has each as it was before the run.
    recorded = [(c["row_id"], json.loads(c["before"]).get("mis_id")) for c in library.rows("run_changes")
                if c["run_id"] == report.run_id and c["table_name"] == "intake" and c["before"]]
    assert {(row_id, mis_id) for row_id, mis_id in recorded if mis_id} == {(entries[m], m) for m in entries}
    again = sync_as(tmp_path, library_url, "arbor", arbor, staff)
    assert again.plan.is_empty, again.to_text()
