"""The run log: a plain text file, one block per run, fit for a scheduled task.

Only what a librarian needs to identify a record goes in: MIS ids and
barcodes, never names, dates of birth, addresses, contact details or photos.
Each line starts with the local time and its UTC offset, and is one line
whatever the values in it hold (``engine.safe_text.one_line``), so text from an
export can never forge a line. The file is created readable by its owner only.
"""
from __future__ import annotations

import os
import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from engine.report import SyncReport, record_id
from engine.safe_text import one_line


def run_log_lines(report: SyncReport) -> list[str]:
    c = report.counts
    lines = [f"sync {report.outcome}{' (forced)' if report.forced else ''}"
             f" run={report.run_id or '-'} source={report.source}"]
    if report.message:
        lines.append(f"  {report.message}")
    if c:
        lines.append("  " + " ".join(f"{k}={v}" for k, v in c.items() if not isinstance(v, dict)))
        lines += [f"  removed switched-off field {field} from {count} records"
                  for field, count in sorted(c.get("fields_purged", {}).items())]
    plan = report.plan
    if plan:
        lines += [f"{WARNING}{w}" for w in plan.warnings]
        lines += [f"  rejected: {r.file} {record_id(r.record)}: {r.field}: {r.reason}" for r in plan.rejections]
        if report.outcome == "ok":
            lines += [f"  recycled: {r.barcode} ({r.reason}; {r.loans_out} loans out)" for r in plan.recycles]
    return lines


WARNING = "  warning: "
_RUN = re.compile(r"^sync \S+.* run=(\d+) ")


def logged_warnings(path: Path, run_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """The warnings the run log holds for these syncs (the library keeps a
    run's counts and outcome, not its warnings); none from a log that is
    missing or cannot be read."""
    found: dict[int, list[str]] = {}
    current = None
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                text = line.rstrip("\n").split(" ", 2)[-1]  # after the date and the time
                if not text.startswith("  "):
                    run = _RUN.match(text)
                    current = int(run.group(1)) if run and int(run.group(1)) in run_ids else None
                elif current is not None and text.startswith(WARNING):
                    found.setdefault(current, []).append(text[len(WARNING):])
    except OSError:
        return {}
    return {run_id: tuple(warnings) for run_id, warnings in found.items()}


def append_lines(path: Path, lines: list[str]) -> None:
    stamp = datetime.now().astimezone().isoformat(sep=" ", timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as log:
        log.write("".join(f"{stamp} {one_line(line)}\n" for line in lines))


def log_problem(path: Path, lines: list[str]) -> str | None:
    """Append ``lines``; None, or why the log could not be written. The work
    the lines describe is done either way, so a log problem is a warning for
    the caller to show, never a failed run."""
    try:
        append_lines(path, lines)
    except (OSError, ValueError) as exc:  # ValueError: a path the system cannot name (a NUL in it)
        return f"could not write the run log {path}: {getattr(exc, 'strerror', None) or exc}"
    return None
