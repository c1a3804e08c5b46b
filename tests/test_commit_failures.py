"""A write is done only when its commit returned, and done work is never a failure.

For every writer (sync, borrower import, each Intake decision, transfer,
recycle-bin restore and purge), on every database: a commit that fails (the
driver's "disk full", or any other error raised at commit) exits 1, says
"nothing written", prints no "done" and no run id, and leaves the library as it
was. And the other way round: a writer whose commit returned exits 0 even when
its run log cannot be written, with a warning on stderr.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from cli.main import ExitCode, main
from engine.models import utcnow
from tests.builders import Library, student, write_export
from tests.support.faults import failing_commit

PUPILS = [student("Ada", "Lovelace", Id="10"), student("Nia", "Newman", "2013-05-06", Id="20")]


def _config(tmp_path: Path, url: str, log_file: str = "mislink.log") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n[library]\nurl = "{url}"\n'
                    f'[sync]\nlog_file = "{log_file}"\nmax_recycle_share = 1.0\n', encoding="utf-8")
    return path


def _school(tmp_path: Path, url: str) -> tuple[Library, Path]:
    """A library after one sync: Ada linked, Nia (MIS id 20) waiting in Intake,
    a hand-typed borrower for Nia, and one borrower long in the recycle bin."""
    library = Library(url)
    library.add_borrower("B010", "Ada", "Lovelace")
    library.add_borrower("OLD1", "Old", "Leaver", status="recycled", recycled_at=utcnow() - timedelta(days=400),
                         tutor_group="Leaver 2023 (Old Group 9X)", group_before_recycle="9X")
    write_export(tmp_path / "export", Students=PUPILS)
    config = _config(tmp_path, url)
    assert main(["--config", str(config), "--sync"]) == ExitCode.OK
    library.add_borrower("B020", "Nia", "Newman", "2013-05-07")
    return library, config


def _entry(library: Library) -> str:
    return str(next(e["id"] for e in library.intake() if e["mis_id"] == "20"))


# Each writer: what to do beforehand (argv lists), and the command itself.
WRITERS = {
    "sync": lambda tmp, lib: ([], ["--sync"]),
    "import": lambda tmp, lib: ([], ["borrowers", "import", tmp / "borrowers.csv"]),
    "match": lambda tmp, lib: ([], ["intake", "match", _entry(lib), "B020", "--force"]),
    "new": lambda tmp, lib: ([], ["intake", "new", _entry(lib)]),
    "transfer": lambda tmp, lib: ([["intake", "new", _entry(lib)]], ["intake", "transfer", _entry(lib), "--force"]),
    "reject": lambda tmp, lib: ([], ["intake", "reject", _entry(lib)]),
    "unreject": lambda tmp, lib: ([["intake", "reject", _entry(lib)]], ["intake", "unreject", _entry(lib)]),
    "undo": lambda tmp, lib: ([["intake", "reject", _entry(lib)]], ["intake", "undo"]),
    "restore": lambda tmp, lib: ([], ["recycle-bin", "restore", "OLD1"]),
    "purge": lambda tmp, lib: ([], ["recycle-bin", "purge", "--older-than", "30"]),
}


def _run(capsys, config: Path, argv: list) -> tuple[int, str, str]:
    code = main(["--config", str(config), *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _prepare(tmp_path: Path, library_url: str, writer: str, capsys) -> tuple[Library, Path, list]:
    library, config = _school(tmp_path, library_url)
    (tmp_path / "borrowers.csv").write_text(
        "ManagementSystemID,Forename,Surname,DateOfBirth,Gender,TutorGroup,YearGroup,Barcode\n"
        "900,Grace,Hopper,01/02/2012,F,8A,8,B900\n", encoding="utf-8")
    write_export(tmp_path / "export", Students=PUPILS + [student("Omar", "Okafor", "2013-01-02", Id="21")])
    before, command = WRITERS[writer](tmp_path, library)
    for argv in before:
        assert main(["--config", str(config), *argv]) == ExitCode.OK
    capsys.readouterr()
    return library, config, command


def _without_failed_runs(snapshot: dict) -> dict:
    return {**snapshot, "sync_runs": [r for r in snapshot["sync_runs"] if r["outcome"] != "failed"]}


@pytest.mark.parametrize("kind", ["disk", "lost", "bug"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_failed_commit_is_a_failed_run_with_nothing_written(tmp_path, library_url, capsys, writer, kind):
    if kind == "lost" and library_url.startswith("sqlite"):
        pytest.skip("an embedded SQLite file has no connection to drop")
    library, config, command = _prepare(tmp_path, library_url, writer, capsys)
    before = library.snapshot()
    log = tmp_path / "mislink.log"
    log_before = log.read_text(encoding="utf-8")
    with failing_commit(library_url, kind) as fired:
        code, out, err = _run(capsys, config, command)
    assert fired, "the failure was never injected"
    assert code == ExitCode.FAILED, out + err
    assert "nothing written" in err and "done" not in out
    if kind == "disk":
        assert "disk is full (injected)" in err
    assert "Traceback" not in err
    assert _without_failed_runs(library.snapshot()) == before, "the library changed"
    new_log = log.read_text(encoding="utf-8")[len(log_before):]
    if writer == "sync":
        assert "FAILED, nothing written" in out and "run=-" in new_log and "sync failed" in new_log
        assert [r["outcome"] for r in library.rows("sync_runs")][-1] == "failed"
    else:
        assert out == "" and new_log == "", "nothing is reported or logged as done"
    # The same command, without the fault, does write: the failure was at commit.
    assert _run(capsys, config, command)[0] == ExitCode.OK
    assert library.snapshot() != before


@pytest.mark.parametrize("writer", ["sync", "match", "purge"])
def test_a_failed_commit_with_json_is_a_json_error(tmp_path, library_url, capsys, writer):
    library, config, command = _prepare(tmp_path, library_url, writer, capsys)
    with failing_commit(library_url, "disk"):
        code, out, _ = _run(capsys, config, [*command, "--json"])
    report = json.loads(out)
    assert code == report["exit_code"] == ExitCode.FAILED
    assert "nothing written" in report["error"] and report.get("run_id") is None


@pytest.mark.parametrize("writer", ["sync", "purge"])
def test_a_run_log_that_cannot_be_written_after_the_commit_is_a_warning_not_a_failure(tmp_path, library_url,
                                                                                      capsys, writer):
    library, _, command = _prepare(tmp_path, library_url, writer, capsys)
    before = library.snapshot()
    (tmp_path / "logdir").mkdir()
    config = _config(tmp_path, library_url, log_file="logdir")  # a folder: it cannot be appended to
    code, out, err = _run(capsys, config, command)
    assert code == ExitCode.OK, out + err
    assert "warning: could not write the run log" in err and "Traceback" not in err
    assert "done" in out if writer == "sync" else "removed for good" in out
    assert library.snapshot() != before, "the work was done"
