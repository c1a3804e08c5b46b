"""Faults during a sync: the process killed mid-apply, the database gone or
dropping the connection. The library is left exactly as it was, and the next
run succeeds."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cli.main import ExitCode, main
from engine.db import connect
from engine.sync import run_sync
from tests.builders import Library, make_config, student, write_export
from tests.support.faults import kill_own_connection

ROOT = Path(__file__).parents[1]

# Runs a sync in a child process that stops, mid-apply, after the borrower
# updates are written but before Intake is, and waits there to be killed.
PAUSED_SYNC = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import engine.apply
    from engine.config import load_config
    from engine.sync import run_sync

    real = engine.apply._apply_intake
    def paused(*args, **kwargs):
        Path(sys.argv[2]).write_text("paused")
        time.sleep(120)
        return real(*args, **kwargs)
    engine.apply._apply_intake = paused
    run_sync(load_config(sys.argv[1]))
""")


def _school(folder: Path, count: int = 30, form: str = "8A") -> None:
    write_export(folder, Students=[student(f"Pupil{i}", f"Family{i}", Id=str(100 + i), RegGroup=form)
                                   for i in range(count)])


def _write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n[library]\nurl = "{url}"\n[sync]\nlog_file = "mislink.log"\n')
    return path


def test_sigkill_during_apply_leaves_library_as_before(tmp_path, library_url):
    _school(tmp_path / "export", form="8A")
    config_path = _write_config(tmp_path, library_url)
    assert run_sync(make_config(tmp_path, library_url)).outcome == "ok"
    # Everyone moves up a year and ten new pupils arrive: updates and Intake to write.
    write_export(tmp_path / "export", Students=[
        student(f"Pupil{i}", f"Family{i}", Id=str(100 + i), RegGroup="9A") for i in range(40)])
    before = Library(library_url).snapshot()
    marker = tmp_path / "paused"
    child = subprocess.Popen([sys.executable, "-c", PAUSED_SYNC, str(config_path), str(marker)],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the sync ended before reaching the pause"
            assert time.monotonic() < deadline, "the sync never reached the pause"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert Library(library_url).snapshot() == before
    after = _sync_once_the_killed_run_is_gone(make_config(tmp_path, library_url))
    assert after.outcome == "ok", after.message
    assert after.counts["intake_refreshed"] == 30 and after.counts["intake_added"] == 10


def _sync_once_the_killed_run_is_gone(config):
    """A server notices a killed client's connection within moments and only
    then releases its lock: until it does, a sync is refused as locked."""
    deadline = time.monotonic() + 20
    while (report := run_sync(config)).outcome == "locked" and time.monotonic() < deadline:
        time.sleep(0.1)
    return report


def test_unreachable_database_exits_1_with_a_clear_message(tmp_path, capsys):
    _school(tmp_path / "export")
    config = _write_config(tmp_path, "postgresql+psycopg://librarian:s3cret@127.0.0.1:1/library")
    config.chmod(0o600)
    assert main(["--config", str(config), "--sync"]) == ExitCode.FAILED
    out = capsys.readouterr()
    assert "cannot open the library database postgresql+psycopg://librarian:***@127.0.0.1:1/library" in out.err
    assert "s3cret" not in out.out + out.err + (tmp_path / "mislink.log").read_text()


# An embedded SQLite file has no connection to drop.
@pytest.mark.parametrize("library_url", ["postgresql", "mariadb"], indirect=True)
def test_connection_dropped_mid_run_writes_nothing(tmp_path, library_url, monkeypatch):
    _school(tmp_path / "export", form="8A")
    config = make_config(tmp_path, library_url)
    assert run_sync(config).outcome == "ok"
    _school(tmp_path / "export", count=35, form="9A")
    before = Library(library_url).snapshot()
    import engine.apply

    real = engine.apply._apply_intake

    def dropped(session, *args, **kwargs):
        kill_own_connection(session)
        return real(session, *args, **kwargs)

    monkeypatch.setattr(engine.apply, "_apply_intake", dropped)
    report = run_sync(config)
    assert report.outcome == "failed"
    assert report.message.startswith("library database error, nothing written")
    assert {k: v for k, v in Library(library_url).snapshot().items() if k != "sync_runs"} == \
        {k: v for k, v in before.items() if k != "sync_runs"}
    monkeypatch.undo()
    assert run_sync(config).counts["intake_refreshed"] == 30
    connect(library_url).dispose()
