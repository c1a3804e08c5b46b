"""Nothing leaks: no forged log lines, no secrets in configuration errors, no
names in a scheduled run's output, one lock per library file however it is
reached, a quiet end when the reader of a pipe goes away, and every error as
JSON with --json."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cli.main import ExitCode, main
from engine.config import ConfigError, config_from_dict
from engine.db import connect
from engine.lock import LibraryBusy, library_lock
from engine.models import utcnow
from tests.builders import Library, staff_member, student, write_export

ROOT = Path(__file__).parents[1]
FORGED = "\n2026-01-01 00:00:00+00:00 sync ok run=99"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d ")
SECRET = "s3cretPW"


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n[library]\nurl = "{url}"\n'
                    f'[sync]\nlog_file = "mislink.log"\nmax_recycle_share = 1.0\nmin_export_share = 0.0\n{extra}',
                    encoding="utf-8")
    return path


def _cli(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """The command in a process of its own, with no terminal, as cron runs it."""
    return subprocess.run([sys.executable, "-m", "cli", *map(str, argv)], stdout=stdout, stderr=stderr,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


def _log_lines(tmp_path: Path) -> list[str]:
    return (tmp_path / "mislink.log").read_text(encoding="utf-8").splitlines()


# --- Text from the export never forges a log line ----------------------------------

def test_an_xporter_error_message_cannot_forge_a_log_line_or_copy_a_record(tmp_path, capsys):
    (tmp_path / "export").mkdir()
    envelope = {"ExceptionMessage": "Failed for Zebedee Quixote, 12 Acacia Avenue, ZZ9 9ZZ" + "x" * 2000 + FORGED}
    (tmp_path / "export" / "Students.json").write_text(json.dumps(envelope), encoding="utf-8")
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    assert main(["--config", str(config), "--sync"]) == ExitCode.FAILED
    out, err = capsys.readouterr()
    lines = _log_lines(tmp_path)
    assert all(STAMP.match(line) for line in lines), lines
    assert not any("sync ok run=99" in line.split(" ", 2)[2][:20] for line in lines)
    assert "Xporter returned an error" in "\n".join(lines)
    assert max(map(len, lines)) < 400, "the error is quoted bounded, not whole"
    for output in (out, err):
        assert not any(line.startswith("2026-01-01") for line in output.splitlines())
        assert "x" * 400 not in output


def test_an_establishment_number_with_line_breaks_cannot_forge_a_log_line(tmp_path, capsys):
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10")],
                 SchoolInfo=[{"EstabId": "8232999"}])
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    assert main(["--config", str(config), "--sync"]) == ExitCode.OK
    write_export(tmp_path / "export", SchoolInfo=[{"EstabId": "999" + FORGED + "\x1b[2J"}])
    main(["--config", str(config), "--sync"])
    out, err = capsys.readouterr()
    assert all(STAMP.match(line) for line in _log_lines(tmp_path))
    for output in (out, err):
        assert "\x1b" not in output and not any(line.startswith("2026-01-01") for line in output.splitlines())


def test_one_line_escapes_every_kind_of_line_break_and_control():
    from engine.safe_text import one_line

    assert one_line("a\nb\rc\x00d\x1b[1m\u2028e\u202ef\x85") == "a\\nb\\rc\\x00d\\x1b[1m\\u2028e\\u202ef\\x85"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_a_configuration_error_is_one_line_on_stderr(tmp_path, capsys):
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}", '"bad\\nkey" = 1\n')
    assert main(["--config", str(config), "--sync"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad\\nkey" in err


def test_a_bug_never_prints_its_message_which_may_quote_a_pupil(tmp_path, capsys, monkeypatch, caplog):
    library_url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace", Id="10")])
    config = _config(tmp_path, library_url)
    assert main(["--config", str(config), "--sync"]) == ExitCode.OK
    capsys.readouterr()

    def broken(*args, **kwargs):
        raise ValueError(pupil)  # the stack shows this line, so the data is in a variable

    pupil = "Zebedee Quixote, 12 Acacia Avenue"

    monkeypatch.setattr("engine.api.list_entries", broken)
    monkeypatch.setattr("engine.target.apply_plan", broken)
    for argv in (["intake", "list"], ["--sync"]):
        code = main(["--config", str(config), *argv])
        out, err = capsys.readouterr()
        assert code == ExitCode.FAILED and "ValueError" in err + out
        assert "Zebedee" not in out + err + caplog.text + "\n".join(_log_lines(tmp_path))


def test_an_error_after_the_commit_still_exits_0(tmp_path, capsys, monkeypatch):
    library = Library(f"sqlite:///{tmp_path / 'library.sqlite'}")
    library.add_borrower("OLD1", "Old", "Leaver", status="recycled", recycled_at=utcnow() - timedelta(days=9))
    config = _config(tmp_path, library.url)

    def broken():
        raise RuntimeError("after the commit")

    monkeypatch.setattr("cli.main.show_names", broken)
    assert main(["--config", str(config), "recycle-bin", "restore", "OLD1", "--json"]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "after the change was saved" in json.loads(out)["error"] and "RuntimeError" in err
    assert library.borrower("OLD1")["status"] == "active"


# --- Configuration errors never echo a secret ------------------------------------

@pytest.mark.parametrize("url", [
    [f"postgresql+psycopg://u:{SECRET}@h/db"],
    {"value": f"postgresql+psycopg://u:{SECRET}@h/db"},
    {"nested": {"deeper": [SECRET]}},
    12345678,
    3.5,
    True,
    f"nosuchdb://u:{SECRET}@h/db",
    f"postgresql+psycopg3://u:{SECRET}@h/db",
    f"postgresql+psycopg://u:{SECRET}@h:notaport/db",
    f"{SECRET}",
])
def test_a_configuration_error_never_shows_the_url_whatever_its_type(tmp_path, capsys, url):
    with pytest.raises(ConfigError) as error:
        config_from_dict({"library": {"url": url}})
    assert "library.url" in str(error.value)
    assert SECRET not in str(error.value) and "12345678" not in str(error.value)


@pytest.mark.parametrize("as_json", [False, True])
def test_the_cli_never_shows_a_url_written_as_a_list(tmp_path, capsys, as_json):
    config = tmp_path / "config.toml"
    config.write_text(f'[library]\nurl = ["postgresql+psycopg://u:{SECRET}@h/db"]\n', encoding="utf-8")
    config.chmod(0o600)
    code = main(["--config", str(config), "--sync", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE and "library.url" in err and SECRET not in out + err


@pytest.mark.parametrize(("section", "values", "key"), [
    ("barcodes", {"prefix": "LIB\n"}, "barcodes.prefix"),
    ("barcodes", {"prefix": "P" * 60, "digits": 6}, "barcodes.prefix"),
    ("sync", {"leaver_group": "Leaver {year} " + "x" * 60 + " {group}"}, "sync.leaver_group"),
    ("sync", {"leaver_group": "Leaver\x00{year} {group}"}, "sync.leaver_group"),
])
def test_a_stored_setting_must_fit_its_library_column(section, values, key):
    with pytest.raises(ConfigError) as error:
        config_from_dict({section: values})
    assert error.value.keys == [key]


# --- One lock per library file, however it is reached ------------------------------

def test_the_sqlite_lock_is_the_same_through_a_symlink_and_a_dotdot_path(tmp_path):
    real = tmp_path / "data" / "library.sqlite"
    real.parent.mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "link.sqlite").symlink_to(real)
    engines = [connect(f"sqlite:///{path}") for path in
               (real, tmp_path / "link.sqlite", tmp_path / "other" / ".." / "data" / "library.sqlite")]
    with library_lock(engines[0]):
        for other in engines[1:]:
            with pytest.raises(LibraryBusy):
                with library_lock(other):
                    pass
    for engine in engines:
        engine.dispose()


def test_a_sync_through_a_symlinked_library_exits_4_while_another_config_writes(tmp_path):
    real = tmp_path / "library.sqlite"
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "library.sqlite").symlink_to(real)
    write_export(tmp_path / "second" / "export", Students=[student("Ada", "Lovelace")])
    second = _config(tmp_path / "second", f"sqlite:///{tmp_path / 'second' / 'library.sqlite'}")
    engine = connect(f"sqlite:///{real}")
    with library_lock(engine):
        locked = _cli("--config", second, "--sync")
    engine.dispose()
    assert locked.returncode == ExitCode.LOCKED, locked.stdout + locked.stderr
    assert _cli("--config", second, "--sync").returncode == ExitCode.OK


# --- A scheduled run's output names nobody -------------------------------------------

PRIVATE = ["Zebedee", "Quixote", "Philomena", "Cartwright", "Ignatius", "Featherstonehaugh", "Rowena", "Oddbody", "Oddbodie",
           "Staffy", "Teachwell", "2011-07-19", "19/07/2011", "2012-11-23", "ZZ9 9ZZ", "Acacia"]


def test_a_run_without_a_terminal_names_records_by_id_and_barcode_only(tmp_path, library_url):
    library = Library(library_url)
    leaver = library.add_borrower("B010", "Zebedee", "Quixote", "2011-07-19", mis_id="10")
    library.add_loan(leaver)
    library.add_borrower("B011", "Rowena", "Oddbody", "2012-11-23", mis_id="11")
    library.add_borrower("OLD1", "Ignatius", "Featherstonehaugh", status="recycled",
                         recycled_at=utcnow() - timedelta(days=400))
    write_export(tmp_path / "export",
                 Students=[student("Rowena", "Oddbodie", "2012-11-23", Id="11", PostCode="ZZ9 9ZZ",
                                   Street="1 Acacia Avenue"),
                           student("Philomena", "Cartwright", "2011-07-19", Id="12", PostCode="ZZ9 9ZZ")],
                 Staff=[staff_member("Staffy", "Teachwell", Id="900")])
    config = _config(tmp_path, library_url, "[data]\naddress = true\nstaff = true\n")
    runs = [_cli("--config", config, "--sync", "--dry-run"), _cli("--config", config, "--sync", "--dry-run", "--json"),
            _cli("--config", config, "--sync"),
            _cli("--config", config, "recycle-bin", "purge", "--older-than", "30", "--dry-run"),
            _cli("--config", config, "recycle-bin", "purge", "--older-than", "30")]
    dry = runs[0].stdout
    assert "to Intake: student 12:" in dry and re.search(r"update B011: .*surname changed", dry), dry
    assert "leaver with 1 loan out: B010" in dry and "rejected: Staff.json staff 900:" in dry
    assert "OLD1" in runs[4].stdout
    for run in runs:
        output = run.stdout + run.stderr
        assert [word for word in PRIVATE if word in output] == [], output
    assert [word for word in PRIVATE if word in "\n".join(_log_lines(tmp_path))] == []


def test_the_readme_cron_line_keeps_its_log_private():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cron = next(line for line in readme.splitlines() if "mislink --sync" in line and line.startswith("30 2"))
    assert "umask 077" in cron and cron.index("umask 077") < cron.index(">>")


# --- A reader that goes away ends the output quietly -----------------------------------

def _closed_pipe() -> int:
    """A pipe's write end whose reader has already gone, as `| head` leaves it."""
    read, write = os.pipe()
    os.close(read)
    return write


@pytest.mark.parametrize("argv, code", [
    (["--sync", "--dry-run"], ExitCode.OK),
    (["--sync", "--json"], ExitCode.OK),
    (["intake", "list"], ExitCode.OK),
    (["recycle-bin", "list"], ExitCode.OK),
    (["--help"], ExitCode.OK),
    (["intake", "show", "999"], ExitCode.FAILED),
])
def test_piping_into_head_ends_quietly(tmp_path, argv, code):
    write_export(tmp_path / "export", Students=[student(f"P{i}", f"F{i}", Id=str(100 + i)) for i in range(50)])
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'library.sqlite'}")
    assert _cli("--config", config, "--sync").returncode == ExitCode.OK
    pipe = _closed_pipe()
    try:
        done = _cli("--config", config, *argv, stdout=pipe)
    finally:
        os.close(pipe)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr and "Exception ignored" \
        not in done.stderr


def test_stderr_into_a_closed_pipe_too_ends_quietly(tmp_path):
    pipe = _closed_pipe()
    try:
        done = _cli("--config", tmp_path / "missing.toml", "--sync", stdout=pipe, stderr=pipe)
    finally:
        os.close(pipe)
    assert done.returncode == ExitCode.USAGE


# --- With --json, every error is a JSON object ----------------------------------------

def _json_error(capsys, *argv) -> tuple[int, dict]:
    code = main([*map(str, argv), "--json"])
    out = capsys.readouterr().out
    error = json.loads(out)
    assert error["exit_code"] == code and error["error"]
    return code, error


def test_every_kind_of_error_is_json_with_json(tmp_path, capsys):
    library_url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    config = _config(tmp_path, library_url)
    assert main(["--config", str(config), "--sync"]) == ExitCode.OK
    capsys.readouterr()
    assert _json_error(capsys, "--config", tmp_path / "nope.toml", "--sync")[0] == ExitCode.USAGE
    assert _json_error(capsys, "--config", config, "--frobnicate")[0] == ExitCode.USAGE
    assert _json_error(capsys, "--config", config, "intake", "match")[0] == ExitCode.USAGE
    assert _json_error(capsys, "--config", config, "--dry-run")[0] == ExitCode.USAGE
    assert _json_error(capsys, "--config", config, "recycle-bin", "purge", "--older-than", "-1")[0] == \
        ExitCode.USAGE
    code, error = _json_error(capsys, "--config", config, "intake", "match", "999", "NOPE")
    assert code == ExitCode.FAILED and "999" in error["error"]
    assert _json_error(capsys, "--config", config, "recycle-bin", "restore", "NOPE")[0] == ExitCode.FAILED
    (tmp_path / "bad.csv").write_text("nonsense\n", encoding="utf-8")
    assert _json_error(capsys, "--config", config, "borrowers", "import", tmp_path / "bad.csv")[0] == \
        ExitCode.FAILED
    engine = connect(library_url)
    with library_lock(engine):
        for argv in (["--sync"], ["intake", "reject", "1"], ["recycle-bin", "purge", "--older-than", "1"]):
            assert _json_error(capsys, "--config", config, *argv)[0] == ExitCode.LOCKED
    engine.dispose()
    unreachable = _config(tmp_path, f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x")
    unreachable.chmod(0o600)
    for argv in (["--sync"], ["intake", "list"]):
        code, error = _json_error(capsys, "--config", unreachable, *argv)
        assert code == ExitCode.FAILED and SECRET not in json.dumps(error)


def test_abbreviated_json_flag_also_gets_a_json_usage_error(capsys):
    code = main(["--js", "--bogus"])
    assert code == ExitCode.USAGE and json.loads(capsys.readouterr().out)["exit_code"] == 2
