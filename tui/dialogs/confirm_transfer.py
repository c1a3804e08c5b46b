"""Asking before the confirmed-new records become borrowers, saying how many."""
from __future__ import annotations

from tui.dialogs.confirm import Confirm


class ConfirmTransfer(Confirm):
    def __init__(self, count: int):
        people = f"{count} confirmed-new record{'s' if count != 1 else ''}"
        super().__init__(f"Transfer {people}?",
                         "Each becomes a new borrower, with a barcode from the barcode settings. "
                         "Undo (u) takes the last transfer back while nobody has used the new borrowers.",
                         f"Transfer {count}")
        self.count = count
