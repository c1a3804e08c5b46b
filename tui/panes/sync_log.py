"""The sync log: recent runs (when, outcome, counts) and, for the highlighted
run, its changes, filterable by action and by field.

The parent hands it runs (``show_runs``) and a page of events
(``show_events``); it posts ``EventsWanted`` when the highlighted run or a
filter changes. The first row, when there is one, gathers the decisions made
outside any run (Intake, recycle bin), newest first.

u undoes the highlighted run (U: forced, putting back what was changed since
too): the pane posts ``UndoRequested``; the parent previews the undo (a dry
run, ``UndoPreviewed``), asks with ``undo_question`` and, once confirmed,
undoes it (``RunUndone``, told with ``undo_told``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select

from engine.api import (RUN_CHANGE_KINDS, WHOLE_ROW, ChangeMarker, EventLine, EventPage, RunOutcome, RunSummary,
                        UndoResult)
from tui import formatting
from tui.tables import ListTable

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
        Binding("u", "undo_run(False)", "Undo run", id="log_undo"),
        Binding("U", "undo_run(True)", "Undo run, forced", show=False, id="log_undo_forced"),
    ]

    @dataclass
    class EventsWanted(Message):
        wanted: EventFilter

    @dataclass
    class UndoRequested(Message):
        run_id: int
        force: bool

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today
        self.runs: list[RunSummary] = []
        self.warnings: dict[int, tuple[str, ...]] = {}
        self.wanted: EventFilter | None = None
        self._options_for: object = ()
        self._page: EventPage | None = None

    def compose(self) -> ComposeResult:
        yield ListTable(cursor_type="row", id="log-runs")
        yield Label("", id="log-run-report", markup=False)
        with Horizontal(id="log-filters"):
            yield Label("", id="log-run-title")
            yield Select([], prompt="Every action", id="log-action", compact=True)
            yield Select([], prompt="Every field", id="log-field", compact=True)
        yield ListTable(cursor_type="row", zebra_stripes=True, id="log-events")
        yield Label("", id="log-summary")

    def focus_runs(self) -> None:
        self.query_one("#log-runs").focus()

    def show_runs(self, runs: list[RunSummary], warnings: dict[int, tuple[str, ...]],
                  select_run: int | None = None) -> None:
        """Show the runs, keeping the highlighted one (or moving to ``select_run``);
        ``warnings``: each sync's, from the run log."""
        table = self.query_one("#log-runs", DataTable)
        current = _key(self.wanted.run_id) if self.wanted else None
        wanted = str(select_run) if select_run is not None else current
        self.runs, self.warnings = runs, warnings
        table.clear(columns=True)
        widths = formatting.flex_widths(self.app.size.width, {"when": 12, "what": 9, "outcome": 10, "changes": 0},
                                        "changes", 20)
        for key, heading in (("when", "When"), ("what", "What"), ("outcome", "Outcome"), ("changes", "Changes")):
            table.add_column(heading, width=widths[key], key=key)
        for run in runs:
            table.add_row(formatting.when(run.started_at, self.today), formatting.run_kind(run),
                          UNDONE if run.undone_by_run else formatting.OUTCOMES.get(run.outcome, run.outcome),
                          formatting.run_changes(run, widths["changes"]), key=_key(run.run_id))
        keys = [_key(run.run_id) for run in runs]
        if wanted in keys:
            table.move_cursor(row=keys.index(wanted))
        self._ask_for_events()

    def show_events(self, page: EventPage) -> None:
        if self.wanted is None or page.run_id != self.wanted.run_id:
            return
        self._page = page
        self._offer_filters(page)
        table = self.query_one("#log-events", DataTable)
        table.clear(columns=True)
        # Decisions are spread over time and people; a run's changes share both.
        columns = ([("When", 12), ("By", 8)] if page.run_id is None else []) + [
            ("Action", formatting.content_width("", {formatting.ACTIONS.get(e.action, e.action) for e in page.events})),
            ("Who", min(formatting.content_width("Who", {_who(e) for e in page.events}), 26)), ("Change", 0)]
        widths = formatting.flex_widths(self.app.size.width, dict(columns), "Change", 16)
        for heading, _ in columns:
            table.add_column(heading, width=widths[heading])
        for event in page.events:
            cells = [formatting.ACTIONS.get(event.action, event.action), formatting.fit(_who(event), widths["Who"]),
                     _change(event, widths["Change"])]
            if page.run_id is None:
                cells = [formatting.when(event.at, self.today), event.actor] + cells
            table.add_row(*cells)
        self._summarise()

    def _summarise(self) -> None:
        page, table = self._page, self.query_one("#log-events", ListTable)
        if page is None:
            return
        shown = f"{len(page.events):,} of {page.matching:,} changes shown; filter to narrow" \
            if page.matching > len(page.events) else f"{page.matching:,} change{'s' if page.matching != 1 else ''}"
        self.query_one("#log-summary", Label).update(f"{table.place} · {shown}" if table.row_count else shown)

    def _offer_filters(self, page: EventPage) -> None:
        """The filters offer what this run holds; set once per run, not on every page."""
        if self._options_for == page.run_id:
            return
        self._options_for = page.run_id
        with self.prevent(Select.Changed):
            self.query_one("#log-action", Select).set_options(
                (f"{formatting.ACTIONS.get(a, a)} ({n:,})", a) for a, n in sorted(page.actions.items()))
            self.query_one("#log-field", Select).set_options((formatting.field(f), f) for f in page.fields)

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
        report = formatting.run_report(run, self.warnings.get(run_id, ()))
        self.query_one("#log-run-report", Label).update(report)
        self.query_one("#log-run-report").display = bool(report)
        same_run = self.wanted is not None and self.wanted.run_id == run_id
        self.wanted = EventFilter(run_id, self._chosen("#log-action"), self._chosen("#log-field")) if same_run \
            else EventFilter(run_id)
        if not same_run:
            self._clear_filters()
        self.refresh_bindings()  # u undoes only a run that can be undone
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

    @on(DataTable.RowHighlighted, "#log-events")
    def _event_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._summarise()

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._ask_for_events()

    def action_focus_filter(self, selector: str) -> None:
        self.query_one(selector, Select).focus()

    def action_focus_events(self) -> None:
        self.query_one("#log-events").focus()

    @property
    def highlighted(self) -> RunSummary | None:
        if self.wanted is None:
            return None
        return next((run for run in self.runs if run.run_id == self.wanted.run_id), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_run":
            run = self.highlighted
            return run is not None and run.run_id is not None and run.outcome == RunOutcome.OK \
                and run.undone_by_run is None
        return True

    def action_undo_run(self, force: bool) -> None:
        self.post_message(self.UndoRequested(self.highlighted.run_id, force))


@dataclass
class UndoPreviewed(Message):
    """What undoing a run would do (a dry run), for the librarian to confirm."""
    result: UndoResult


@dataclass
class RunUndone(Message):
    """A run undone, and the library's change marker once it was."""
    result: UndoResult
    marker: ChangeMarker


UNDONE = "↶ undone"
# How many of the changes an undo leaves alone the question names.
NAMED = 6


def undo_question(result: UndoResult) -> str:
    """The dry run, as the question before an undo: what goes back, what stays."""
    put, left = len(result.put_back), len(result.left_alone)
    kinds = "; ".join(f"{RUN_CHANGE_KINDS[kind]}: {n:,}" for kind, n in result.changes.items())
    lines = [f"This puts back {put:,} change{'s' if put != 1 else ''} run {result.run_id} made ({kinds})."]
    if left:
        named = "; ".join(_item(item) for item in result.left_alone[:NAMED])
        more = f"; and {left - NAMED:,} more" if left > NAMED else ""
        lines.append(f"It leaves {left:,} alone: {named}{more}.")
        if not result.forced:
            lines.append("U (shift+u) undoes the run putting back what was changed since too.")
    lines.append("The undo is a run of its own, which can be undone in turn.")
    # Names are the library's, not markup (Confirm shows its text as markup).
    return escape("\n".join(lines))


def undo_told(result: UndoResult) -> str:
    left = len(result.left_alone)
    return (f"Run {result.run_id} undone (as run {result.undo_run_id}): {len(result.put_back):,} change(s) put back"
            + (f", {left:,} left alone" if left else "") + ".")


def _item(item) -> str:
    return f"{item.label}: {item.why}" if item.field == WHOLE_ROW else f"{item.label} {item.field} ({item.why})"


def _key(run_id: int | None) -> str:
    return DECISIONS_KEY if run_id is None else str(run_id)


def _who(event: EventLine) -> str:
    """The name first: it is what survives a narrow column."""
    if event.barcode:
        return f"{event.borrower_name or ''} ({event.barcode})".strip()
    if event.intake_id:
        return f"{event.intake_name or ''} (Intake {event.intake_id})".strip()
    return ""


def _change(event: EventLine, width: int) -> Text:
    """field: old → new, as much of it as there is, cut with a mark."""
    change = Text(f"{formatting.field(event.field)}: " if event.field else "", style="bold")
    if event.old_value is not None:
        change.append(f"{formatting.change_value(event.field, event.old_value)} → ")
    elif event.new_value is not None:
        change.append("→ ")
    if event.new_value is not None:
        change.append(formatting.change_value(event.field, event.new_value))
    elif event.old_value is not None:
        change.append("(none)", style="dim")
    if len(change) > width:
        change.truncate(width - 1)
        change.append(formatting.CUT)
    return change
