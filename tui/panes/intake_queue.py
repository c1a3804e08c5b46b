"""The Intake queue: the records waiting for a decision, filterable and
sortable, and smooth with 10,000 of them.

The parent hands it entries (``show``) and reads ``highlighted``; it posts
``EntryHighlighted`` when the cursor lands on another entry and
``FiltersChanged`` when the librarian changes a filter. Filtering is the
engine's (``intake.list_entries``); sorting happens here. A long list is added a few
hundred rows per frame, so the first screenful paints at once; a refresh that
only removes or changes rows (a decision) edits them in place. A
pre-admission still waiting shows the day they start ("starts 2027-09-03") in
place of its status.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select

from engine.api import OPEN_INTAKE, IntakeItem, IntakeStatus, year_number
from tui import formatting
from tui.debounce import Debounce
from tui.tables import PaneKeysTable

CHUNK = 300
MAX_REMOVALS = 50
NAME_DEBOUNCE = 0.3
YEARS = [("Reception", "0")] + [(f"Year {n}", str(n)) for n in range(1, 14)]
STATUSES = [("Pending and new", ""), ("Pending", "pending"), ("Confirmed new", "new"), ("Rejected", "rejected"),
            ("Matched", "matched"), ("Transferred", "transferred"), ("Left school", "withdrawn"), ("All", "all")]
# (label, key): the ways the queue can be ordered, cycled by "o".
SORTS: list[tuple[str, Callable[[IntakeItem], object]]] = [
    ("oldest first", lambda e: e.id),
    ("best score", lambda e: (-(e.best_score or 0), e.id)),
    ("surname", lambda e: (e.surname.casefold(), e.forename.casefold(), e.id)),
    ("year and tutor group", lambda e: (year_number(e.year_group) or 99, e.tutor_group or "",
                                        e.surname.casefold())),
    ("date of birth", lambda e: (e.date_of_birth is None, e.date_of_birth, e.id)),
    ("why here", lambda e: (e.reason, e.id)),
]
# (key, heading): the name column takes whatever width the others leave.
COLUMNS = [("name", "Name"), ("born", "Born"), ("year", "Year"), ("tutor", "Tutor"), ("why", "Why here"),
           ("best", "Best"), ("status", "Status")]
NAME_MIN = 12
# The narrowest each other column gets (Tutor and Why here widen for what they list).
COLUMN_WIDTHS = {"born": 11, "year": 4, "tutor": 5, "why": 8, "best": 4, "status": 10}
# The Status column while a pre-admission's start date is listed: "✓ starts 2027-09-03".
STATUS_WITH_START = 19


def status_cell(item: IntakeItem) -> str:
    """The Status column: a pre-admission still waiting says when they start
    (and, once confirmed new, that too)."""
    if item.start_date is not None and item.status in OPEN_INTAKE:
        return f"{'✓ ' if item.status == IntakeStatus.NEW else ''}starts {item.start_date.isoformat()}"
    return formatting.status(item.status, item.borrower_barcode)


def status_width(entries: list[IntakeItem]) -> int:
    """Wide enough for a start date only when one is listed."""
    wide = any(e.start_date is not None and e.status in OPEN_INTAKE for e in entries)
    return STATUS_WITH_START if wide else COLUMN_WIDTHS["status"]


def column_widths(entries: list[IntakeItem], available: int) -> dict[str, int]:
    """Each column as wide as what it lists (so an 80-column screen keeps
    the names whole), the name taking the rest."""
    wanted = {"name": 0, **COLUMN_WIDTHS,
              "tutor": max(COLUMN_WIDTHS["tutor"], formatting.content_width("", {e.tutor_group or "" for e in entries})),
              "why": max(COLUMN_WIDTHS["why"], formatting.content_width(
                  "", {formatting.REASONS.get(e.reason, e.reason) for e in entries})),
              "status": max(status_width(entries), formatting.content_width("", {status_cell(e) for e in entries}))}
    return formatting.flex_widths(available, wanted, "name", NAME_MIN)


@dataclass(frozen=True)
class QueueFilters:
    """As ``list_entries`` takes them; empty means no filter."""
    name: str = ""
    year: str = ""
    reason: str = ""
    status: str = ""


class QueueTable(PaneKeysTable):
    """Enter and ←/→ belong to the Intake pane (open the suggestions, choose a candidate)."""


class IntakeQueue(Vertical):
    BINDINGS = [
        # Not in the footer, where the decisions need the room: the filter box
        # and the line under the list name these keys.
        Binding("slash", "filter", "Filter by name", id="queue_filter", show=False),
        Binding("o", "next_sort", "Sort another way", id="queue_sort", show=False),
        Binding("escape", "leave_filter", "Back to list", id="queue_leave_filter"),
    ]

    @dataclass
    class EntryHighlighted(Message):
        entry: IntakeItem | None

    @dataclass
    class FiltersChanged(Message):
        filters: QueueFilters

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.entries: list[IntakeItem] = []
        self.confirmed_new: tuple[IntakeItem, ...] = ()
        self.filters = QueueFilters()
        self.sort = 0
        self._by_key: dict[str, IntakeItem] = {}
        self._shown_keys: list[str] = []
        self._filling = 0  # which rebuild is still adding rows; 0 when none
        # The row the cursor goes to once a rebuild has added it.
        self._target: int | None = None
        self._highlighted_key: str | None = None
        self._announced: IntakeItem | None = None
        self._typing = Debounce(self, NAME_DEBOUNCE)
        self._widths: dict[str, int] = {}
        # Best scores as the suggestions worked them out just now: the stored
        # one dates from the last sync, and the library may have changed since.
        self._live_scores: dict[IntakeItem, int] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="queue-filters"):
            yield Input(placeholder="/ Filter by name…", id="queue-name", compact=True)
            yield Select(YEARS, prompt="All years", id="queue-year", compact=True)
            yield Select([(label, code) for code, label in formatting.REASONS.items()], prompt="Any reason",
                         id="queue-reason", compact=True)
            yield Select(STATUSES, value="", allow_blank=False, id="queue-status", compact=True)
        yield QueueTable(cursor_type="row", zebra_stripes=True, id="queue-table")
        yield Label("Loading the Intake queue…", id="queue-summary")

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    @property
    def highlighted(self) -> IntakeItem | None:
        return self._by_key.get(self._highlighted_key) if self._highlighted_key else None

    @property
    def under_cursor(self) -> IntakeItem | None:
        """The entry under the table's cursor this instant: ``highlighted``
        follows the cursor only once its move has been announced, a message
        later, and a key pressed meanwhile must not act on the row just left."""
        if self._target is not None or not self.table.row_count:
            return None
        return self.entry_at(self.table.cursor_row)

    def entry_at(self, row: int) -> IntakeItem | None:
        return self._by_key.get(self.table.coordinate_to_cell_key((row, 0)).row_key.value)

    def focus_list(self) -> None:
        self.table.focus()

    # --- rows ---------------------------------------------------------------------

    def show(self, entries: list[IntakeItem]) -> None:
        """Show these entries (the engine's answer to the current filters)."""
        self.entries = sorted(entries, key=SORTS[self.sort][1])
        self.confirmed_new = tuple(e for e in self.entries if e.status == IntakeStatus.NEW)
        listed = set(self.entries)
        self._live_scores = {e: best for e, best in self._live_scores.items() if e in listed}
        shown, self._by_key = self._by_key, {str(e.id): e for e in self.entries}
        keys = list(self._by_key)
        widths, self._widths = self._widths, column_widths(self.entries, self.size.width or self.app.size.width)
        if not self._filling and widths == self._widths and self._only_removed_or_changed(keys):
            self._edit_in_place(keys, shown)
        else:
            self._rebuild(keys)
        self._summarise()

    def _only_removed_or_changed(self, keys: list[str]) -> bool:
        """Can the table be edited rather than rebuilt? Each removal walks
        every row, so many of them are slower than a rebuild."""
        kept = set(keys)
        return (bool(self._shown_keys) and len(self._shown_keys) - len(keys) <= MAX_REMOVALS
                and [k for k in self._shown_keys if k in kept] == keys)

    def _edit_in_place(self, keys: list[str], shown: dict[str, IntakeItem]) -> None:
        table, kept = self.table, set(keys)
        for key in self._shown_keys:
            if key not in kept:
                table.remove_row(key)
        for key in keys:
            if self._by_key[key] != shown[key]:
                for (column, _), old, new in zip(COLUMNS, self._row(shown[key]), self._row(self._by_key[key])):
                    if old != new:
                        table.update_cell(key, column, new)
        self._shown_keys = keys
        self._announce_highlight()

    def _rebuild(self, keys: list[str]) -> None:
        table = self.table
        # Stay on the same entry if it is still listed, else on the same row.
        highlighted = self._highlighted_key
        self._target = keys.index(highlighted) if highlighted in self._by_key else \
            min(table.cursor_row, len(keys) - 1)
        table.clear(columns=True)
        for column, heading in COLUMNS:
            table.add_column(heading, key=column, width=self._widths[column])
        self._shown_keys = keys
        self._filling += 1
        self._add_rows(self._filling, 0)

    def _add_rows(self, filling: int, start: int) -> None:
        """Add the next chunk; the rest follow after the screen has refreshed."""
        if filling != self._filling:
            return  # a newer rebuild took over
        table = self.table
        for key in self._shown_keys[start:start + CHUNK]:
            table.add_row(*self._row(self._by_key[key]), key=key)
        if self._target is not None and self._target < table.row_count:
            table.move_cursor(row=max(self._target, 0), animate=False)
            self._target = None
        if table.row_count < len(self._shown_keys):
            self.call_after_refresh(self._add_rows, filling, table.row_count)
        else:
            self._filling = 0
        self._announce_highlight()
        self._summarise()

    def _row(self, item: IntakeItem) -> tuple:
        return (formatting.fit(item.name, self._widths["name"]), formatting.day(item.date_of_birth),
                formatting.year(item.year_group), item.tutor_group or "",
                formatting.REASONS.get(item.reason, item.reason),
                formatting.score(self._live_scores.get(item, item.best_score)), status_cell(item))

    def show_score(self, item: IntakeItem, best: int) -> None:
        """The best score the suggestions shown for ``item`` have: the list says the same."""
        if self._live_scores.get(item, item.best_score) == best:
            return
        self._live_scores[item] = best
        if str(item.id) in self.table.rows:  # not while a rebuild has yet to add it
            self.table.update_cell(str(item.id), "best", formatting.score(best))

    def _announce_highlight(self) -> None:
        """Say so when the cursor is on another entry, or its entry has changed."""
        if self._target is not None:
            return  # the cursor is not where it is going yet
        table = self.table
        key = None
        if table.row_count:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if key != self._highlighted_key or self.highlighted != self._announced:
            self._highlighted_key = key
            self._announced = self.highlighted
            self.post_message(self.EntryHighlighted(self._announced))

    def _summarise(self) -> None:
        new = len(self.confirmed_new)
        shown = f"{len(self.entries):,} record{'s' if len(self.entries) != 1 else ''}"
        if new:
            shown += f", {new:,} confirmed new"
        if self._filling:
            shown += f" (showing {self.table.row_count:,})"
        if self.table.row_count:
            shown = f"{self.table.cursor_row + 1:,} / {shown}"  # "12 / 226 records"
        self.query_one("#queue-summary", Label).update(f"{shown} · sorted by {SORTS[self.sort][0]} (o to change)")

    @on(DataTable.RowHighlighted, "#queue-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce_highlight()
        self._summarise()

    # --- filters and sorting -----------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#queue-name", Input).focus()

    def action_leave_filter(self) -> None:
        self.focus_list()

    def action_next_sort(self) -> None:
        self.sort = (self.sort + 1) % len(SORTS)
        self.show(self.entries)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_filter":
            return self.query_one(QueueTable) is not self.app.focused
        if action == "next_sort":
            return len(self.entries) > 1
        return True

    @on(Input.Changed, "#queue-name")
    def _name_typed(self) -> None:
        self._typing(self._filters_changed)

    @on(Input.Submitted, "#queue-name")
    def _name_submitted(self) -> None:
        self._filters_changed()
        self.focus_list()

    @on(Select.Changed)
    def _choice_made(self, event: Select.Changed) -> None:
        event.stop()
        self._filters_changed()

    def _filters_changed(self) -> None:
        def chosen(selector: str) -> str:
            return self.query_one(selector, Select).selection or ""

        filters = QueueFilters(self.query_one("#queue-name", Input).value.strip(), chosen("#queue-year"),
                               chosen("#queue-reason"), chosen("#queue-status"))
        if filters != self.filters:
            self.filters = filters
            self.post_message(self.FiltersChanged(filters))
