"""The first thing a school sees, and the test run itself: the README's test
command is CI's, and a machine without the database servers is told so once."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.sync import run_sync
from tests.builders import make_config, student, write_export

ROOT = Path(__file__).resolve().parents[1]


def test_first_sync_puts_new_students_in_intake(tmp_path, library_url):
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace"), student("Alan", "Turing")])
    report = run_sync(make_config(tmp_path, library_url))
    assert report.outcome == "ok", report.message
    assert report.counts["intake_added"] == 2
    again = run_sync(make_config(tmp_path, library_url))
    assert again.counts["intake_added"] == 0 and again.plan.is_empty


def test_the_readme_test_command_is_the_one_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("Set up and run the tests:", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = command.split(" && ")
    assert steps[-1].startswith(".venv/bin/python -m pytest")
    assert [step for step in steps if step not in ci] == []
    assert f"{steps[-1]} </dev/null" in ci


def test_without_server_urls_their_tests_are_left_out_in_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISLINK_TEST_")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_smoke.py::test_first_sync_puts_new_students_in_intake"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [line for line in lines if "MISLINK_TEST_" in line] == [
        "PostgreSQL and MariaDB tests not run: MISLINK_TEST_POSTGRES_URL and MISLINK_TEST_MARIADB_URL "
        "are not set (CI sets them)"]
    assert "1 passed, 2 deselected" in lines[-1] and "skipped" not in run.stdout.lower()
