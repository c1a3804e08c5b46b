"""Searching the library by name or barcode, for when the right borrower is
not among the suggestions.

Posts ``SearchChanged`` as the librarian types (after a pause) and
``BorrowerChosen`` when they press m on a result (never Enter, nor a click:
those only move to a result); the parent shows the engine's answer with
``show``, and tells it who is held (``know_holds``, from the recycle bin's
list): a held borrower's result says "held since 2026-09-03 by jsmith".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from engine.api import BorrowerHit, BorrowerStatus, DecisionAction, RecycledBorrower
from tui import formatting
from tui.debounce import Debounce
from tui.tables import ListTable, PaneKeysTable

TYPING_PAUSE = 0.25


class BorrowerSearch(Vertical):
    BINDINGS = [
        Binding("down", "to_results", "Results", show=False),
        Binding("m", "match", "Match", id="search_match", tooltip="This is the borrower: link them"),
        Binding("escape", "close", "Back to suggestions", id="search_close"),
    ]

    @dataclass
    class SearchChanged(Message):
        text: str

    @dataclass
    class BorrowerChosen(Message):
        barcode: str

    @dataclass
    class Closed(Message):
        pass

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._typing = Debounce(self, TYPING_PAUSE)
        self._found_for: str | None = None
        # The text whose search failed (said under the results, which stay).
        self._failed_for: str | None = None
        self._hits: list[BorrowerHit] = []
        # Barcode -> "held since … by …", for the held borrowers.
        self._holds: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label("", id="search-heading")
        yield Input(placeholder="Name or barcode; then ↓ to the results and m to match", id="search-text",
                    compact=True)
        yield PaneKeysTable(cursor_type="row", id="search-results")
        yield Label("", id="search-found")

    def start(self, looking_for: str) -> None:
        """Open the search for an Intake entry described as ``looking_for``."""
        self.query_one("#search-heading", Label).update(Text.assemble("Search the library for ", (looking_for, "bold")))
        search = self.query_one("#search-text", Input)
        search.focus()
        if search.value.strip():
            self.post_message(self.SearchChanged(search.value.strip()))

    @property
    def searching(self) -> bool:
        """Is the text typed still waiting for its results?"""
        text = self.query_one("#search-text", Input).value.strip()
        return bool(text) and text not in (self._found_for, self._failed_for)

    def show(self, text: str, hits: list[BorrowerHit]) -> None:
        if text != self.query_one("#search-text", Input).value.strip():
            return  # the librarian has typed on since
        self._found_for, self._failed_for, self._hits = text, None, hits
        self._fill(hits)

    def failed(self, text: str, reason: str) -> None:
        """The search for ``text`` could not run: said here; the query and
        the last results stay, and typing (or Enter) tries again."""
        self._failed_for = text
        found = f" (the results are for “{self._found_for}”)" if self._hits else ""
        self.query_one("#search-found", Label).update(Text(f"✗ Not searched: {reason}{found}", style="red"))

    def know_holds(self, borrowers: Iterable[RecycledBorrower]) -> None:
        """Who is held now: marked in the results shown, and in every later one."""
        holds = {b.barcode: b.hold_note for b in borrowers if b.held}
        if holds != self._holds:
            self._holds = holds
            if self._hits:
                self._fill(self._hits)

    def _fill(self, hits: list[BorrowerHit]) -> None:
        table = self.query_one("#search-results", DataTable)
        table.clear(columns=True)
        # The hold first: a narrow screen cuts the end of this column.
        links = ["; ".join(note for note in (self._holds.get(hit.barcode), hit.linked_to) if note) for hit in hits]
        widths = formatting.flex_widths(self.app.size.width, {
            "Barcode": formatting.content_width("Barcode", [h.barcode for h in hits]), "Name": 0, "Born": 11,
            "Year": 4, "Tutor": 6, "Linked to": min(formatting.content_width("Linked to", links), 30)}, "Name", 14)
        for heading, width in widths.items():
            table.add_column(heading, width=width)
        for hit, linked in zip(hits, links):
            name = hit.name if hit.status == BorrowerStatus.ACTIVE else f"♻ {hit.name}"
            table.add_row(hit.barcode, formatting.fit(name, widths["Name"]), formatting.day(hit.date_of_birth),
                          formatting.year(hit.year_group), hit.tutor_group or "",
                          linked, key=hit.barcode)
        self._describe()

    @property
    def highlighted(self) -> BorrowerHit | None:
        table = self.query_one("#search-results", DataTable)
        return self._hits[table.cursor_row] if table.row_count and table.cursor_row < len(self._hits) else None

    def _describe(self) -> None:
        """How many were found and where the cursor is; why a linked borrower cannot be matched."""
        hits, hit = self._hits, self.highlighted
        table = self.query_one("#search-results", ListTable)
        found = f"{table.place} · {len(hits)} borrower{'s' if len(hits) != 1 else ''} found" if hits else \
            "No borrower found: try part of the name, or the barcode"
        if any(h.status != BorrowerStatus.ACTIVE for h in hits):
            found += " · ♻ in the recycle bin: matching restores them"
        if hit is not None and hit.linked_to:
            found = (f"{hit.name} cannot be matched: linked to {hit.linked_to}, someone else in the MIS "
                     f"(mislink borrowers unlink {hit.barcode} if that link is wrong)")
        self.query_one("#search-found", Label).update(found)
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#search-results")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe()

    @on(Input.Changed, "#search-text")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self._typing(lambda: self.post_message(self.SearchChanged(text)))
        else:
            self._typing.cancel()

    @on(Input.Submitted, "#search-text")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and text == self._failed_for:
            self.post_message(self.SearchChanged(text))  # try again
        self.action_to_results()

    def action_to_results(self) -> None:
        self.query_one("#search-results", DataTable).focus()

    def action_match(self) -> None:
        table = self.query_one("#search-results", DataTable)
        self.post_message(self.BorrowerChosen(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value))

    def action_close(self) -> None:
        self.post_message(self.Closed())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        results = self.query_one("#search-results", DataTable)
        if action == "to_results":
            return isinstance(self.app.focused, Input)
        if action == DecisionAction.MATCH:
            hit = self.highlighted
            return self.app.focused is results and hit is not None and not hit.linked_to
        return True
