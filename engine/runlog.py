"""The run log: a plain text file, one block per run, fit for a scheduled task.

Only what a librarian needs to identify a record goes in: MIS ids and
barcodes, never dates of birth, addresses, contact details or photos.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from engine.report import SyncReport


def append_run_log(path: Path, report: SyncReport, now: datetime | None = None) -> None:
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    c = report.counts
    lines = [f"{stamp} sync {report.outcome}{' (forced)' if report.forced else ''}"
             f" run={report.run_id or '-'} source={report.source}"]
    if report.message:
        lines.append(f"{stamp}   {report.message}")
    if c:
        summary = " ".join(f"{k}={v}" for k, v in c.items() if not isinstance(v, dict))
        lines.append(f"{stamp}   {summary}")
        for field, count in sorted(c.get("fields_purged", {}).items()):
            lines.append(f"{stamp}   removed switched-off field {field} from {count} records")
    plan = report.plan
    if plan:
        lines += [f"{stamp}   warning: {w}" for w in plan.warnings]
        lines += [f"{stamp}   rejected: {r.file} {r.record.split(' (')[0]}: {r.field}: {r.reason}"
                  for r in plan.rejections]
        if report.outcome == "ok":
            lines += [f"{stamp}   recycled: {r.barcode} ({r.reason}; {r.loans_out} loans out)"
                      for r in plan.recycles]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write("\n".join(lines) + "\n")
