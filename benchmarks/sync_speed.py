"""Sync speed and memory on a generated school, into SQLite.

    python -m benchmarks.sync_speed                  # both sizes from issue 2
    python -m benchmarks.sync_speed --students 2000 --staff 200

Steps, each in a fresh process so that its peak memory (ru_maxrss) is its own,
as a nightly sync is: generate the export and the library's borrower CSV and
import the CSV; first sync (matches, updates, Intake, leavers); an unchanged
re-sync. Prints wall and CPU seconds and peak memory per step (CPU time is the
steadier figure on a shared machine); the targets are in issue 15.

Each sync is set beside a baseline run in the same way, interleaved with it:
the first sync beside json.load of the files the sync reads, a tuple per
person and one executemany into an empty copy of the same indexed table
(mislink_borrowers) in one transaction; the re-sync beside json.load, one
SELECT of the library's borrowers and an in-memory compare of tuples. A
child's CPU is read with getrusage(RUSAGE_CHILDREN), less an import-only run
of its side (interpreter start and imports), and the ratios are printed.
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


# The columns the baselines build and compare, from a Students or Staff row.
BASELINE_COLUMNS = {"mis_id": "Id", "idaas_id": "IdaasId", "external_id": "ExternalId", "upn": "UPN",
                    "admission_no": "AdmissionNo", "forename": "Forename", "surname": "Surname",
                    "legal_forename": "LegalForename", "legal_surname": "LegalSurname",
                    "middle_name": "MiddleName", "gender": "Gender", "year_group": "YearGroup",
                    "tutor_group": "RegGroup", "house": "HouseGroup"}
PEOPLE = {"Students": "student", "Staff": "staff"}


def _files_read(base: Path) -> list[str]:
    """The export files the sync reads with these settings (the baselines load them all)."""
    from engine.export import _endpoint_names
    from engine.export.files import endpoint_path

    paths = (endpoint_path(base / "export", name) for name in _endpoint_names(_config(base).data))
    return [str(path) for path in paths if path is not None]


def _people(files: list[str]):
    """Each person row of the loaded files, with its MIS person type."""
    for path in files:
        with open(path, encoding="utf-8") as handle:
            response = json.load(handle)
        name = Path(path).stem
        for row in response.get(name, []) if name in PEOPLE else []:
            yield PEOPLE[name], row


def _tuple(kind: str, row: dict) -> tuple:
    return (kind, *(row.get(key) for key in BASELINE_COLUMNS.values()),
            row.get("DateofBirth") or row.get("DateOfBirth"))


def baseline_first(base: Path, files: list[str]) -> dict:
    import sqlite3

    library = sqlite3.connect(base / "library.sqlite")
    schema = [sql for (sql,) in library.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'mislink_borrowers' AND sql IS NOT NULL")]
    library.close()
    path = base / "baseline.sqlite"
    path.unlink(missing_ok=True)
    database = sqlite3.connect(path)
    for statement in schema:
        database.execute(statement)
    now = "2026-09-16 07:00:00"
    rows = [(f"{kind}-{row['Id']}", kind, *_tuple(kind, row), "active", now, now) for kind, row in _people(files)]
    columns = ("barcode", "borrower_type", "mis_person_type", *BASELINE_COLUMNS, "date_of_birth", "status",
               "created_at", "updated_at")
    with database:
        database.executemany(f"INSERT INTO mislink_borrowers ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})", rows)
    database.close()
    return {"rows": len(rows)}


def baseline_resync(base: Path, files: list[str]) -> dict:
    import sqlite3

    exported = {(kind, row["Id"]): _tuple(kind, row) for kind, row in _people(files)}
    database = sqlite3.connect(base / "library.sqlite")
    stored = {(row[0], row[1]): row for row in database.execute(
        f"SELECT mis_person_type, {', '.join(BASELINE_COLUMNS)}, date_of_birth FROM mislink_borrowers "
        "WHERE mis_id IS NOT NULL")}
    database.close()
    return {"rows": len(exported), "same": sum(stored.get(key) == value for key, value in exported.items())}


def imports_only(side: str) -> dict:
    """What a step of that side imports, and nothing else."""
    if side == "mislink":
        import engine.sync  # noqa: F401
    else:
        import sqlite3  # noqa: F401
    return {}


def _child(step: str, base: Path, students: int = 0, staff: int = 0, files: list[str] = ()) -> dict:
    """Run one step in a fresh process: its result, with its CPU seconds
    (user + system, from RUSAGE_CHILDREN) as ``child_cpu_s``."""
    command = [sys.executable, "-m", "benchmarks.sync_speed", "--child", step, "--base", str(base),
               "--students", str(students), "--staff", str(staff), "--files", *files]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = subprocess.run(command, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode:
        raise SystemExit(f"{step} failed:\n{finished.stderr}")
    result = json.loads(finished.stdout.splitlines()[-1])
    result["child_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


CHILD_STEPS = {"prepare": lambda a: prepare(a.base, a.students, a.staff), "sync": lambda a: sync(a.base),
               "baseline_first": lambda a: baseline_first(a.base, a.files),
               "baseline_resync": lambda a: baseline_resync(a.base, a.files),
               "import_mislink": lambda a: imports_only("mislink"),
               "import_baseline": lambda a: imports_only("baseline")}


def measure(students: int, staff: int) -> None:
    """Prepare a school, then run each side's steps interleaved, and print them."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        prepared = _child("prepare", base, students, staff)
        files = _files_read(base)
        imports = {side: _child(f"import_{side}", base) for side in ("mislink", "baseline")}
        first, first_baseline = _child("sync", base), _child("baseline_first", base, files=files)
        again, again_baseline = _child("sync", base), _child("baseline_resync", base, files=files)
    print(f"{students} students + {staff} staff ({prepared['imported']} borrowers imported from CSV in "
          f"{prepared['import_s']:.1f} s; export generated in {prepared['generate_s']:.1f} s)")
    print(f"  import-only runs: mislink {imports['mislink']['child_cpu_s']:.2f} s CPU, "
          f"baseline {imports['baseline']['child_cpu_s']:.2f} s CPU (taken off each side's steps)")
    for name, result, baseline in (("first sync", first, first_baseline),
                                   ("unchanged re-sync", again, again_baseline)):
        own = result["child_cpu_s"] - imports["mislink"]["child_cpu_s"]
        theirs = baseline["child_cpu_s"] - imports["baseline"]["child_cpu_s"]
        print(f"  {name:<18} {result['seconds']:6.2f} s ({result['cpu_seconds']:.2f} s CPU)   "
              f"peak memory {result['peak_memory_mb']:5.0f} MB   "
              f"{result['counts']}")
        print(f"  {'':<18} CPU less imports: mislink {own:.2f} s, baseline {theirs:.2f} s "
              f"({baseline['rows']} rows, peak memory {baseline['peak_memory_mb']:.0f} MB): "
              f"ratio {own / theirs:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=0)
    parser.add_argument("--staff", type=int, default=0)
    parser.add_argument("--child", choices=list(CHILD_STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = CHILD_STEPS[args.child](args)
        result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    for students, staff in [(args.students, args.staff)] if args.students else SIZES:
        measure(students, staff)


if __name__ == "__main__":
    main()
