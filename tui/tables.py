"""Tables inside a pane that gives Enter and ←/→ their meaning (open the
suggestions, choose a candidate): the table lets those keys through instead
of selecting a row or scrolling sideways. Enter never selects, so it never
decides anything."""
from __future__ import annotations

from textual.widgets import DataTable

PASSED_THROUGH = ("select_cursor", "cursor_left", "cursor_right")


class PaneKeysTable(DataTable):
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PASSED_THROUGH:
            return False
        return super().check_action(action, parameters)
