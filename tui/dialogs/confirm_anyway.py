"""Asking before a decision the engine thinks is a mistake (a twin, a stranger,
a probable duplicate): the librarian may know better, and says so."""
from __future__ import annotations

from tui.dialogs.confirm import Confirm


class ConfirmAnyway(Confirm):
    def __init__(self, reason: str):
        super().__init__("Are you sure?", f"{reason[:1].upper()}{reason[1:]}", "Do it anyway")
