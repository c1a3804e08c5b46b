"""Faults against a Koha library (MariaDB, Koha's real patron tables): a sync
killed mid-apply leaves Koha's tables and mislink's exactly as they were; a
second run while one is writing exits 4 and writes nothing, and the first
does exactly what it planned; a Koha whose patrons have loans out keeps a
leaver with loans as a patron and reports them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, text, update
from sqlalchemy.pool import NullPool

from cli.main import ExitCode, main
from engine.api import save_config
from engine.sync import run_sync
from tests.builders import TODAY, student, write_export
from tests.optional_builders import image_bytes, photo

ROOT = Path(__file__).parents[1]
SYNC = {"max_recycle_share": 1.0, "min_export_share": 0.0}
DATA = {"photos": True, "email": True}

# A sync in a child process that pauses after ``point`` has run, until
# ``go`` exists (or it is killed), and prints its outcome and counts.
PAUSED_SYNC = textwrap.dedent("""
    import json, sys, time
    from datetime import date
    from pathlib import Path
    import engine.apply, engine.koha.bridge
    from engine.config import load_config
    from engine.sync import run_sync

    config, point, marker, go, today = sys.argv[1:]

    def pausing_after(real):
        def paused(*args, **kwargs):
            result = real(*args, **kwargs)
            Path(marker).write_text("paused")
            deadline = time.monotonic() + 120
            while not Path(go).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return result
        return paused

    if point == "mirror written":  # the mirror's borrowers and Intake; Koha not yet
        engine.apply._apply_intake = pausing_after(engine.apply._apply_intake)
    else:  # "koha written": everything, just before the commit
        bridge = engine.koha.bridge.KohaBridge
        bridge.push = pausing_after(bridge.push)
    report = run_sync(load_config(config), today=date.fromisoformat(today))
    print(json.dumps({"outcome": report.outcome, "message": report.message,
                      "counts": dict(report.counts.items()) if report.counts else None}))
""")

PUPILS = [student(f"Pupil{i}", f"Family{i}", Id=str(300 + i), RegGroup="8A", YearGroup="Year  8",
                  IdaasEmail=f"pupil{i}@school.example") for i in range(12)]
PHOTOS = [photo(str(300 + i), image_bytes(colour=(i * 20, 0, 0))) for i in range(6)]


def _next_year() -> dict:
    """Everyone moves up, two leave, five arrive, and half the photos are new:
    updates, leavers, Intake and patron images for the run to write."""
    moved = [{**p, "RegGroup": "9A", "YearGroup": "Year  9"} for p in PUPILS[2:]]
    arrivals = [student(f"New{i}", f"Arrival{i}", Id=str(400 + i), RegGroup="7C") for i in range(5)]
    photos = [photo(str(300 + i), image_bytes(colour=(0, i * 20, 0))) for i in range(2, 5)]
    return {"Students": moved + arrivals, "Photos": photos}


@pytest.fixture
def school(koha, tmp_path):
    """Hand-typed patrons synced once (linked, attributes and images written),
    a patron of another category, a loan out and a returned one; the export
    then holds next year's school. The config file is ``config.toml``."""
    numbers = [koha.add_patron(str(1000 + i), f"Pupil{i}", f"Family{i}", sort1="7A") for i in range(12)]
    koha.add_patron("9001", "Parent", "Family0", "1980-01-01", category="AD")
    koha.add_issue(numbers[3], 501)
    koha.execute(insert(koha.tables.old_issues).values(issue_id=77, borrowernumber=numbers[4], itemnumber=502))
    write_export(tmp_path / "export", Students=PUPILS, Photos=PHOTOS)
    config = koha.config(tmp_path, data=DATA, sync=SYNC)
    assert run_sync(config, today=TODAY).outcome == "ok"
    assert len(koha.dump()["patronimage"]) == len(PHOTOS)
    save_config(config, tmp_path / "config.toml")
    write_export(tmp_path / "export", **_next_year())
    return config


def everything(koha) -> dict[str, list[tuple]]:
    """Every row of every table in the database, Koha's and mislink's."""
    with koha.engine.connect() as connection:
        return {name: sorted(map(tuple, connection.execute(text(f"SELECT * FROM `{name}`"))), key=repr)
                for name in inspect(connection).get_table_names()}


def groups_in_flight(koha) -> tuple[set, set]:
    """The tutor groups in Koha and in the mirror as a paused, uncommitted
    run has written them (a dirty read). The read has an engine of its own:
    on an AUTOCOMMIT engine SQLAlchemy hands the connection back to the pool
    still READ UNCOMMITTED, and a later read would see a killed run's
    rollback half done."""
    dirty = create_engine(koha.url, poolclass=NullPool, isolation_level="READ UNCOMMITTED")
    with dirty.connect() as connection:
        return tuple(set(connection.scalars(text(query))) for query in (
            "SELECT sort1 FROM borrowers WHERE categorycode = 'ST'",
            "SELECT tutor_group FROM mislink_borrowers WHERE status = 'active'"))


class PausedSync:
    """A sync in another process, paused at ``point`` inside its transaction."""

    def __init__(self, tmp_path: Path, point: str):
        self.marker, self.go = tmp_path / "paused", tmp_path / "go"
        self.child = subprocess.Popen(
            [sys.executable, "-c", PAUSED_SYNC, str(tmp_path / "config.toml"), point, str(self.marker),
             str(self.go), TODAY.isoformat()],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not self.marker.exists():
            if self.child.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the sync never reached the pause at {point}")
            time.sleep(0.05)

    def kill(self) -> None:
        self.child.send_signal(signal.SIGKILL)
        self.child.wait(timeout=30)

    def finish(self) -> dict:
        self.go.touch()
        out, _ = self.child.communicate(timeout=60)
        assert self.child.returncode == 0, out
        return json.loads(out.splitlines()[-1])


def _sync_once_the_killed_run_is_gone(config):
    """The server releases a killed client's lock only once it notices the
    connection is gone: until then a sync is refused as locked."""
    deadline = time.monotonic() + 20
    while (report := run_sync(config, today=TODAY)).outcome == "locked" and time.monotonic() < deadline:
        time.sleep(0.1)
    return report


@pytest.mark.parametrize("point, in_flight", [("mirror written", ({"8A"}, {"9A"})),
                                              ("koha written", ({"9A"}, {"9A"}))])
def test_sigkill_mid_apply_leaves_koha_and_mislink_exactly_as_before(koha, tmp_path, school, point, in_flight):
    before = everything(koha)
    paused = PausedSync(tmp_path, point)
    try:
        assert groups_in_flight(koha) == in_flight  # killed with this much written
    finally:
        paused.kill()
    assert paused.child.returncode == -signal.SIGKILL
    assert everything(koha) == before
    # The next run does the whole of it.
    report = _sync_once_the_killed_run_is_gone(school)
    assert report.outcome == "ok", report.message
    assert (report.counts["recycled"], report.counts["intake_added"]) == (2, 5)
    patrons = koha.patrons()
    assert {patrons[str(1000 + i)]["sort1"] for i in range(2, 12)} == {"9A"}
    assert {patrons[c]["categorycode"] for c in ("1000", "1001")} == {"LEAVER"}


def test_a_second_run_while_one_writes_to_koha_exits_4_and_nothing_interleaves(koha, tmp_path, school):
    planned = run_sync(school, dry_run=True, today=TODAY).counts
    before = everything(koha)
    paused = PausedSync(tmp_path, "koha written")
    try:
        second = subprocess.run([sys.executable, "-m", "cli", "--config", str(tmp_path / "config.toml"), "--sync"],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == ExitCode.LOCKED, second.stdout + second.stderr
        assert "another mislink process is changing this library" in second.stdout + second.stderr
        # Neither run is visible yet: the first has not committed, the second wrote nothing.
        assert everything(koha) == before
    finally:
        first = paused.finish()
    # The first did exactly what its preview planned, undisturbed...
    assert first["outcome"] == "ok", first["message"]
    assert first["counts"] == dict(planned.items())
    # ...and left Koha and mislink agreeing: the next run finds nothing to do.
    again = run_sync(school, today=TODAY)
    assert (again.counts["updated"], again.counts["intake_added"], again.counts["recycled"]) == (0, 0, 0)
    assert again.counts["unchanged"] == 10


def test_a_librarians_koha_edit_made_while_a_sync_runs_is_kept(koha, tmp_path, school):
    """The run has read Koha and planned; a librarian notes two patrons,
    one it is moving up and one it is moving to the leavers, before it writes."""
    paused = PausedSync(tmp_path, "mirror written")
    try:
        borrowers = koha.tables.borrowers
        for cardnumber in ("1000", "1005"):
            koha.execute(update(borrowers).where(borrowers.c.cardnumber == cardnumber)
                         .values(borrowernotes=f"card {cardnumber} replaced"))
    finally:
        assert paused.finish()["outcome"] == "ok"
    patrons = koha.patrons()
    assert (patrons["1000"]["categorycode"], patrons["1000"]["borrowernotes"]) == ("LEAVER", "card 1000 replaced")
    assert (patrons["1005"]["sort1"], patrons["1005"]["borrowernotes"]) == ("9A", "card 1005 replaced")


def test_a_leaver_with_koha_loans_out_is_reported_and_stays_a_patron(koha, tmp_path, school, capsys):
    issued = koha.patrons()["1003"]["borrowernumber"]
    koha.add_issue(issued, 503)
    loans = {name: rows for name, rows in koha.dump().items() if name in ("issues", "old_issues")}
    # Pupil3 (two loans out) and Pupil4 (only a returned loan) leave as well.
    students = [p for p in _next_year()["Students"] if p["Id"] not in ("303", "304")]
    write_export(tmp_path / "export", Students=students)
    assert main(["--config", str(tmp_path / "config.toml"), "--sync"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "4 recycled, 0 restored, 1 leavers still have loans out" in out
    assert "leaver with 2 loans out: 1003" in out
    patrons = koha.patrons()
    assert {c: patrons[c]["categorycode"] for c in ("1000", "1001", "1003", "1004")} == dict.fromkeys(
        ("1000", "1001", "1003", "1004"), "LEAVER")
    assert (patrons["1003"]["borrowernumber"], patrons["1003"]["sort1"]) == \
        (issued, f"Leaver {date.today().year} (Old Group 8A)")
    # Koha's loans and loan history are Koha's: read, never written.
    assert {name: rows for name, rows in koha.dump().items() if name in ("issues", "old_issues")} == loans
