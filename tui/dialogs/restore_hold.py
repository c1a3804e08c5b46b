"""Restoring a borrower from the recycle bin: with a hold, without one, or not
at all. A hold keeps them out of the recycle bin while the MIS has them
leaving; without it, the next sync recycles a linked borrower again."""
from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import Button

from engine.api import RecycledBorrower
from tui.dialogs.confirm import Confirm


class RestoreChoice(Confirm):
    """Answers True to restore and hold (y), False to restore only (r), None
    for Cancel (n, Escape). Cancel has the focus, as in every ``Confirm``: an
    Enter pressed out of habit restores nobody."""

    BINDINGS = [
        Binding("r", "answer(False)", "Restore only"),
        Binding("escape,n", "answer(None)", "Cancel"),
    ]

    def __init__(self, borrower: RecycledBorrower):
        name = f"{borrower.forename} {borrower.surname} ({borrower.barcode})"
        super().__init__(
            f"Restore {name}?",
            "Hold them too? The MIS had them leaving: without a hold, the next sync puts them back in the "
            "recycle bin. A hold keeps them out until the MIS has them on roll again or you release it "
            "(x in the recycle bin).", "Restore and hold")

    def on_mount(self) -> None:
        self.query_one("#no", Button).parent.mount(Button("Restore only (r)", id="only"), before="#no")

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        event.prevent_default()  # not Confirm's yes-or-no as well
        self.dismiss({"yes": True, "only": False}.get(event.button.id))
