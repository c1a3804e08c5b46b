"""Sync speed and memory on a generated school, into SQLite.

    python -m benchmarks.sync_speed                  # both sizes from issue 2
    python -m benchmarks.sync_speed --students 2000 --staff 200

Steps, each in a fresh process so that its peak memory (ru_maxrss) is its own,
as a nightly sync is: generate the export and the library's borrower CSV and
import the CSV; first sync (matches, updates, Intake, leavers); an unchanged
re-sync. Prints wall and CPU seconds and peak memory per step (CPU time is the
steadier figure on a shared machine); the targets are in the issue.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(2000, 200), (95000, 5000)]


def _config(base: Path):
    from engine.config import config_from_dict

    return config_from_dict({"source": {"path": "export"}, "library": {"url": "sqlite:///library.sqlite"},
                             "data": {"staff": True, "staff_year_group": 99},
                             "sync": {"log_file": "mislink.log"}}, base_dir=base)


def prepare(base: Path, students: int, staff: int) -> dict:
    from demo.generate_school import build_school, write_borrowers_csv, write_export
    from engine.borrower_import import import_borrowers
    from engine.db import connect
    from sqlalchemy.orm import Session

    started = time.perf_counter()
    school = build_school(students=students, staff=staff)
    write_export(school, base / "export")
    write_borrowers_csv(school, base / "borrowers.csv")
    generated = time.perf_counter() - started
    engine = connect(_config(base).library_url)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        imported = import_borrowers(session, base / "borrowers.csv", _config(base).barcodes, skip_invalid=True)
    return {"generate_s": generated, "import_s": time.perf_counter() - started, "imported": imported.imported}


def sync(base: Path) -> dict:
    from engine.sync import run_sync

    started, cpu_started = time.perf_counter(), time.process_time()
    report = run_sync(_config(base), force=True)
    if report.outcome != "ok":
        raise SystemExit(f"sync failed: {report.message}")
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
            "counts": {k: v for k, v in report.counts.items() if k in (
                "matched_by_link", "matched_by_upn", "matched_by_name_dob", "updated", "unchanged",
                "intake_added", "recycled")}}


def _child(step: str, base: Path, students: int = 0, staff: int = 0) -> dict:
    command = [sys.executable, "-m", "benchmarks.sync_speed", "--child", step, "--base", str(base),
               "--students", str(students), "--staff", str(staff)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=0)
    parser.add_argument("--staff", type=int, default=0)
    parser.add_argument("--child", choices=["prepare", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = prepare(args.base, args.students, args.staff) if args.child == "prepare" else sync(args.base)
        result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    for students, staff in [(args.students, args.staff)] if args.students else SIZES:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            prepared = _child("prepare", base, students, staff)
            first, again = _child("sync", base), _child("sync", base)
        print(f"{students} students + {staff} staff ({prepared['imported']} borrowers imported from CSV in "
              f"{prepared['import_s']:.1f} s; export generated in {prepared['generate_s']:.1f} s)")
        for name, result in (("first sync", first), ("unchanged re-sync", again)):
            print(f"  {name:<18} {result['seconds']:6.2f} s ({result['cpu_seconds']:.2f} s CPU)   "
                  f"peak memory {result['peak_memory_mb']:5.0f} MB   "
                  f"{result['counts']}")


if __name__ == "__main__":
    main()
