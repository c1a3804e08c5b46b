"""``mislink intake show ID`` on a generated school, printed.

    python -m benchmarks.intake_show_speed                  # the 2,200 school of issue 2
    python -m benchmarks.intake_show_speed --students 95000 --staff 5000
    python -m benchmarks.intake_show_speed --library DIR    # a library already synced (DIR/config.toml)

The school is made as ``benchmarks.sync_speed`` makes it (generated export,
its borrower CSV imported, one sync) in a temporary folder, unless
``--library`` names one. Then, for the first ``--entries`` Intake entries:
the command itself, ``--runs`` times each (wall and CPU seconds of the whole
process, median), beside ``mislink intake decisions`` (the same start, imports
and opening of the library, and no suggestions: the floor a show cannot go
under); and in one process, a show as the command makes it against a show
given an index of the whole library, and building that index. Target (issue
15): a show under 0.5 s on the 2,200 school.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The settings benchmarks.sync_speed syncs with, as a file the command reads.
CONFIG = """[source]
path = "export"
[library]
url = "sqlite:///library.sqlite"
[data]
staff = true
staff_year_group = 99
[sync]
log_file = "mislink.log"
"""


def build(base: Path, students: int, staff: int) -> None:
    from benchmarks.sync_speed import prepare, sync

    started = time.perf_counter()
    prepare(base, students, staff)
    sync(base)
    (base / "config.toml").write_text(CONFIG, encoding="utf-8")
    print(f"{students} students + {staff} staff generated, imported and synced in "
          f"{time.perf_counter() - started:.0f} s")


def command(config: Path, *words: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the whole ``mislink`` process."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from cli.main import main; main()", "--config", str(config), *words],
                       check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def in_process(config: Path, ids: list[int]) -> None:
    from engine.api import load_config, open_library
    from engine.intake import load_index, show_entry

    with open_library(load_config(config), write=False) as session:
        started = time.process_time()
        index = load_index(session)
        indexed = time.process_time() - started
        alone, given = [], []
        for entry_id in ids:
            started = time.process_time()
            show_entry(session, entry_id)
            alone.append(time.process_time() - started)
            started = time.process_time()
            show_entry(session, entry_id, index=index)
            given.append(time.process_time() - started)
    print(f"  in one process (CPU, median): show {statistics.median(alone) * 1000:.0f} ms; "
          f"with an index of the whole library {statistics.median(given) * 1000:.1f} ms, "
          f"building that index {indexed * 1000:.0f} ms ({len(index.rows)} borrowers)")


def measure(library: Path, entries: int, runs: int) -> None:
    from engine.api import load_config, open_library
    from engine.intake import list_entries

    config = library / "config.toml"
    with open_library(load_config(config), write=False) as session:
        ids = [item.id for item in list_entries(session, score_missing=False)[:entries]]
    shows = [command(config, "intake", "show", str(entry_id), runs=runs) for entry_id in ids]
    floor = command(config, "intake", "decisions", runs=runs)
    print(f"  mislink intake show ID: wall {statistics.median(w for w, _ in shows):.2f} s, "
          f"CPU {statistics.median(c for _, c in shows):.2f} s (median of {len(ids)} entries x {runs} runs; "
          "target: under 0.5 s)")
    print(f"  mislink intake decisions (the floor): wall {floor[0]:.2f} s, CPU {floor[1]:.2f} s")
    in_process(config, ids)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--library", type=Path, help="a folder with config.toml and its synced library")
    parser.add_argument("--entries", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.library:
        measure(args.library.resolve(), args.entries, args.runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        build(Path(folder), args.students, args.staff)
        measure(Path(folder), args.entries, args.runs)


if __name__ == "__main__":
    main()
