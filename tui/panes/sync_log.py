"""The sync log: recent runs (when, outcome, counts) and, for the highlighted
run, its changes, filterable by action and by field.

The parent hands it runs (``show_runs``) and a page of events
(``show_events``); it posts ``EventsWanted`` when the highlighted run or a
filter changes. The first row, when there is one, gathers the decisions made
outside any run (Intake, recycle bin), newest first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select

from engine.api import EventLine, EventPage, RunSummary
from tui import formatting

DECISIONS_KEY = "decisions"


@dataclass(frozen=True)
class EventFilter:
    run_id: int | None
    action: str = ""
    field: str = ""


class SyncLog(Vertical):
    BINDINGS = [
        Binding("a", "focus_filter('#log-action')", "Filter action", id="log_action"),
        Binding("f", "focus_filter('#log-field')", "Filter field", id="log_field"),
        Binding("e", "focus_events", "Events", id="log_events"),
    ]

    @dataclass
    class EventsWanted(Message):
        wanted: EventFilter

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today
        self.runs: list[RunSummary] = []
        self.wanted: EventFilter | None = None
        self._options_for: object = ()

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", id="log-runs")
        with Horizontal(id="log-filters"):
            yield Label("", id="log-run-title")
            yield Select([], prompt="Every action", id="log-action", compact=True)
            yield Select([], prompt="Every field", id="log-field", compact=True)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="log-events")
        yield Label("", id="log-summary")

    def focus_runs(self) -> None:
        self.query_one("#log-runs").focus()

    def show_runs(self, runs: list[RunSummary], select_run: int | None = None) -> None:
        """Show the runs, keeping the highlighted one (or moving to ``select_run``)."""
        table = self.query_one("#log-runs", DataTable)
        current = _key(self.wanted.run_id) if self.wanted else None
        wanted = str(select_run) if select_run is not None else current
        self.runs = runs
        table.clear(columns=True)
        table.add_column("When", width=12)
        table.add_column("What", width=9)
        table.add_column("Outcome", width=10)
        table.add_column("Changes", width=max(20, self.app.size.width - 12 - 9 - 10 - 8 - 3))
        for run in runs:
            table.add_row(formatting.when(run.started_at, self.today), formatting.run_kind(run),
                          formatting.OUTCOMES.get(run.outcome, run.outcome), formatting.run_changes(run),
                          key=_key(run.run_id))
        keys = [_key(run.run_id) for run in runs]
        if wanted in keys:
            table.move_cursor(row=keys.index(wanted))
        self._ask_for_events()

    def show_events(self, page: EventPage) -> None:
        if self.wanted is None or page.run_id != self.wanted.run_id:
            return
        self._offer_filters(page)
        table = self.query_one("#log-events", DataTable)
        table.clear(columns=True)
        # Decisions are spread over time and people; a run's changes share both.
        columns = ([("When", 12), ("By", 8)] if page.run_id is None else []) + [("Action", 14), ("Who", 20)]
        for heading, width in columns:
            table.add_column(heading, width=width)
        used = sum(width + 2 for _, width in columns) + 2
        table.add_column("Change", width=max(16, self.app.size.width - used - 2))
        for event in page.events:
            cells = [formatting.ACTIONS.get(event.action, event.action), _who(event), _change(event)]
            if page.run_id is None:
                cells = [formatting.when(event.at, self.today), event.actor] + cells
            table.add_row(*cells)
        shown = f"{len(page.events):,} of {page.matching:,} changes shown; filter to narrow" \
            if page.matching > len(page.events) else f"{page.matching:,} change{'s' if page.matching != 1 else ''}"
        self.query_one("#log-summary", Label).update(shown)

    def _offer_filters(self, page: EventPage) -> None:
        """The filters offer what this run holds; set once per run, not on every page."""
        if self._options_for == page.run_id:
            return
        self._options_for = page.run_id
        with self.prevent(Select.Changed):
            self.query_one("#log-action", Select).set_options(
                (f"{formatting.ACTIONS.get(a, a)} ({n:,})", a) for a, n in sorted(page.actions.items()))
            self.query_one("#log-field", Select).set_options((f, f) for f in page.fields)

    def _ask_for_events(self) -> None:
        table = self.query_one("#log-runs", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        run_id = None if key == DECISIONS_KEY else int(key)
        run = next(r for r in self.runs if r.run_id == run_id)
        title = "Decisions" if run_id is None else \
            f"{run.kind.capitalize()} {formatting.when(run.started_at, self.today)}"
        self.query_one("#log-run-title", Label).update(f"{title}:")
        same_run = self.wanted is not None and self.wanted.run_id == run_id
        self.wanted = EventFilter(run_id, self._chosen("#log-action"), self._chosen("#log-field")) if same_run \
            else EventFilter(run_id)
        if not same_run:
            self._clear_filters()
        self.post_message(self.EventsWanted(self.wanted))

    def _clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for select in self.query(Select):
                select.clear()

    def _chosen(self, selector: str) -> str:
        return self.query_one(selector, Select).selection or ""

    @on(DataTable.RowHighlighted, "#log-runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.wanted is None or _key(self.wanted.run_id) != event.row_key.value:
            self._ask_for_events()

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._ask_for_events()

    def action_focus_filter(self, selector: str) -> None:
        self.query_one(selector, Select).focus()

    def action_focus_events(self) -> None:
        self.query_one("#log-events").focus()


def _key(run_id: int | None) -> str:
    return DECISIONS_KEY if run_id is None else str(run_id)


def _who(event: EventLine) -> str:
    """The name first: it is what survives a narrow column."""
    if event.barcode:
        return f"{event.borrower_name or ''} ({event.barcode})".strip()
    if event.intake_id:
        return f"{event.intake_name or ''} (Intake {event.intake_id})".strip()
    return ""


def _change(event: EventLine) -> Text:
    """field: old → new, as much of it as there is."""
    change = Text(f"{event.field}: " if event.field else "", style="bold")
    if event.old_value is not None:
        change.append(f"{event.old_value} → ")
    elif event.new_value is not None:
        change.append("→ ")
    if event.new_value is not None:
        change.append(event.new_value)
    elif event.old_value is not None:
        change.append("(none)", style="dim")
    return change
