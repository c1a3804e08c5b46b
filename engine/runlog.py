"""The run log: a plain text file, one block per run, fit for a scheduled task.

Only what a librarian needs to identify a record goes in: MIS ids and
barcodes, never names, dates of birth, addresses, contact details or photos.
Each line starts with the local time and its UTC offset. The file is created
readable by its owner only.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from engine.report import SyncReport


def append_run_log(path: Path, report: SyncReport) -> None:
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
        lines += [f"  warning: {w}" for w in plan.warnings]
        lines += [f"  rejected: {r.file} {r.record.split(' (')[0]}: {r.field}: {r.reason}" for r in plan.rejections]
        if report.outcome == "ok":
            lines += [f"  recycled: {r.barcode} ({r.reason}; {r.loans_out} loans out)" for r in plan.recycles]
    append_lines(path, lines)


def append_lines(path: Path, lines: list[str]) -> None:
    stamp = datetime.now().astimezone().isoformat(sep=" ", timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as log:
        log.write("".join(f"{stamp} {line}\n" for line in lines))
