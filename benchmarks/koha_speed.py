"""Sync speed and memory into a Koha library, beside the same runs on
mislink's own schema, both in MariaDB.

    python -m benchmarks.koha_speed                         # 2,200 and 100,000 people
    python -m benchmarks.koha_speed --students 2000 --staff 200 --url 'mysql+pyodbc://…'
    python -m benchmarks.koha_speed --students 95000 --staff 5000 --profile 25

The server is MISLINK_TEST_MARIADB_URL or ``--url``; each size gets two
fresh databases on it, dropped afterwards. One holds mislink's own tables and
the other Koha's real patron tables, loaded from
``../shared/koha/patron-tables.sql`` (Koha's schema is read at run time, never
copied into this project), with a branch, the pupil, staff and leaver
categories and mislink's attribute types (``mislink koha setup``).

Both libraries start from the same people: the generated school's borrower
list as a librarian typed it (the demo CSV, twins and typos included), its
MIS ids, UPNs and admission numbers left out, as in a library that has never
been synced. mislink's library imports it; Koha has it as hand-typed patrons
(cardnumber, names, birth date, sex, group and year in sort1/sort2, no patron
attributes). Then, each in a fresh process so that its peak memory
(ru_maxrss) is its own: the first sync and an unchanged re-sync, on each.
Prints wall and CPU seconds (CPU is the steadier figure on a shared
machine) and peak memory per run, and Koha's time over mislink's own.
``--profile N`` prints each sync's N costliest functions (cProfile,
cumulative) on stderr.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(2000, 200), (95000, 5000)]
SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "koha" / "patron-tables.sql"
# The ids a library that was never synced does not have.
MIS_COLUMNS = ("ManagementSystemID", "UPN", "AdmissionNo")
KOHA = {"branchcode": "MAIN", "student_category": "ST", "staff_category": "S", "leaver_category": "LEAVER"}
LIBRARIES = ("own", "koha")


def _config(base: Path, library: str, url: str):
    from engine.config import config_from_dict

    sections = {"source": {"path": "export"}, "data": {"staff": True, "staff_year_group": 99},
                "sync": {"log_file": f"{library}.log"},
                "library": {"url": url, "kind": "koha" if library == "koha" else "mislink"}}
    if library == "koha":
        sections["koha"] = KOHA
    return config_from_dict(sections, base_dir=base)


def _urls(server: str, label: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    base = make_url(server)
    return {library: base.set(database=f"mislink_bench_{library}_{label}").render_as_string(hide_password=False)
            for library in LIBRARIES}


def _recreate(server: str, urls: dict[str, str], drop_only: bool = False) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for url in urls.values():
            name = make_url(url).database
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            if not drop_only:
                connection.execute(text(f"CREATE DATABASE `{name}`"))
    admin.dispose()


def _load_koha(url: str) -> None:
    """Koha's patron tables (a mysqldump: its /*!…*/ lines are MariaDB's
    versioned comments and run as the statements they hold), and what a
    Koha library sets up before it has patrons."""
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for chunk in SCHEMA.read_text(encoding="utf-8").split(";\n"):
            statement = "\n".join(line for line in chunk.splitlines() if line.strip() and not line.startswith("--"))
            if statement.strip():
                connection.exec_driver_sql(statement)
        connection.exec_driver_sql("INSERT INTO branches (branchcode, branchname) VALUES ('MAIN', 'Main library')")
        connection.exec_driver_sql(
            "INSERT INTO categories (categorycode, description, enrolmentperiod, category_type) VALUES "
            "('ST', 'Pupils', 12, 'C'), ('S', 'Staff', 24, 'S'), ('LEAVER', 'Leavers', 1, 'A')")
    engine.dispose()


def _unsynced_csv(school, path: Path) -> None:
    """The school's borrower CSV without the MIS's ids."""
    from demo.generate_school import write_borrowers_csv

    write_borrowers_csv(school, path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({**row, **dict.fromkeys(MIS_COLUMNS, "")} for row in rows)


def prepare(base: Path, server: str, label: str, students: int, staff: int) -> dict:
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from demo.generate_school import build_school, write_export
    from engine.borrower_import import import_borrowers
    from engine.db import connect
    from engine.koha.setup import setup_attribute_types

    started = time.perf_counter()
    school = build_school(students=students, staff=staff)
    write_export(school, base / "export")
    _unsynced_csv(school, base / "borrowers.csv")
    generated = time.perf_counter() - started
    urls = _urls(server, label)
    _recreate(server, urls)
    _load_koha(urls["koha"])
    setup_attribute_types(_config(base, "koha", urls["koha"]))
    started = time.perf_counter()
    engine = connect(urls["own"])
    with Session(engine) as session, session.begin():
        imported = import_borrowers(session, base / "borrowers.csv", _config(base, "own", urls["own"]).barcodes,
                                    skip_invalid=True)
        # The same people, typed into Koha: one statement across the two
        # databases on one server.
        session.connection().exec_driver_sql(
            f"INSERT INTO `{make_url(urls['koha']).database}`.borrowers "
            "(cardnumber, firstname, surname, dateofbirth, sex, sort1, sort2, branchcode, categorycode, "
            " dateenrolled, dateexpiry) "
            "SELECT barcode, forename, surname, date_of_birth, gender, tutor_group, year_group, 'MAIN', "
            "       CASE borrower_type WHEN 'staff' THEN 'S' ELSE 'ST' END, '2025-09-01', '2026-08-31' "
            "FROM mislink_borrowers")
    engine.dispose()
    return {"generate_s": generated, "load_s": time.perf_counter() - started, "imported": imported.imported}


def sync(base: Path, library: str, url: str, profile: int) -> dict:
    from engine.sync import run_sync

    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = run_sync(_config(base, library, url), force=True)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if report.outcome != "ok":
        raise SystemExit(f"{library} sync failed: {report.message}")
    if profiler:
        print(f"--- {library} sync, {seconds:.1f} s", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
    return {"seconds": seconds, "cpu_seconds": cpu,
            "counts": {k: v for k, v in report.counts.items() if k in (
                "matched_by_link", "matched_by_upn", "matched_by_name_dob", "updated", "unchanged",
                "intake_added", "recycled")}}


def _child(step: str, server: str, args: list[str]) -> dict:
    """A step in a fresh process; the server's URL goes in its environment,
    never on a command line others can read."""
    command = [sys.executable, "-m", "benchmarks.koha_speed", "--child", step, *args]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "MISLINK_TEST_MARIADB_URL": server})
    return json.loads(done.stdout.splitlines()[-1])


def _line(name: str, result: dict) -> str:
    return (f"  {name:<30} {result['seconds']:7.2f} s ({result['cpu_seconds']:6.2f} s CPU)   "
            f"peak memory {result['peak_memory_mb']:5.0f} MB   {result['counts']}")


def measure(server: str, students: int, staff: int, profile: int) -> None:
    label = f"{students + staff}_{os.getpid()}"
    urls = _urls(server, label)
    with tempfile.TemporaryDirectory() as folder:
        common = ["--base", folder, "--label", label]
        try:
            prepared = _child("prepare", server, [*common, "--students", str(students), "--staff", str(staff)])
            runs = {(library, name): _child("sync", server, [*common, "--library", library, "--profile", str(profile)])
                    for library in LIBRARIES for name in ("first sync", "unchanged re-sync")}
        finally:
            _recreate(server, urls, drop_only=True)
    print(f"{students} students + {staff} staff ({prepared['imported']} borrowers typed in, loaded into both "
          f"in {prepared['load_s']:.1f} s; export generated in {prepared['generate_s']:.1f} s)")
    for name in ("first sync", "unchanged re-sync"):
        own, koha = runs["own", name], runs["koha", name]
        print(_line(f"{name}, own schema", own))
        print(_line(f"{name}, Koha", koha))
        print(f"  {name}: Koha/own {koha['seconds'] / own['seconds']:.2f}x wall, "
              f"{koha['cpu_seconds'] / own['cpu_seconds']:.2f}x CPU, "
              f"{koha['peak_memory_mb'] / own['peak_memory_mb']:.2f}x peak memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("MISLINK_TEST_MARIADB_URL"),
                        help="a MariaDB server URL (default: MISLINK_TEST_MARIADB_URL)")
    parser.add_argument("--students", type=int, default=0)
    parser.add_argument("--staff", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print each sync's N costliest functions on stderr")
    parser.add_argument("--child", choices=["prepare", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--library", choices=LIBRARIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set MISLINK_TEST_MARIADB_URL (a MariaDB server)")
    if args.child:
        result = prepare(args.base, args.url, args.label, args.students, args.staff) if args.child == "prepare" \
            else sync(args.base, args.library, _urls(args.url, args.label)[args.library], args.profile)
        result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    if not SCHEMA.is_file():
        raise SystemExit(f"Koha's schema is not at {SCHEMA}")
    for students, staff in [(args.students, args.staff)] if args.students else SIZES:
        measure(args.url, students, staff, args.profile)


if __name__ == "__main__":
    main()
