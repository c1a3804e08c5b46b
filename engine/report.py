"""The outcome of a run, as JSON for scripts and as a short text for people.

With ``names=False`` both name records by MIS id and barcode only: the command
line asks for that whenever its output is not a terminal, so the output of a
scheduled run holds no personal data. Every line of the text is one line
whatever the values in it hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.counts import RunCounts
from engine.plan import Change, SyncPlan
from engine.rekey import MisChange
from engine.rollover import Departure
from engine.run_status import RunOutcome
from engine.safe_text import one_line
from engine.text import counted

TIER_NAMES = {"matched_by_link": "by MIS link", "matched_by_upn": "by UPN",
              "matched_by_name_dob": "by name and date of birth"}
PLAN_LINES = 40
TITLES = {RunOutcome.OK: "done", RunOutcome.DRY_RUN: "dry run, nothing written",
          RunOutcome.FAILED: "FAILED, nothing written", RunOutcome.REFUSED: "REFUSED, nothing written",
          RunOutcome.LOCKED: "NOT RUN, another sync is running"}


@dataclass
class SyncReport:
    outcome: RunOutcome
    source: str
    # None when nothing was planned, or nothing of the plan happened (failed).
    counts: RunCounts | None = None
    message: str = ""
    run_id: int | None = None
    forced: bool = False
    plan: SyncPlan | None = None
    # Why the safety guards would stop this plan (even when forced or a dry run).
    guard_stops: list[str] = field(default_factory=list)
    # Why the run log could not be written, if it could not: a warning only.
    log_problem: str = ""

    def to_json(self, *, names: bool = True) -> dict:
        plan = self.plan
        return {
            "outcome": self.outcome,
            "source": self.source,
            "run_id": self.run_id,
            "message": self.message,
            "forced": self.forced,
            **(self.counts.to_json() if self.counts else {}),
            "rejections": [{**vars(r), "record": r.record if names else record_id(r.record)}
                           for r in plan.rejections] if plan else [],
            "warnings": plan.warnings if plan else [],
            "leavers_with_loans_list": [{"barcode": r.barcode, "loans_out": r.loans_out}
                                        for r in plan.recycles if r.loans_out] if plan else [],
            "mis_change": plan.mis_change.to_json() if plan and plan.mis_change else None,
        }

    def to_text(self, *, names: bool = True) -> str:
        c = self.counts
        lines = [f"mislink sync of {self.source}: {TITLES[self.outcome]}"]
        if self.message:
            lines.append(f"  {self.message}")
        if self.plan and self.plan.mis_change:
            lines += _mis_change_lines(self.plan.mis_change)
        if c:
            lines += [
                f"  seen: {c.students_seen} students, {c.staff_seen} staff",
                "  matched: " + ", ".join(f"{c[k]} {name}" for k, name in TIER_NAMES.items()),
                f"  borrowers: {c.updated} updated, {c.unchanged} unchanged",
                f"  Intake: {c.intake_added} added, {c.intake_refreshed} refreshed, "
                f"{c.intake_closed} closed, {c.skipped_rejected} skipped as rejected",
                f"  recycle bin: {c.recycled} recycled, {c.restored} restored, "
                f"{c.leavers_with_loans} leavers still have loans out",
            ]
            if c.recycled:
                lines.append(_leavers_line(c, self.plan))
            if c.fields_purged:
                lines.append("  removed (switched off): " + ", ".join(
                    f"{field} from {n}" for field, n in sorted(c.fields_purged.items())))
            lines.append(f"  rejected records: {c.rejected}")
        if self.plan:
            lines += _details(self.plan, full=self.outcome == RunOutcome.DRY_RUN, names=names)
        return "\n".join(map(one_line, lines))


def _mis_change_lines(change: MisChange) -> list[str]:
    """"MIS change: 1,024 pupils re-linked by UPN, 61 staff by name and date
    of birth, 0 recycled", why the export looks like one, and each borrower
    re-keying could not re-link (by barcode)."""
    lines = [f"  {change.summary} ({change.why})"]
    lines += [f"  not re-linked: {n.barcode}: {n.reason}" for n in change.not_relinked[:PLAN_LINES]]
    if len(change.not_relinked) > PLAN_LINES:
        lines.append(f"  … and {len(change.not_relinked) - PLAN_LINES} more not re-linked (see --json)")
    return lines


def record_id(label: str) -> str:
    """A record's label without the name a label carries after its id:
    "student 3116 (Albus Dumbledore)" -> "student 3116"."""
    return label.split(" (", 1)[0]


def _leavers_line(c: RunCounts, plan: SyncPlan | None) -> str:
    """How many of the recycled were expected to go: "187 leavers expected at
    roll-over, 2 unexpected"."""
    rollover = plan is not None and any(r.departure is Departure.LEAVING_YEAR for r in plan.recycles)
    line = (f"  {c.leavers_expected} leaver{'s' if c.leavers_expected != 1 else ''} expected"
            f"{' at roll-over' if rollover else ''}, {c.leavers_unexpected} unexpected")
    not_started = c.recycled - c.leavers_expected - c.leavers_unexpected
    if not_started:
        line += f", {not_started} pre-admission{'s' if not_started != 1 else ''} who never started"
    return line


# A recycle's reason already says when the MIS marked them a leaver.
_SAID_BY_REASON = {Departure.MARKED}


def _details(plan: SyncPlan, full: bool, names: bool) -> list[str]:
    def who(label: str) -> str:
        return label if names else record_id(label)

    def change(c: Change) -> str:
        if c.hidden:
            return f"{c.field} removed"
        return f"{c.field} {c.old!s} -> {c.new!s}" if names else f"{c.field} changed"

    lines = [f"  warning: {w}" for w in plan.warnings]
    lines += [f"  rejected: {r.file} {who(r.record)}: {r.field}: {r.reason}" for r in plan.rejections]
    lines += [f"  leaver with {counted(r.loans_out, 'loan')} out: {who(r.label)}"
              for r in plan.recycles if r.loans_out]
    if full:
        planned = [f"  update {u.barcode}: " + "; ".join(map(change, u.changes))
                   + (" (restore from recycle bin)" if u.restore else "") for u in plan.updates]
        planned += [f"  recycle {who(r.label)}: {r.reason}"
                    + ("" if r.departure in _SAID_BY_REASON else f" ({r.departure})") for r in plan.recycles]
        planned += [f"  to Intake: {who(a.person.label)}: {a.reason.value}" for a in plan.intake_adds]
        planned += [f"  Intake entry {r.entry_id} refreshed: " + ", ".join(c.field for c in r.changes)
                    for r in plan.intake_refreshes]
        planned += [f"  Intake entry {c.entry_id} {c.status}: {who(c.label)}" for c in plan.intake_closes]
        lines += planned[:PLAN_LINES]
        if len(planned) > PLAN_LINES:
            lines.append(f"  … and {len(planned) - PLAN_LINES} more planned changes (use --json for counts)")
    return lines
