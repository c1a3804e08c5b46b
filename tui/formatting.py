"""How values read to a librarian: dates, scores, reasons, event actions, and
the symbols that carry every verdict (colour only ever repeats them)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from rich.text import Text

from engine.api import DECISIONS, PROBABLE_DUPLICATE, IntakeStatus, RunOutcome, RunSummary, year_number

# verdict -> (symbol, style, meaning): the symbol alone carries the meaning.
VERDICTS = {
    "agree": ("✓", "green", "the same"),
    "partial": ("~", "yellow", "alike, not the same"),
    "disagree": ("≠", "red", "different"),
    "missing": ("·", "dim", "not recorded on one side"),
}

REASONS = {
    "no_match": "no match",
    "possible_twin": "twin?",
    "conflicting_ids": "ids differ",
    "duplicate_upn": "UPN twice",
    "upn_dob_mismatch": "UPN, not DOB",
    "linked_elsewhere": "linked other",
    "contested": "contested",
}

STATUSES = {
    IntakeStatus.PENDING: "waiting",
    IntakeStatus.NEW: "✓ new",
    IntakeStatus.REJECTED: "✗ rejected",
    IntakeStatus.MATCHED: "→ ",
    IntakeStatus.TRANSFERRED: "+ ",
    IntakeStatus.WITHDRAWN: "left school",
}

ACTIONS = {
    "linked": "matched",
    "updated": "updated",
    "purged": "removed",
    "created": "created",
    "imported": "imported",
    "recycled": "recycled",
    "restored": "restored",
    "intake_added": "to Intake",
    "intake_refreshed": "Intake updated",
    "intake_reopened": "back to Intake",
    "intake_matched": "Intake matched",
    "intake_withdrawn": "Intake withdrawn",
    "intake_transferred": "transferred",
    "intake_new": "confirmed new",
    "intake_reject": "rejected",
    "intake_unreject": "unrejected",
    "intake_undone": "undone",
    "undone": "undone",
    "purged_from_recycle_bin": "purged",
}

# "running": a run not finished yet (or killed), as stored by engine.models.
OUTCOMES = {RunOutcome.OK: "✓ ok", RunOutcome.FAILED: "✗ failed", "running": "… running",
            RunOutcome.REFUSED: "✗ refused", RunOutcome.LOCKED: "✗ locked", RunOutcome.DRY_RUN: "· dry run"}


def day(value: date | None) -> str:
    """A date as a British reader writes it, never ambiguous: 4 Mar 2012."""
    return f"{value.day} {value:%b %Y}" if value else ""


def when(stamp: datetime | None, today: date) -> str:
    """A stored time (UTC) in local time: "29 Nov 08:53", the year added if not this year's."""
    if stamp is None:
        return ""
    local = stamp.replace(tzinfo=timezone.utc).astimezone()
    shown = f"{local.day} {local:%b}"
    if local.year != today.year:
        shown += f" {local.year}"
    return f"{shown} {local:%H:%M}"


def value(shown: object) -> str:
    if shown is None:
        return ""
    return day(shown) if isinstance(shown, date) else str(shown)


def year(year_group: str | None) -> str:
    number = year_number(year_group)
    if number is None:
        return year_group or ""
    return "R" if number == 0 else str(number)


def score(best: int | None) -> Text:
    """A 0–100 score, bold when it says "probably already a borrower"."""
    if best is None:
        return Text("–", justify="right", style="dim")
    return Text(str(best), justify="right", style="bold" if best >= PROBABLE_DUPLICATE else "")


def verdict(name: str) -> Text:
    symbol, style, _ = VERDICTS[name]
    return Text(symbol, style=style)


def status(item_status: str, barcode: str | None) -> str:
    label = STATUSES.get(item_status, item_status)
    return label + barcode if label.endswith(" ") and barcode else label.strip()


def run_kind(run: RunSummary) -> str:
    return "decisions" if run.kind == DECISIONS else run.kind


def run_changes(run: RunSummary) -> str:
    """A run's counts in a line: the sync's own report where there is one."""
    counts = run.counts
    if not counts:
        actions = run.actions
        if run.kind == DECISIONS:
            # One event per decision; the rest are the fields each one changed.
            actions = {a: n for a, n in actions.items() if a.startswith("intake_") or a == "restored"}
        parts = [f"{n} {ACTIONS.get(a, a)}" for a, n in sorted(actions.items(), key=lambda kv: -kv[1])]
        return run.message or " · ".join(parts) or "nothing changed"
    # What needs the librarian first; links made by MIS link are the usual, unremarkable case.
    newly_linked = counts.get("matched_by_upn", 0) + counts.get("matched_by_name_dob", 0)
    parts = [f"{counts[k]} {label}" for k, label in (("intake_added", "to Intake"), ("recycled", "recycled"),
                                                       ("restored", "restored"), ("updated", "updated"),
                                                       ("rejected", "records refused")) if counts.get(k)]
    if newly_linked:
        parts.append(f"{newly_linked} newly linked")
    summary = " · ".join(parts) or "nothing to change"
    return f"{run.message} · {summary}" if run.message else summary


# A field a sync removes because its data is switched off (a key of
# ``fields_purged``: a borrower column, or ``intake.`` and a record key).
REMOVED_FIELDS = {"email": "email", "phone": "phone numbers", "address": "address", "postcode": "postcode",
                  "photo_digest": "photos", "photo": "photos", "guardians_digest": "guardian contacts",
                  "guardians": "guardian contacts"}


def removals(fields_purged: dict[str, int]) -> list[tuple[str, str]]:
    """(what, whose) for each kind of data removed: ("photos", "9 borrowers and 3 Intake records")."""
    held: dict[str, list[int]] = {}
    for field, count in fields_purged.items():
        in_intake, _, name = field.rpartition(".")
        held.setdefault(REMOVED_FIELDS.get(name, name), [0, 0])[bool(in_intake)] += count
    return [(what, " and ".join(f"{n:,} {noun}{'s' if n != 1 else ''}"
                                for n, noun in zip(numbers, ("borrower", "Intake record")) if n))
            for what, numbers in held.items()]


def removal_sentence(fields_purged: dict[str, int]) -> str:
    """"email of 120 borrowers and 14 Intake records; photos of 9 borrowers"."""
    return "; ".join(f"{what} of {whose}" for what, whose in removals(fields_purged))
