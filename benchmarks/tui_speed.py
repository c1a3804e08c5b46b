"""Terminal UI speed with 10,000 Intake records, measured headless (``App.run_test``).

    python -m benchmarks.tui_speed                         # 40,000 pupils, about 10,000 of them in Intake
    python -m benchmarks.tui_speed --students 4000         # a quicker look
    python -m benchmarks.tui_speed --keep /tmp/tui-bench   # build the library once, reuse it

The school comes from ``demo.generate_school``; its library misses about a
quarter of the pupils, so a first sync puts about 10,000 of 40,000 in Intake
(and stores the best scores of the first 2,000: the app works the rest out in
the background, once). Printed, with the targets from issue 5:

- first paint: from starting the app to the first Intake rows on screen
  (under 1.5 s); then until every row is in the table, the suggestions are
  ready and the missing scores are stored;
- moving the selection: from pressing ↓ to the next record's suggestions on
  screen and its decision keys ready, the queue's pause for the cursor to
  rest included (under 100 ms),
  median and worst of ``--moves`` presses, once the app has settled.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

FIRST_PAINT_TARGET, MOVE_TARGET = 1.5, 0.100
POLL = 0.002


def prepare(base: Path, students: int) -> Path:
    """The school's config.toml, its library synced and scored."""
    from sqlalchemy.orm import Session

    from demo.generate_school import build_school, write_borrowers_csv, write_export
    from engine.borrower_import import import_borrowers
    from engine.config import config_from_dict, save_config
    from engine.db import connect
    from engine.sync import run_sync

    path = base / "config.toml"
    if path.exists():
        return path
    base.mkdir(parents=True, exist_ok=True)
    config = config_from_dict({"source": {"path": "export"}, "library": {"url": "sqlite:///library.sqlite"},
                               "sync": {"log_file": "mislink.log"}}, base_dir=base)
    school = build_school(students=students, staff=0)
    write_export(school, base / "export")
    write_borrowers_csv(school, base / "borrowers.csv")
    engine = connect(config.library_url)
    with Session(engine) as session, session.begin():
        import_borrowers(session, base / "borrowers.csv", config.barcodes, skip_invalid=True)
    report = run_sync(config, force=True)
    if report.outcome != "ok":
        raise SystemExit(f"sync failed: {report.message}")
    engine.dispose()
    save_config(config, path)
    return path


async def until(condition, timeout: float = 60.0) -> None:
    """Wait, lightly: the pilot's own pause waits for the app to go idle,
    which would take part in what is measured."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out waiting for the app")
        await asyncio.sleep(POLL)


async def measure(path: Path, moves: int) -> dict:
    from engine.config import load_config
    from tui.app import make_app

    started = time.perf_counter()
    app = make_app(load_config(path), path)
    async with app.run_test(size=(80, 24)) as pilot:
        frames = drawn(app)
        queue, pane = app.intake.queue, app.intake
        await until(lambda: queue.table.row_count > 0)
        filled = time.perf_counter()
        await until(lambda: frames and frames[-1] >= filled)
        first_paint = next(f for f in frames if f >= filled) - started
        await until(lambda: queue.table.row_count == len(queue.entries))
        all_rows = time.perf_counter() - started
        await until(lambda: app.index is not None and shown(app))
        ready = time.perf_counter() - started
        await until(lambda: not any(w.is_running for w in app.workers), timeout=300)
        settled = time.perf_counter() - started
        shown_at: list[float] = []
        show = pane.show_suggestions
        pane.show_suggestions = lambda entry, comparison: (show(entry, comparison),
                                                           shown_at.append(time.perf_counter()))
        times = []
        for _ in range(moves):
            shown_at.clear()
            pressed = time.perf_counter()
            await pilot.press("down")
            await until(lambda: shown(app) and shown_at and frames[-1] >= shown_at[-1])
            times.append(next(f for f in frames if f >= shown_at[-1]) - pressed)
        return {"entries": len(queue.entries), "first_paint": first_paint, "all_rows": all_rows,
                "suggestions_ready": ready, "settled": settled, "moves": times}


def drawn(app) -> list[float]:
    """When each frame is drawn: Textual's own drawing call, timed (the
    headless driver draws nothing, but the frame is composed all the same)."""
    frames: list[float] = []
    display = app._display

    def timed(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            frames.append(time.perf_counter())

    app._display = timed
    return frames


def shown(app) -> bool:
    """Are the highlighted entry's own suggestions on screen, its keys ready?"""
    pane = app.intake
    return pane.entry is not None and pane.shown == pane.entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40_000)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build the library here once and reuse it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        started = time.perf_counter()
        path = prepare(base, args.students)
        print(f"library ready in {time.perf_counter() - started:.1f} s ({base})")
        result = asyncio.run(measure(path, args.moves))
    moves = result["moves"]
    print(f"Intake records: {result['entries']:,}")
    print(f"first paint: {result['first_paint']:.2f} s (target: under {FIRST_PAINT_TARGET} s); "
          f"every row in the table: {result['all_rows']:.2f} s; "
          f"suggestions ready: {result['suggestions_ready']:.2f} s; "
          f"settled (missing scores stored): {result['settled']:.2f} s")
    print(f"move the selection and show suggestions: median {statistics.median(moves) * 1000:.0f} ms, "
          f"worst {max(moves) * 1000:.0f} ms over {len(moves)} moves (target: under {MOVE_TARGET * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
