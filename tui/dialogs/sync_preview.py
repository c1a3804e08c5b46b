"""Running a sync from the screen: first a dry run's counts, then, if the
librarian applies it, the real run with a progress bar, then its outcome.

The dialog only shows what the app hands it (``show_preview``,
``show_stage``, ``show_result``) and asks with ``ApplyRequested``; it returns
whether a sync was applied.

When the source is a live feed, the preview first fetches it: one bar per
endpoint (``show_pages``), pages done / page count, or "page N" running on
while the feed gives no count (Wonde); each is marked done or stopped when
the fetch ends. A folder source reports no pages: no bars.

After a change of MIS the preview says so, with what re-keying does, and
offers "Re-link and apply" (r): a confirmation, Cancel focused, then the
previewed plan applied with ``rekey`` (engine.rekey), as ``mislink --sync
--rekey`` would.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar, Static
from textual.widget import Widget

from engine.api import TIER_NAMES, RunOutcome, SyncReport, SyncStage
from tui import formatting
from tui.dialogs.confirm import Confirm

# The stages a sync reports, in this order, before it finishes (scoring, after
# writing, may follow).
STAGES = (SyncStage.READING_EXPORT, SyncStage.READING_LIBRARY, SyncStage.PLANNING, SyncStage.WRITING)
OUTCOMES = {
    RunOutcome.OK: "✓ Done: the library is up to date.",
    RunOutcome.DRY_RUN: "Nothing has been written yet. Apply it?",
    RunOutcome.FAILED: "✗ The sync failed; nothing was written.",
    # A safety guard, or an export or library that moved since the preview:
    # the message below says which.
    RunOutcome.REFUSED: "✗ Stopped before writing; nothing was written.",
    RunOutcome.LOCKED: "✗ Another sync is running on this library; try again when it has finished.",
}
NOTHING_TO_APPLY = "Nothing to apply: the library already agrees with the export."
# Feeds whose page count is only "at least one more" while pages remain
# (engine.feeds.wonde): their bars run on until the last page.
UNCOUNTED_FEEDS = {"wonde"}


def count_table(report: SyncReport) -> Table:
    """The report's counts as a librarian reads them; what would not happen is
    left out. Data removed because it is switched off is listed as
    ``--dry-run`` lists it, and where it is."""
    counts = report.counts
    rows = [("People in the export", counts.get("students_seen", 0) + counts.get("staff_seen", 0))]
    rows += [(f"Matched {name}", counts.get(key, 0)) for key, name in TIER_NAMES.items()]
    rows.append(("Re-linked after a change of MIS", counts.get("matched_by_rekey", 0)))
    rows += [("Borrowers updated", counts.get("updated", 0)),
             ("New in Intake", counts.get("intake_added", 0)),
             ("Intake records updated / closed",
              f"{counts.get('intake_refreshed', 0)} / {counts.get('intake_closed', 0)}"),
             ("Leavers to the recycle bin", counts.get("recycled", 0)),
             ("Restored from the recycle bin", counts.get("restored", 0)),
             ("Skipped: rejected in Intake", counts.get("skipped_rejected", 0)),
             ("Records refused (bad data)", counts.get("rejected", 0))]
    table = Table.grid(padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    rows = rows[:1] + [(label, number) for label, number in rows[1:] if number not in (0, "0 / 0")]
    rows += [(f"{what[:1].upper()}{what[1:]} removed (switched off)", whose)
             for what, whose in formatting.removals(counts.get("fields_purged") or {})]
    for label, number in rows:
        table.add_row(label, str(number))
    return table


class PageBar(Horizontal):
    """One endpoint's fetch: its name, a bar and the pages in words. It keeps
    the latest page it was told of and draws it once mounted."""

    def __init__(self, endpoint: str, counted: bool):
        super().__init__(classes="page-bar")
        self.endpoint, self.counted = endpoint, counted
        self.done, self.count, self.stopped = 0, None, False

    @property
    def finished(self) -> bool:
        return self.count is not None and self.done >= self.count

    def compose(self) -> ComposeResult:
        yield Label(self.endpoint, classes="page-endpoint", markup=False)
        yield ProgressBar(total=None, show_eta=False, show_percentage=False)
        yield Label("", classes="page-words")

    def on_mount(self) -> None:
        self._draw()

    def show(self, done: int, count: int) -> None:
        # An uncounted feed's count is known only at its last page.
        self.done, self.count = done, count if self.counted or done >= count else None
        if self.is_mounted:
            self._draw()

    def stop(self) -> None:
        """The fetch has ended: an endpoint short of its last page stops where it got to."""
        self.stopped = not self.finished
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        total = self.done + 1 if self.stopped and self.count is None else self.count
        self.query_one(ProgressBar).update(total=total, progress=self.done)
        words = f"{self.done}/{self.count} pages" if self.count else f"page {self.done}"
        self.query_one(".page-words", Label).update(f"stopped after page {self.done}" if self.stopped else words)


class SyncPreview(ModalScreen[bool]):
    BINDINGS = [
        Binding("enter", "apply(False)", "Apply"),
        Binding("f", "apply(True)", "Apply anyway"),
        Binding("r", "rekey", "Re-link and apply"),
        Binding("escape", "close", "Close"),
    ]

    @dataclass
    class ApplyRequested(Message):
        force: bool
        rekey: bool = False

    def __init__(self, feed: str = ""):
        """``feed``: the source's kind (``source.kind``), for how its pages are counted."""
        super().__init__()
        self.counted = feed not in UNCOUNTED_FEEDS
        self.page_bars: dict[str, PageBar] = {}
        self.preview: SyncReport | None = None
        self.running = False
        self.applied = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="sync-dialog"):
            yield Label("Sync now", classes="dialog-title")
            yield Label("Checking what a sync would change…", id="sync-outcome", markup=False)
            yield Vertical(id="feed-pages")
            yield Static("", id="sync-counts")
            yield Label("", id="sync-message", markup=False)
            yield ProgressBar(total=len(STAGES), show_eta=False, id="sync-progress")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (Enter)", variant="primary", id="apply", disabled=True)
                yield Button("Apply anyway (f)", variant="warning", id="force")
                yield Button("Re-link and apply (r)", variant="warning", id="rekey")
                yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        for hidden in ("#sync-progress", "#force", "#rekey", "#sync-message", "#feed-pages"):
            self.query_one(hidden).display = False

    def show_pages(self, endpoint: str, done: int, count: int) -> None:
        """A live feed fetched another page of ``endpoint`` (its bar appears with its first page)."""
        bar = self.page_bars.get(endpoint)
        if bar is None:
            bar = self.page_bars[endpoint] = PageBar(endpoint, self.counted)
            pages = self.query_one("#feed-pages", Widget)
            pages.display = True
            pages.mount(bar)
        bar.show(done, count)

    def show_preview(self, report: SyncReport) -> None:
        self.preview = report
        for bar in self.page_bars.values():
            bar.stop()
        self._show(report)
        guarded = bool(report.message) and report.outcome == RunOutcome.DRY_RUN
        self.query_one("#apply", Button).disabled = guarded or report.outcome != RunOutcome.DRY_RUN
        self.query_one("#apply").display = self.something_to_apply or guarded
        self.query_one("#force").display = guarded
        self.query_one("#rekey").display = self.rekey_offered
        if report.outcome == RunOutcome.DRY_RUN and not (self.something_to_apply or guarded or self.rekey_offered):
            self.query_one("#sync-outcome", Label).update(NOTHING_TO_APPLY)
        focused = "#rekey" if self.rekey_offered else "#force" if guarded else \
            "#apply" if self.something_to_apply else "#close"
        self.query_one(focused, Button).focus()
        self.refresh_bindings()

    def show_stage(self, stage: str) -> None:
        self.query_one("#sync-outcome", Label).update(f"Syncing: {stage}…")
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.update(progress=STAGES.index(stage) if stage in STAGES else bar.progress + 1)

    def show_result(self, report: SyncReport) -> None:
        self.running = False
        self.applied = report.outcome == RunOutcome.OK
        self.query_one("#sync-progress", ProgressBar).update(progress=len(STAGES))
        self.query_one("#apply").display = self.query_one("#force").display = False
        self.query_one("#rekey").display = False
        self._show(report)
        close = self.query_one("#close", Button)
        close.disabled = False
        close.focus()
        self.refresh_bindings()

    def _show(self, report: SyncReport) -> None:
        self.query_one("#sync-outcome", Label).update(OUTCOMES.get(report.outcome, report.outcome))
        self.query_one("#sync-counts", Static).update(count_table(report) if report.counts else "")
        notes = [report.message] if report.message else []
        change = report.plan.mis_change if report.plan else None
        if change is not None:
            notes.append(f"{change.summary} ({change.why}).")
            notes += [f"Not re-linked: {n.barcode}: {n.reason}" for n in change.not_relinked[:3]]
        if report.plan:
            notes += [f"Warning: {w}" for w in report.plan.warnings[:3]]
        message = self.query_one("#sync-message", Label)
        message.update("\n".join(notes))
        message.display = bool(notes)

    @property
    def something_to_apply(self) -> bool:
        """Would applying the preview change anything (a borrower, Intake, data switched off)?"""
        report = self.preview
        return report is not None and report.plan is not None and \
            not (report.plan.is_empty and not report.counts.get("fields_purged"))

    @property
    def rekey_offered(self) -> bool:
        """Does the preview show a change of MIS whose re-links a person must confirm?"""
        report = self.preview
        change = report.plan.mis_change if report is not None and report.plan else None
        return report is not None and report.outcome == RunOutcome.DRY_RUN and change is not None \
            and change.needs_rekey

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        waiting = self.preview is not None and not self.running and not self.applied and \
            self.preview.outcome == RunOutcome.DRY_RUN
        if action == "rekey":
            return waiting and self.rekey_offered
        if action == "apply":
            forced = bool(parameters[0])
            return waiting and forced == bool(self.preview.message) and (forced or self.something_to_apply)
        if action == "close":
            return not self.running
        return True

    def action_rekey(self) -> None:
        change = self.preview.plan.mis_change

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_apply(False, rekey=True)

        self.app.push_screen(Confirm(
            "Re-link after a change of MIS?",
            f"{change.summary} ({change.why}). Each borrower keeps its barcode and loans; its link moves to its "
            "new MIS record.", "Re-link and apply"), answered)

    def action_apply(self, force: bool, rekey: bool = False) -> None:
        self.running = True
        for button in self.query(Button):
            button.disabled = True
        self.query_one("#sync-progress").display = True
        self.query_one("#sync-outcome", Label).update("Syncing…")
        self.refresh_bindings()
        self.post_message(self.ApplyRequested(force, rekey))

    def action_close(self) -> None:
        self.dismiss(self.applied)

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()

    @on(Button.Pressed, "#apply, #force")
    def _apply_pressed(self, event: Button.Pressed) -> None:
        self.action_apply(event.button.id == "force")

    @on(Button.Pressed, "#rekey")
    def _rekey_pressed(self) -> None:
        self.action_rekey()
