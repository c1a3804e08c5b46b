"""The command line: exit codes, --json, the human summary, --dry-run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import ExitCode, main
from tests.builders import Library, student, write_export

ROOT = Path(__file__).parents[1]
REQUIRED_KEYS = {"students_seen", "staff_seen", "matched_by_link", "matched_by_upn", "matched_by_name_dob",
                 "updated", "unchanged", "intake_added", "intake_refreshed", "recycled", "restored",
                 "leavers_with_loans", "rejected", "rejections", "outcome"}


def write_config(tmp_path: Path, library_url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n\n[library]\nurl = "{library_url}"\n\n'
                    f'[sync]\nlog_file = "mislink.log"\nmax_recycle_share = 1.0\n{extra}', encoding="utf-8")
    return path


def school(tmp_path: Path, library_url: str) -> Path:
    library = Library(library_url)
    library.add_borrower("B010", "Ada", "Lovelace")
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10"),
                                                student("Nia", "Newman", "2013-05-06", Id="20"),
                                                student("Bad", "Date", "2099-01-01", Id="22")])
    return write_config(tmp_path, library_url)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sync_with_json_prints_one_object_with_the_counts(tmp_path, library_url, capsys):
    config = school(tmp_path, library_url)
    code, out, err = run(capsys, "--config", config, "--sync", "--json")
    assert code == ExitCode.OK == 0, err
    report = json.loads(out)  # one JSON object and nothing else on stdout
    assert isinstance(report, dict)
    assert REQUIRED_KEYS <= set(report)
    assert (report["outcome"], report["students_seen"], report["matched_by_name_dob"], report["intake_added"],
            report["rejected"]) == ("ok", 3, 1, 1, 1)
    assert report["rejections"] == [{"file": "Students.json", "record": "student 22", "field": "DateofBirth",
                                     "reason": "in the future"}]
    assert isinstance(report["run_id"], int)


def test_sync_without_json_prints_a_short_human_summary(tmp_path, library_url, capsys):
    config = school(tmp_path, library_url)
    code, out, _ = run(capsys, "--config", config, "--sync")
    assert code == 0
    assert out.startswith("mislink sync of ") and ": done" in out.splitlines()[0]
    assert "seen: 3 students, 0 staff" in out
    assert "matched: 0 by MIS link, 0 by UPN, 1 by name and date of birth" in out
    assert "Intake: 1 added" in out
    assert "rejected: Students.json student 22: DateofBirth: in the future" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_dry_run_prints_the_plan_writes_nothing_and_matches_the_real_run(tmp_path, library_url, capsys):
    config = school(tmp_path, library_url)
    library = Library(library_url)
    before = library.snapshot()
    code, out, _ = run(capsys, "--config", config, "--sync", "--dry-run", "--json")
    assert code == 0
    dry = json.loads(out)
    assert (dry["outcome"], dry["run_id"]) == ("dry-run", None)
    assert library.snapshot() == before
    code, out, _ = run(capsys, "--config", config, "--sync", "--dry-run")
    assert "dry run, nothing written" in out
    assert "to Intake: student 20: no_match" in out, "not on a terminal: ids only"
    assert "update B010:" in out
    code, out, _ = run(capsys, "--config", config, "--sync", "--json")
    real = json.loads(out)
    counts = lambda report: {k: v for k, v in report.items() if k not in ("outcome", "run_id", "message")}  # noqa
    assert counts(dry) == counts(real)


def test_on_a_terminal_the_dry_run_names_the_records(tmp_path, library_url, capsys, monkeypatch):
    monkeypatch.setattr("cli.main.show_names", lambda: True)
    code, out, _ = run(capsys, "--config", school(tmp_path, library_url), "--sync", "--dry-run")
    assert code == 0 and "to Intake: student 20 (Nia Newman): no_match" in out


def test_a_failed_sync_exits_1(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)  # no export folder at all
    code, out, _ = run(capsys, "--config", config, "--sync", "--json")
    assert code == ExitCode.FAILED == 1
    report = json.loads(out)
    assert report["outcome"] == "failed" and "does not exist" in report["message"]


def test_a_failed_sync_exits_1_with_a_human_message(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "Students.json").write_text('{"ExceptionMessage": "Licence expired"}', encoding="utf-8")
    code, out, err = run(capsys, "--config", config, "--sync")
    assert code == 1
    assert "FAILED, nothing written" in out, "the report says how the run ended"
    assert "Students.json" in err and "Licence expired" in err and "Licence expired" not in out, \
        "why it failed is a problem: stderr"


@pytest.mark.parametrize("extra, key", [
    ("bogus = 1\n", "sync.bogus"),
    ('[data]\nforename = "nickname"\n', "data.forename"),
    ("[data]\nstaff = \"yes\"\n", "data.staff"),
    ("[nonsense]\n", "nonsense"),
])
def test_a_bad_configuration_exits_2_naming_the_key(tmp_path, capsys, extra, key):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}", extra)
    code, out, err = run(capsys, "--config", config, "--sync")
    assert code == ExitCode.USAGE == 2
    assert key in err and "configuration error" in err
    assert out == ""
    assert not (tmp_path / "library.sqlite").exists()


def test_a_missing_configuration_file_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, "--config", tmp_path / "nope.toml", "--sync")
    assert code == 2 and "nope.toml" in err


def test_a_bad_library_url_exits_2(tmp_path, capsys):
    config = write_config(tmp_path, "nosuchdb://x/y")
    code, _, err = run(capsys, "--config", config, "--sync")
    assert code == 2 and "library.url" in err


@pytest.mark.parametrize("argv", [["--bogus"], ["--dry-run"], ["--force"], ["borrowers"],
                                  ["borrowers", "import"], ["frobnicate"]])
def test_bad_usage_exits_2(tmp_path, capsys, argv):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    code, out, _ = run(capsys, "--config", config, *argv)
    assert code == ExitCode.USAGE == 2
    assert out == ""


def test_no_command_opens_the_terminal_ui_on_the_configured_library(tmp_path, monkeypatch):
    import tui.app

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    opened = []
    monkeypatch.setattr(tui.app, "run", lambda cfg, path: opened.append((cfg.library.url, path)) or 0)
    assert main(["--config", str(config)]) == 0
    assert opened == [(f"sqlite:///{tmp_path / 'library.sqlite'}", config)]


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--sync" in out


def test_the_installed_console_script_runs_a_sync(tmp_path, capsys):
    """The real entry point, in its own process: stdout is the JSON report only."""
    library_url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    config = school(tmp_path, library_url)
    script = Path(sys.executable).parent / "mislink"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    done = subprocess.run([*command, "--config", str(config), "--sync", "--json"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["intake_added"] == 1


def test_a_read_only_command_never_creates_a_library_at_a_mistyped_path(tmp_path, capsys):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'libary.sqlite'}")
    code, _, err = run(capsys, "--config", config, "recycle-bin", "list")
    assert code == ExitCode.FAILED and "there is no library at" in err and "run a sync first: `mislink --sync`" in err
    assert not (tmp_path / "libary.sqlite").exists()


def test_the_library_file_and_the_log_are_private_to_their_owner(tmp_path, capsys):
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    assert run(capsys, "--config", config, "--sync")[0] == ExitCode.OK
    for name in ("library.sqlite", "mislink.log"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"


@pytest.mark.parametrize("argv", [["intake", "show", "３"], ["intake", "reject", "٣"],
                                  ["intake", "transfer", "1", "２"], ["intake", "decisions", "--limit", "٥"],
                                  ["recycle-bin", "purge", "--older-than", "３０", "--dry-run"]])
def test_numbers_on_the_command_line_are_ascii_digits_only(tmp_path, capsys, argv):
    """int() would read fullwidth or Arabic-Indic digits; no librarian types those on purpose."""
    code, out, err = run(capsys, "--config", str(write_config(tmp_path, f"sqlite:///{tmp_path / 'lib.sqlite'}")),
                         *argv)
    assert code == ExitCode.USAGE
    assert "is not a whole number (0-9)" in err
    assert not (tmp_path / "lib.sqlite").exists()
