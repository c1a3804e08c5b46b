"""How values read to a librarian: dates, scores, reasons, event actions, and
the symbols that carry every verdict (colour only ever repeats them)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from rich.text import Text

from engine.api import (DECISIONS, PROBABLE_DUPLICATE, TIER_NAMES, IntakeStatus, RunOutcome, RunSummary, field_label,
                        year_number)

# verdict -> (symbol, style, meaning): the symbol alone carries the meaning.
VERDICTS = {
    "agree": ("✓", "green", "the same"),
    "partial": ("~", "yellow", "alike, not the same"),
    "disagree": ("≠", "red", "different"),
    "missing": ("·", "dim", "not recorded on one side"),
}

REASONS = {
    "no_match": "no match",
    "possible_twin": "possible twin",
    "conflicting_ids": "ids disagree",
    "duplicate_upn": "UPN twice",
    "upn_dob_mismatch": "UPN mismatch",
    "linked_elsewhere": "already linked",
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


CUT = "…"
# A table cell's padding, either side (Textual's DataTable default).
CELL_PADDING = 1


def fit(text: str, width: int) -> str:
    """The text whole if it fits, else cut with a mark: a cut name must never
    pass for another whole one ("Mohammed Chowdhu")."""
    return text if len(text) <= width else text[:max(width - 1, 0)].rstrip() + CUT


def fit_parts(parts: list[str], width: int, joiner: str = " · ") -> str:
    """As many whole parts as fit, and a mark if any are left out: never a word cut in two."""
    whole = joiner.join(parts)
    if len(whole) <= width:
        return whole
    shown = ""
    for part in parts:
        joined = f"{shown}{joiner}{part}" if shown else part
        if len(joined) + len(joiner) + len(CUT) > width:
            break
        shown = joined
    return f"{shown}{joiner}{CUT}" if shown else fit(whole, width)


def flex_widths(available: int, wanted: dict[str, int], flexible: str, least: int) -> dict[str, int]:
    """Column widths for a table ``available`` cells wide: each column as wide
    as it wants, and ``flexible`` (at least ``least``) takes what is left."""
    padding = 2 * CELL_PADDING * len(wanted) + 1  # and the scrollbar
    fixed = sum(width for key, width in wanted.items() if key != flexible)
    return {**wanted, flexible: max(least, available - fixed - padding)}


def content_width(heading: str, cells) -> int:
    """As wide as the heading or the widest cell."""
    return max([len(heading), *(len(str(cell)) for cell in cells)])


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
    """A 0–100 score, bold when it says "probably already a borrower"; none
    when no borrower looks like them at all (the suggestions say so)."""
    if best is None:
        return Text("–", justify="right", style="dim")
    if best == 0:
        return Text("")
    return Text(str(best), justify="right", style="bold" if best >= PROBABLE_DUPLICATE else "")


def verdict(name: str) -> Text:
    symbol, style, _ = VERDICTS[name]
    return Text(symbol, style=style)


def status(item_status: str, barcode: str | None) -> str:
    label = STATUSES.get(item_status, item_status)
    return label + barcode if label.endswith(" ") and barcode else label.strip()


def run_kind(run: RunSummary) -> str:
    return "decisions" if run.kind == DECISIONS else run.kind


def run_changes(run: RunSummary, width: int) -> str:
    """A run's counts in a line of ``width``, whole parts only: the sync's own report where there is one."""
    return fit_parts(run_change_parts(run), width)


def run_change_parts(run: RunSummary) -> list[str]:
    counts = run.counts
    if not counts:
        actions = run.actions
        if run.kind == DECISIONS:
            # One event per decision; the rest are the fields each one changed.
            actions = {a: n for a, n in actions.items() if a.startswith("intake_") or a == "restored"}
        parts = [f"{n} {ACTIONS.get(a, a)}" for a, n in sorted(actions.items(), key=lambda kv: -kv[1])]
        return [run.message] if run.message else parts or ["nothing changed"]
    # What needs the librarian first; links made by MIS link are the usual, unremarkable case.
    newly_linked = counts.get("matched_by_upn", 0) + counts.get("matched_by_name_dob", 0)
    parts = [f"{counts[k]} {label}" for k, label in (("intake_added", "to Intake"), ("recycled", "recycled"),
                                                       ("restored", "restored"), ("updated", "updated"),
                                                       ("rejected", "records refused")) if counts.get(k)]
    if newly_linked:
        parts.append(f"{newly_linked} newly linked")
    return ([run.message] if run.message else []) + (parts or ["nothing to change"])


def run_report(run: RunSummary, warnings: tuple[str, ...] = ()) -> str:
    """A sync's whole report, as the command line prints it, in a few lines:
    who was seen, how they matched, what changed, why it stopped if it did,
    and its warnings."""
    counts = run.counts
    said = [f"⚠ {warning}" for warning in warnings]
    if not counts:
        return "\n".join(([run.message] if run.message else []) + said)
    seen = counts.get("students_seen", 0) + counts.get("staff_seen", 0)
    matched = ", ".join(f"{counts[k]:,} {name}" for k, name in TIER_NAMES.items() if counts.get(k))
    lines = [f"{seen:,} people in the export" + (f"; matched {matched}" if matched else ""),
             f"{counts.get('updated', 0):,} updated · {counts.get('intake_added', 0):,} to Intake · "
             f"{counts.get('recycled', 0):,} recycled ({counts.get('leavers_expected', 0):,} expected leavers, "
             f"{counts.get('leavers_unexpected', 0):,} unexpected)"]
    if counts.get("leavers_with_loans"):
        lines.append(f"{counts['leavers_with_loans']:,} leavers still have loans out")
    if counts.get("rejected"):
        lines.append(f"{counts['rejected']:,} records refused (bad data)")
    if run.message:
        lines.append(run.message)
    return "\n".join(said + lines)  # a warning first: it is what needs the librarian


# Field values stored as codes, as a librarian says them.
VALUE_WORDS = {"reason": REASONS, "matched_by": {k.removeprefix("matched_by_"): v for k, v in TIER_NAMES.items()}}


def change_value(field: str | None, stored: str) -> str:
    return VALUE_WORDS.get(field or "", {}).get(stored, stored)


def field(name: str) -> str:
    """A field as a librarian says it: "tutor group", never tutor_group."""
    return field_label(name)


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
