"""``mislink intake …``: output, --json in either place, exit codes, refusals on stderr."""
from __future__ import annotations

import getpass
import json

import pytest
from sqlalchemy import select, update

from cli.main import build_parser
from cli.intake import run_intake
from engine.models import IntakeDecision, IntakeEntry, SyncEvent
from engine.users import current_user
from tests.builders import student
from tests.intake_builders import (
    borrower_by_barcode,
    entry_id,
    library,
    row,
    session_for,
    sync,
)


def mislink(config, *argv) -> int:
    """Parse as the top-level ``mislink`` parser does, then run the intake action."""
    return run_intake(config, build_parser().parse_args(list(argv)))


@pytest.fixture
def config(tmp_path, library_url):
    config = library(tmp_path, library_url, row("Alfred", "Smyth", barcode="S0041", gender="M"),
                     barcodes={"prefix": "S", "digits": 4})
    sync(config, student("Alfie", "Smith", Id="101", LegalForename="Alfred", Gender="M"),
         student("Zed", "Newman", "2011-10-09", Id="102"))
    return config


def test_list_prints_a_table_and_json_in_either_place(config, capsys):
    assert mislink(config, "intake", "list") == 0
    out = capsys.readouterr().out
    assert "Alfie Smith" in out and "Zed Newman" in out and "2 Intake records" in out
    for argv in (("--json", "intake", "list"), ("intake", "list", "--json"), ("intake", "--json", "list")):
        assert mislink(config, *argv) == 0
        assert [e["mis_id"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["101", "102"]


def test_show_explains_each_suggestion(config, capsys):
    assert mislink(config, "intake", "show", str(entry_id(config, "101"))) == 0
    out = capsys.readouterr().out
    assert "S0041  Alfred Smyth" in out and "probable duplicate" in out
    assert "forename" in out and "same (alfred)" in out
    assert mislink(config, "--json", "intake", "show", str(entry_id(config, "101"))) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["suggestions"][0]["barcode"] == "S0041"
    assert {"field", "verdict", "weight", "detail"} <= set(shown["suggestions"][0]["evidence"][0])


def test_match_then_undo(config, capsys):
    entry = str(entry_id(config, "101"))
    assert mislink(config, "intake", "match", entry, "S0041") == 0
    assert capsys.readouterr().out.startswith("Matched Intake")
    assert borrower_by_barcode(config, "S0041")["mis_id"] == "101"
    assert mislink(config, "intake", "undo") == 0
    assert capsys.readouterr().out.startswith("Undid: matched Intake")
    assert borrower_by_barcode(config, "S0041")["mis_id"] is None


def test_a_refusal_is_explained_on_stderr_with_exit_1(config, capsys):
    assert mislink(config, "intake", "match", str(entry_id(config, "101")), "NOPE") == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no borrower with barcode NOPE" in captured.err


def test_a_barcode_typed_in_another_case_is_the_same_borrower(config, capsys):
    assert mislink(config, "--json", "intake", "match", str(entry_id(config, "101")), "s0041") == 0
    assert json.loads(capsys.readouterr().out)["barcodes"] == ["S0041"]
    assert borrower_by_barcode(config, "S0041")["mis_id"] == "101"


def test_an_unreadable_stored_record_is_listed_and_shown_as_unreadable_by_id(config, capsys):
    entry = entry_id(config, "102")
    with session_for(config) as session:
        session.execute(update(IntakeEntry).where(IntakeEntry.id == entry).values(record="{damaged", best_score=None))
    assert mislink(config, "--json", "intake", "list") == 0
    listed = {e["mis_id"]: e["best_score"] for e in json.loads(capsys.readouterr().out)["entries"]}
    assert listed["101"] >= 60 and listed["102"] is None
    assert mislink(config, "intake", "show", str(entry)) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and f"Intake {entry} (Zed Newman): its stored record cannot be read" in captured.err


def test_transfer_of_a_probable_duplicate_needs_force(config, capsys):
    entry = str(entry_id(config, "101"))
    assert mislink(config, "intake", "transfer", entry) == 1
    assert "looks like borrower S0041" in capsys.readouterr().err
    assert mislink(config, "intake", "transfer", entry, "--force") == 0
    assert "as borrower S0042" in capsys.readouterr().out


def test_transfer_takes_ids_or_all_new_not_both(config, capsys):
    assert mislink(config, "intake", "new", str(entry_id(config, "102"))) == 0
    assert mislink(config, "intake", "transfer", "1", "--all-new") == 1
    assert "not both" in capsys.readouterr().err
    assert mislink(config, "--json", "intake", "transfer", "--all-new") == 0
    assert json.loads(capsys.readouterr().out)["barcodes"] == ["S0042"]


def test_reject_unreject_and_search(config, capsys):
    entry = str(entry_id(config, "102"))
    assert mislink(config, "intake", "reject", entry) == 0
    capsys.readouterr()
    assert mislink(config, "intake", "list", "--status", "rejected", "--json") == 0
    assert [e["mis_id"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["102"]
    assert mislink(config, "intake", "unreject", entry) == 0
    assert mislink(config, "intake", "search", "alfred", "smy") == 0
    assert "S0041" in capsys.readouterr().out


def test_a_match_that_looks_wrong_needs_force(config, capsys):
    entry = str(entry_id(config, "102"))
    assert mislink(config, "intake", "match", entry, "S0041") == 1
    assert "looks like a different person" in capsys.readouterr().err
    assert mislink(config, "intake", "match", entry, "S0041", "--force") == 0
    assert capsys.readouterr().out.startswith("Matched Intake")
    assert borrower_by_barcode(config, "S0041")["mis_id"] == "102"


def test_decisions_lists_ids_and_undo_takes_one(config, capsys):
    assert mislink(config, "intake", "reject", str(entry_id(config, "102"))) == 0
    assert mislink(config, "intake", "new", str(entry_id(config, "101"))) == 0
    capsys.readouterr()
    assert mislink(config, "--json", "intake", "decisions") == 0
    listed = json.loads(capsys.readouterr().out)["decisions"]
    assert [d["action"] for d in listed] == ["new", "reject"]
    rejected = listed[1]["id"]
    assert mislink(config, "intake", "undo", str(rejected)) == 0
    assert capsys.readouterr().out.startswith("Undid: rejected Intake")
    assert mislink(config, "intake", "decisions") == 0
    out = capsys.readouterr().out
    assert f"{rejected:>6}" in out and "(undone " in out and "2 decisions" in out
    assert mislink(config, "intake", "undo") == 0, "without an id: the last decision still standing"
    assert capsys.readouterr().out.startswith("Undid: confirmed Intake")


def test_who_decided_is_the_login_cut_to_the_audit_columns(config, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "x" * 100)
    assert current_user() == "x" * 64
    assert mislink(config, "intake", "reject", str(entry_id(config, "102"))) == 0
    with session_for(config) as session:
        actors = {*session.scalars(select(SyncEvent.actor).where(SyncEvent.run_id.is_(None))),
                  *session.scalars(select(IntakeDecision.actor)), *session.scalars(select(IntakeEntry.decided_by))}
    assert actors - {None} == {"x" * 64}

    def no_login():
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert current_user() == "unknown"


def test_a_mistyped_forename_matches_without_force_and_the_output_names_the_typo(tmp_path, library_url, capsys):
    config = library(tmp_path, library_url, row("Jsesica", "Brown", barcode="S1"))
    sync(config, student("Jessica", "Brown", Id="301"))
    assert mislink(config, "intake", "match", str(entry_id(config, "301")), "S1") == 0
    assert "(forename typed differently: Jsesica / Jessica)." in capsys.readouterr().out


def test_a_mistyped_forename_beside_a_second_person_it_could_as_well_be_needs_force(tmp_path, library_url, capsys):
    """Elle may be Ella's record or her twin Ellie's."""
    config = library(tmp_path, library_url, row("Elle", "Brown", barcode="S1"))
    sync(config, student("Ella", "Brown", Id="301"), student("Ellie", "Brown", Id="302"))
    entry = str(entry_id(config, "301"))
    assert mislink(config, "intake", "match", entry, "S1") == 1
    assert "incoming student Ellie Brown (MIS id 302)" in capsys.readouterr().err
    assert mislink(config, "intake", "match", entry, "S1", "--force") == 0
    assert borrower_by_barcode(config, "S1")["mis_id"] == "301"


def test_a_mistyped_forename_beside_a_twin_named_clearly_otherwise_matches_without_force(
        tmp_path, library_url, capsys):
    config = library(tmp_path, library_url, row("Jsesica", "Brown", barcode="S1"))
    sync(config, student("Jessica", "Brown", Id="301"), student("Tom", "Brown", Id="302", Gender="M"))
    assert mislink(config, "intake", "match", str(entry_id(config, "301")), "S1") == 0
    assert "(forename typed differently: Jsesica / Jessica)." in capsys.readouterr().out
