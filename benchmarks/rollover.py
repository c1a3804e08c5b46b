"""The September roll-over on the demo school: does it pass without --force?

    python -m benchmarks.rollover                    # 900 pupils, into SQLite in a temporary folder
    python -m benchmarks.rollover --students 2000

The library is made from the school's June export (demo.rollover): synced,
everyone transferred from Intake as new borrowers, synced again in June (the
last sync before the summer). Then each September export is synced into a
copy of that library, without --force, on the day the demo school exports
it: the ordinary roll-over (Year 13 and Year 11 leavers gone, a new Year 7,
leavers listed as Xporter's includeLeavers gives them), the same without
includeLeavers, and a broken feed (half of last year's Years 7-10 missing).
For each it prints the leavers expected, unexpected and recycled, and whether
the run needed --force (the guard stopped it).
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from demo.generate_school import build_school, write_export
from demo.rollover import JUNE_DAY, SEPTEMBER_DAY, rollover, with_pupils_missing, without_leavers
from demo.school import School
from engine.config import Config, config_from_dict
from engine.intake import list_entries, transfer_entries
from engine.report import SyncReport
from engine.session import open_library
from engine.sync import run_sync

# Last year's Years 7-10, as September's export names them.
ROLLED_UP_KS3_KS4 = (8, 9, 10, 11)


def school_config(base: Path, url: str, **data) -> Config:
    """Default guards and roll-over settings; the export is ``base/export``."""
    return config_from_dict({"source": {"path": "export"}, "library": {"url": url}, "data": data,
                             "sync": {"log_file": "mislink.log"}}, base_dir=base)


def sync_export(config: Config, school: School, today, **options) -> SyncReport:
    """Write the school's export as the source (replacing the last) and sync it."""
    shutil.rmtree(config.source_path, ignore_errors=True)
    write_export(school, config.source_path)
    return run_sync(config, today=today, **options)


def june_library(config: Config, june: School) -> SyncReport:
    """The library as the school leaves it in June: every pupil on roll a
    borrower (transferred from Intake; pre-admissions stay waiting), then the
    last sync before the summer, whose report is returned."""
    first = sync_export(config, june, JUNE_DAY)
    if first.outcome != "ok":
        raise RuntimeError(f"the June sync failed: {first.message}")
    with open_library(config, write=True) as session:
        waiting = [entry.id for entry in list_entries(session, score_missing=False) if entry.start_date is None]
        transfer_entries(session, config, waiting, actor="benchmark", today=JUNE_DAY)
    return run_sync(config, today=JUNE_DAY)


def leavers(report: SyncReport) -> dict:
    counts = report.counts or {}
    return {"outcome": str(report.outcome), "leavers_expected": counts.get("leavers_expected"),
            "leavers_unexpected": counts.get("leavers_unexpected"), "recycled": counts.get("recycled"),
            "needed_force": bool(report.guard_stops)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=900)
    parser.add_argument("--staff", type=int, default=80)
    args = parser.parse_args()
    school = build_school(students=args.students, staff=args.staff)
    year = rollover(school)
    septembers = {"ordinary roll-over": school, "without includeLeavers": without_leavers(school),
                  "half of Years 7-10 missing": with_pupils_missing(school, ROLLED_UP_KS3_KS4)}
    print(f"demo school: {len(year.june.rows('Students'))} pupils in June, {len(school.rows('Students'))} in "
          f"September; {len(year.summer_leavers)} leave in the summer, {len(year.newcomers)} start in September")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        june = base / "june"
        june.mkdir()
        config = school_config(june, "sqlite:///library.sqlite")
        started = time.perf_counter()
        june_library(config, year.june)
        print(f"June library made in {time.perf_counter() - started:.1f} s")
        for name, september in septembers.items():
            copy = base / name.replace(" ", "-")
            copy.mkdir()
            shutil.copyfile(june / "library.sqlite", copy / "library.sqlite")
            started = time.perf_counter()
            result = leavers(sync_export(school_config(copy, "sqlite:///library.sqlite"), september, SEPTEMBER_DAY))
            seconds = time.perf_counter() - started
            print(f"{name}: {result['leavers_expected']} leavers expected, {result['leavers_unexpected']} "
                  f"unexpected, {result['recycled']} recycled; needed --force: "
                  f"{'yes' if result['needed_force'] else 'no'} ({result['outcome']}, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
