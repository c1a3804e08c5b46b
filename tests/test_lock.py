"""One sync at a time: a second sync fails at once with exit code 4, on every
database, across processes; a lock left by a killed process blocks nobody."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cli.main import ExitCode
from engine.db import connect
from engine.lock import LibraryBusy, library_lock
from engine.sync import run_sync
from tests.builders import make_config, student, write_export

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from engine.db import connect
    from engine.lock import library_lock
    with library_lock(connect(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
""")


def _config_file(tmp_path: Path, library_url: str) -> Path:
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n'
                    f'[sync]\nlog_file = "mislink.log"\n', encoding="utf-8")
    return path


def _cli(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "--config", str(config), "--sync"],
                          capture_output=True, text=True, timeout=60)


def test_second_sync_exits_4_while_another_process_holds_the_lock(tmp_path, library_url):
    config = _config_file(tmp_path, library_url)
    engine = connect(library_url)
    with library_lock(engine):
        started = time.monotonic()
        result = _cli(config)
        assert time.monotonic() - started < 30, "a locked sync must not wait"
    engine.dispose()
    assert result.returncode == ExitCode.LOCKED, result.stderr
    # The reason is a problem, so it goes to stderr; stdout says only that the sync did not run.
    assert "another mislink process is changing this library" in result.stderr
    assert "another mislink process" not in result.stdout
    assert _cli(config).returncode == ExitCode.OK


def test_lock_is_refused_within_one_process_too(tmp_path, library_url):
    _config_file(tmp_path, library_url)
    engine = connect(library_url)
    with library_lock(engine):
        report = run_sync(make_config(tmp_path, library_url))
        with pytest.raises(LibraryBusy):
            with library_lock(engine):
                pass
    engine.dispose()
    assert report.outcome == "locked", report.message


def test_lock_left_by_a_killed_process_does_not_block_the_next_run(tmp_path, library_url):
    config = _config_file(tmp_path, library_url)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, library_url], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert _cli(config).returncode == ExitCode.LOCKED
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 20
    result = _cli(config)
    while result.returncode == ExitCode.LOCKED and time.monotonic() < deadline:
        time.sleep(0.5)  # a server notices the dead connection within moments
        result = _cli(config)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr


def test_an_intake_decision_waits_for_nobody_while_a_sync_writes(tmp_path, library_url):
    """A librarian's decision and a sync never interleave: while one writes,
    the other is refused at once (and reading goes on)."""
    config = _config_file(tmp_path, library_url)
    assert _cli(config).returncode == ExitCode.OK
    engine = connect(library_url)
    with library_lock(engine):
        reject = subprocess.run([sys.executable, "-m", "cli", "--config", str(config), "intake", "reject", "1"],
                                capture_output=True, text=True, timeout=60)
        listing = subprocess.run([sys.executable, "-m", "cli", "--config", str(config), "intake", "list"],
                                 capture_output=True, text=True, timeout=60)
    engine.dispose()
    assert reject.returncode == ExitCode.LOCKED and "another mislink process" in reject.stderr
    assert listing.returncode == ExitCode.OK and "Ada Lovelace" in listing.stdout
