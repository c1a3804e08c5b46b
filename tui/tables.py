"""The lists: every table the librarian moves through takes the keys of the
terminal tools they know (j/k, g/G, Home/End, PgUp/PgDn), and a table inside
a pane that gives Enter and ←/→ their meaning (open the suggestions, choose a
candidate) lets those keys through instead of selecting a row or scrolling
sideways. Enter never selects, so it never decides anything."""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable

PASSED_THROUGH = ("select_cursor", "cursor_left", "cursor_right")


class ListTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        # Home and End go to the first and last row, not sideways.
        Binding("g,home", "scroll_top", "First", show=False),
        Binding("G,end", "scroll_bottom", "Last", show=False),
    ]

    @property
    def place(self) -> str:
        """Where the cursor is: "12 / 226" (empty for an empty list)."""
        return f"{self.cursor_row + 1:,} / {self.row_count:,}" if self.row_count else ""


class PaneKeysTable(ListTable):
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PASSED_THROUGH:
            return False
        return super().check_action(action, parameters)
