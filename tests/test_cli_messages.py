"""The command line's messages say what to do next: a mistyped command or
value gets the one meant, a refusal names the command to run, spelled
exactly, problems go to stderr and reports to stdout, and numbers are worded
plainly."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from cli.main import ExitCode, main
from cli.next_steps import _SPELLED
from engine.api import ALL_INTAKE, IntakeReason, IntakeStatus, NextStep, save_config
from engine.barcodes import BarcodeAllocator
from engine.config import BarcodeSettings
from engine.models import Borrower
from tests.builders import Library, make_config, student, write_export
from tests.intake_builders import entry_id
from tests.support.schools import ON_ROLL, ada, linked_school

ALFIE = student("Alfie", "Smith", Id="101", LegalForename="Alfred", Gender="M")
ZED = student("Zed", "Newman", "2011-10-09", Id="102")


def mislink(capsys, *argv) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of this command alone."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def config_file(tmp_path: Path, library_url: str, **sections) -> Path:
    path = tmp_path / "config.toml"
    sections["sync"] = {"max_recycle_share": 1.0, **sections.get("sync", {})}
    save_config(make_config(tmp_path, library_url, **sections), path)
    return path


@pytest.fixture
def school(tmp_path, library_url):
    """Alfred Smyth (S0001967, whom Alfie Smith looks like) and Ada Lovelace
    (S0001975, linked to MIS id 10); Alfie and Zed synced into Intake."""
    library = Library(library_url)
    library.add_borrower("S0001967", "Alfred", "Smyth", gender="M")
    library.add_borrower("S0001975", "Ada", "Lovelace", mis_id="10")
    write_export(tmp_path / "export", Students=[ALFIE, ZED, ada()])
    config = config_file(tmp_path, library_url, barcodes={"prefix": "S", "digits": 6})
    assert mislink_ok(config, "--sync")
    return config


def mislink_ok(config: Path, *argv) -> bool:
    return main(["--config", str(config), *map(str, argv)]) == ExitCode.OK


def intake_id(config: Path, mis_id: str) -> int:
    from engine.api import load_config

    return entry_id(load_config(config), mis_id)


# --- mistyped commands, options and values ---------------------------------------------

@pytest.mark.parametrize("argv, meant", [
    (["sync"], "did you mean `mislink --sync`?"),
    (["intake", "lst"], "did you mean `mislink intake list`?"),
    (["recycle-bin", "restor", "S1"], "did you mean `mislink recycle-bin restore`?"),
    (["--synk"], "unrecognized arguments: --synk; did you mean --sync?"),
    (["intake", "transfer", "--all-news"], "did you mean --all-new?"),
])
def test_a_mistyped_command_or_option_gets_the_one_meant(capsys, argv, meant):
    code, out, err = mislink(capsys, *argv)
    assert (code, out) == (ExitCode.USAGE, "")
    assert meant in err


def test_an_unknown_command_lists_the_commands(capsys):
    code, _, err = mislink(capsys, "frobnicate")
    assert code == ExitCode.USAGE
    assert "'frobnicate' is not a `mislink` command (choose borrowers, fetch, intake, runs, " in err
    assert " or recycle-bin)" in err
    assert "did you mean" not in err


@pytest.mark.parametrize("option, valid", [
    ("--status", [*IntakeStatus, ALL_INTAKE]),
    ("--reason", list(IntakeReason)),
])
def test_an_invalid_intake_list_filter_is_refused_listing_the_valid_values(capsys, option, valid):
    code, out, err = mislink(capsys, "intake", "list", option, "bogus")
    assert (code, out) == (ExitCode.USAGE, "")
    assert f"'bogus' is not an Intake {option[2:]}" in err
    assert f"(choose {', '.join(valid[:-1])} or {valid[-1]})" in err


def test_a_misspelled_status_gets_the_one_meant(capsys):
    assert "did you mean 'rejected'?" in mislink(capsys, "intake", "list", "--status", "rejcted")[2]


def test_a_year_that_is_no_year_group_is_refused(capsys):
    code, _, err = mislink(capsys, "intake", "list", "--year", "seven")
    assert code == ExitCode.USAGE and "'seven' is not a year group (7, Year 7, or R for Reception)" in err


# --- the configuration file ------------------------------------------------------------

def test_no_config_file_says_where_it_looked_and_how_to_name_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = mislink(capsys, "--sync")
    assert (code, out) == (ExitCode.USAGE, "")
    assert f"no configuration file at {tmp_path / 'config.toml'}" in err
    assert "run mislink in the folder that holds config.toml, or name the file with `mislink --config PATH`" in err


def test_a_config_file_given_that_is_not_there_is_named(tmp_path, capsys):
    code, _, err = mislink(capsys, "--config", tmp_path / "nope.toml", "intake", "list")
    assert code == ExitCode.USAGE
    assert f"no configuration file at {tmp_path / 'nope.toml'} (given with --config)" in err


@pytest.mark.parametrize("content, says", [
    (b"[data\nphotos = true\n", "not valid TOML ({}); correct the file there"),
    (b"[sync]\n# caf\xe9\n", "not UTF-8 text ({}); save it as UTF-8"),
])
def test_a_config_file_that_cannot_be_read_says_what_to_edit(tmp_path, capsys, content, says):
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    code, out, err = mislink(capsys, "--config", path, "intake", "list")
    assert (code, out) == (ExitCode.USAGE, "")
    head, tail = says.split("{}")
    assert err.startswith(f"mislink: configuration error: {path}: {head}") and err.endswith(f"{tail}\n")


# --- refusals name the next command ----------------------------------------------------

def refused(capsys, config: Path, *argv) -> str:
    """The refusal on stderr; nothing on stdout, exit 1."""
    code, out, err = mislink(capsys, "--config", config, *argv)
    assert (code, out) == (ExitCode.FAILED, ""), err
    return err


SEARCH = " (`mislink intake search NAME` finds borrowers by name or barcode)"


def test_every_next_step_has_its_command():
    assert set(_SPELLED) == set(NextStep)


def test_deciding_a_rejected_entry_names_unreject(school, capsys):
    zed = intake_id(school, "102")
    assert mislink_ok(school, "intake", "reject", zed)
    assert (f"Intake {zed} (Zed Newman) is already rejected, so it cannot be matched; unreject it first: "
            f"`mislink intake unreject {zed}`") in refused(capsys, school, "intake", "match", zed, "S0001967")


def test_confirming_a_new_entry_again_names_transfer(school, capsys):
    zed = intake_id(school, "102")
    assert mislink_ok(school, "intake", "new", zed)
    assert (f"Intake {zed} (Zed Newman) is confirmed as new already; a transfer makes the borrower: "
            f"`mislink intake transfer {zed}`") in refused(capsys, school, "intake", "new", zed)


def test_deciding_a_decided_entry_names_undo(school, capsys):
    zed = intake_id(school, "102")
    assert mislink_ok(school, "intake", "match", zed, "S0001967", "--force")
    assert ("undo that decision first: `mislink intake decisions` lists the decisions with the ids "
            "`mislink intake undo ID` takes") in refused(capsys, school, "intake", "reject", zed)


def test_transferring_all_new_when_none_is_names_new(school, capsys):
    assert ("no Intake entries are confirmed as new: confirm one as new first: `mislink intake new ID`"
            in refused(capsys, school, "intake", "transfer", "--all-new"))


def test_transfer_without_ids_spells_all_new(school, capsys):
    assert "or transfer every one confirmed as new with `mislink intake transfer --all-new`" in refused(
        capsys, school, "intake", "transfer")


def test_a_match_that_needs_force_gives_the_command_with_force_and_that_command_works(school, capsys):
    zed = intake_id(school, "102")
    command = f"mislink intake match {zed} S0001967 --force"
    assert f"match with force if you are sure it is them: `{command}`" in refused(
        capsys, school, "intake", "match", zed, "S0001967")
    assert mislink_ok(school, *command.split()[1:])


def test_a_transfer_that_needs_force_gives_the_command_with_force(school, capsys):
    alfie = intake_id(school, "101")
    assert f"transfer with force if they really are new: `mislink intake transfer {alfie} --force`" in refused(
        capsys, school, "intake", "transfer", alfie)


def test_matching_a_borrower_linked_to_someone_else_names_unlink(school, capsys):
    assert "unless that link is wrong and you unlink the borrower first: `mislink borrowers unlink S0001975`" in \
        refused(capsys, school, "intake", "match", intake_id(school, "102"), "S0001975")


@pytest.mark.parametrize("argv, listing", [
    (["intake", "show", "999"], "there is no Intake entry 999; `mislink intake list --status all` lists every entry"),
    (["intake", "undo", "999"], "there is no Intake decision 999; `mislink intake decisions` lists the latest"),
    (["runs", "show", "999"], "there is no run 999; `mislink runs list` lists the latest"),
])
def test_an_unknown_id_names_the_listing(school, capsys, argv, listing):
    assert listing in refused(capsys, school, *argv)


# --- undoing Intake decisions and runs: what to look at instead ---------------------------

DECISIONS = "; `mislink intake decisions` lists the latest"


def unlinked(capsys, config: Path, barcode: str) -> int:
    """Unlink the borrower; the id of that decision."""
    code, out, _ = mislink(capsys, "--config", config, "--json", "borrowers", "unlink", barcode)
    assert code == ExitCode.OK
    return json.loads(out)["decision_id"]


def test_undo_with_no_decision_to_undo_names_the_decisions(school, capsys):
    assert f"mislink: there is no Intake decision to undo{DECISIONS}\n" == refused(capsys, school, "intake", "undo")


def test_undoing_a_decision_again_names_the_decisions(school, capsys):
    decision = unlinked(capsys, school, "S0001975")
    assert mislink_ok(school, "intake", "undo", decision)
    err = refused(capsys, school, "intake", "undo", decision)
    assert f'decision {decision} ("unlinked borrower S0001975 from student 10") was already undone, on ' in err
    assert err.endswith(f"{DECISIONS}\n")


def test_a_decision_that_cannot_be_undone_any_more_names_the_decisions(school, capsys):
    decision = unlinked(capsys, school, "S0001975")
    assert mislink_ok(school, "intake", "match", intake_id(school, "102"), "S0001975", "--force")
    err = refused(capsys, school, "intake", "undo", decision)
    assert 'cannot undo "unlinked borrower S0001975 from student 10": ' in err
    assert err.endswith(f"{DECISIONS}\n")


def last_run(capsys, config: Path) -> int:
    code, out, _ = mislink(capsys, "--config", config, "--json", "runs", "list")
    assert code == ExitCode.OK
    return json.loads(out)["runs"][0]["run_id"]


def test_undoing_a_run_again_names_the_run_that_undid_it_and_that_command_works(school, capsys):
    run = last_run(capsys, school)
    assert mislink_ok(school, "runs", "undo", run)
    undo = last_run(capsys, school)
    command = f"mislink runs show {undo}"
    assert f"was already undone, by run {undo}; `{command}` shows what it changed" in refused(
        capsys, school, "runs", "undo", run)
    assert mislink(capsys, "--config", school, *command.split()[1:])[1].startswith(f"Run {undo}: undo started ")


def test_undoing_a_run_that_changed_nothing_names_the_runs_list(school, capsys):
    assert mislink_ok(school, "--sync")
    run = last_run(capsys, school)
    assert "changed nothing: there is nothing to undo; `mislink runs list` lists the latest" in refused(
        capsys, school, "runs", "undo", run)


def test_a_run_undo_that_needs_force_gives_the_command_with_force_and_that_command_works(
        school, tmp_path, library_url, capsys):
    library = Library(library_url)
    before = library.borrower("S0001975")["tutor_group"]
    write_export(tmp_path / "export", Students=[ALFIE, ZED, ada(RegGroup="9Z")])
    assert mislink_ok(school, "--sync")
    run = last_run(capsys, school)
    with library.session() as session:
        session.execute(update(Borrower).where(Borrower.barcode == "S0001975").values(tutor_group="9Q"))
    command = f"mislink runs undo {run} --force"
    assert f"tutor_group: changed since the run; --force puts back what was changed since: `{command}`" in refused(
        capsys, school, "runs", "undo", run)
    assert mislink_ok(school, *command.split()[1:])
    assert library.borrower("S0001975")["tutor_group"] == before


# --- barcodes ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv, suggestion", [
    (["intake", "match", "{zed}", "S0001976"], "there is no borrower with barcode S0001976; "
                                               "did you mean S0001967 or S0001975?"),
    (["borrowers", "unlink", "S0001961"],
     f"there is no borrower with barcode S0001961; did you mean S0001967?{SEARCH}"),
    (["borrowers", "release", "S0001985"], f"no borrower has barcode S0001985; did you mean S0001975?{SEARCH}"),
    (["recycle-bin", "restore", "S00O1967"], f"no borrower has barcode S00O1967; did you mean S0001967?{SEARCH}"),
])
def test_an_unknown_barcode_suggests_the_nearest(school, capsys, argv, suggestion):
    argv = [a.format(zed=intake_id(school, "102")) for a in argv]
    assert suggestion in refused(capsys, school, *argv)


def test_a_barcode_far_from_any_gets_no_suggestion_but_the_search(school, capsys):
    err = refused(capsys, school, "borrowers", "unlink", "X1")
    assert f"there is no borrower with barcode X1{SEARCH}" in err and "did you mean" not in err


def test_unlinking_a_borrower_with_no_link_names_the_search(school, capsys):
    assert f"borrower S0001967 is not linked to an MIS person: there is nothing to unlink{SEARCH}" in refused(
        capsys, school, "borrowers", "unlink", "s0001967")


def test_unlink_finds_a_barcode_typed_in_lower_case(school, capsys):
    code, out, _ = mislink(capsys, "--config", school, "borrowers", "unlink", "s0001975")
    assert code == ExitCode.OK and out.startswith("Unlinked borrower S0001975 from student 10")


def test_new_barcodes_are_as_wide_as_the_librarys_own(school, capsys):
    zed = intake_id(school, "102")
    assert mislink_ok(school, "intake", "new", zed)
    code, out, _ = mislink(capsys, "--config", school, "intake", "transfer", zed)
    assert code == ExitCode.OK and "as borrower S0001976." in out, "seven digits, as S0001975, not S001976"


@pytest.mark.parametrize("existing, new", [
    (set(), "S000001"),  # none yet: the configured six digits
    ({"S0001967", "S000002"}, "S0001968"),  # as wide as the highest
    ({"S41"}, "S42"),
    ({"s0000099"}, "S0000100"),
])
def test_a_sequence_barcode_follows_the_highest_existing_one(existing, new):
    assert BarcodeAllocator(BarcodeSettings("sequence", "S", 6), existing).allocate() == new


# --- the recycle bin ---------------------------------------------------------------------

@pytest.fixture
def recycled(tmp_path, library_url):
    """Ada (B010) marked as a leaver, Grace (B012, one loan out) gone from the
    export: both recycled; Alan (B011) on roll."""
    library = linked_school(tmp_path, library_url)
    library.add_loan(library.borrower("B012")["id"])
    write_export(tmp_path / "export", Students=[ada(StudentStatus="Leaver"), ON_ROLL[0]])
    config = config_file(tmp_path, library_url)
    assert mislink_ok(config, "--sync")
    return config


def test_the_recycle_bin_list_has_a_header_aligned_columns_why_and_loans(recycled, capsys, monkeypatch):
    monkeypatch.setattr("cli.main.show_names", lambda: True)
    code, out, _ = mislink(capsys, "--config", recycled, "recycle-bin", "list")
    assert code == ExitCode.OK
    header, *rows, total = out.splitlines()
    assert header.split() == ["BARCODE", "NAME", "TUTOR", "GROUP", "SINCE", "LOANS", "OUT", "WHY"]
    why, loans_end = header.index("WHY"), header.index("LOANS OUT") + len("LOANS OUT")
    cells = {row[:row.index(" ")]: (row[why:], row[:loans_end].split()[-1]) for row in rows}
    assert cells == {"B010": ("marked as a leaver in the MIS", "0"), "B012": ("no longer in the MIS export", "1")}
    assert "Ada Lovelace" in out and "Leaver " in out
    assert total == "2 borrowers in the recycle bin"


def test_restore_and_release_find_a_lower_case_barcode_and_refusals_name_the_next_command(recycled, capsys):
    code, out, _ = mislink(capsys, "--config", recycled, "recycle-bin", "restore", "b010", "--hold")
    assert code == ExitCode.OK and "B010 is an active borrower again" in out
    assert "`mislink borrowers release B010` ends the hold" in out
    assert "`mislink borrowers release B010` ends the hold" in refused(
        capsys, recycled, "recycle-bin", "restore", "B010", "--hold")
    assert "borrower B011 is not in the recycle bin; `mislink recycle-bin list` shows who is" in refused(
        capsys, recycled, "recycle-bin", "restore", "b011")
    assert "borrower B011 is not held; `mislink recycle-bin list` shows who is" in refused(
        capsys, recycled, "borrowers", "release", "b011")
    assert mislink(capsys, "--config", recycled, "borrowers", "release", "b010")[:2] == (ExitCode.OK,
                                                                                        "B010: hold released\n"
                                                                                        "the next sync recycles B010 "
                                                                                        "if the MIS still has them "
                                                                                        "leaving\n")


def test_an_empty_purge_says_so_plainly(recycled, capsys):
    code, out, _ = mislink(capsys, "--config", recycled, "recycle-bin", "purge", "--older-than", "30", "--dry-run")
    assert code == ExitCode.OK
    assert out == ("Nobody to remove: no borrower has been in the recycle bin over 30 days without loans out\n")


# --- the sync: the next step, and problems on stderr --------------------------------------

def test_a_sync_ends_with_how_many_wait_in_intake_and_where_to_decide_them(school, capsys):
    code, out, _ = mislink(capsys, "--config", school, "--sync")
    assert code == ExitCode.OK
    assert out.splitlines()[-1] == "2 records waiting in Intake: open `mislink`, or `mislink intake list`."


def test_a_dry_run_ends_with_the_command_that_makes_the_changes(school, capsys):
    out = mislink(capsys, "--config", school, "--sync", "--dry-run")[1]
    assert out.splitlines()[-1] == "Nothing was written: `mislink --sync` makes these changes."


def test_a_sync_stopped_by_a_guard_says_why_on_stderr_with_the_force_command(school, tmp_path, library_url,
                                                                            capsys):
    write_export(tmp_path / "export", Students=[ZED])
    config = config_file(tmp_path, library_url, sync={"min_export_share": 0.9})
    code, out, err = mislink(capsys, "--config", config, "--sync")
    assert code == ExitCode.GUARD
    assert "REFUSED, nothing written" in out and "under 90%" not in out
    assert "sync refused: stopped before writing: the export holds 1 student, under 90%" in err
    assert "if the export is right, `mislink --sync --force` applies it anyway" in err


# --- importing borrowers ----------------------------------------------------------------

def borrowers_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "borrowers.csv"
    path.write_text("\n".join(["ManagementSystemID,Forename,Surname,DateOfBirth,Gender,TutorGroup,YearGroup",
                               *rows]) + "\n", encoding="utf-8")
    return path


GOOD = ["101,Ada,Lovelace,10/12/2011,F,8A,8", "102,Alan,Turing,23/06/2012,M,8B,8"]


def test_an_import_says_how_many_plainly(tmp_path, library_url, capsys):
    config, path = config_file(tmp_path, library_url), borrowers_csv(tmp_path, *GOOD)
    assert mislink(capsys, "--config", config, "borrowers", "import", path)[1] == \
        "borrowers.csv: all 2 borrowers imported\n"
    assert mislink(capsys, "--config", config, "borrowers", "import", path)[1] == \
        "borrowers.csv: nothing new to import: 2 borrowers already in the library\n"
    path = borrowers_csv(tmp_path, *GOOD, "103,Grace,Hopper,09/12/2011,F,8C,8", "104,Bad,,01/02/2012,F,7A,7")
    code, out, err = mislink(capsys, "--config", config, "borrowers", "import", path, "--skip-invalid")
    assert code == ExitCode.OK and "line 5: Surname is empty" in err
    assert out == "borrowers.csv: 1 borrower imported, 2 already in the library; 1 bad row skipped (see above)\n"
