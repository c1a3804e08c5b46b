"""Asking before the confirmed-new records become borrowers, saying how many."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmTransfer(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Transfer"),
        Binding("escape,n", "answer(False)", "Cancel"),
    ]

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        people = f"{self.count} confirmed-new record{'s' if self.count != 1 else ''}"
        with Vertical(classes="dialog"):
            yield Label(f"Transfer {people}?", classes="dialog-title")
            yield Label("Each becomes a new borrower, with a barcode from the barcode settings. "
                        "Undo (u) takes the last transfer back while nobody has used the new borrowers.")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Transfer {self.count} (y)", variant="primary", id="yes")
                yield Button("Cancel (Esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
