"""A yes/no question before something that cannot be taken back lightly."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class Confirm(ModalScreen[bool]):
    """Answers True for y (or the first button), False for n or Escape.
    Enter presses the focused button, which is Cancel: a decision is never
    made by an Enter pressed out of habit."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("escape,n", "answer(False)", "Cancel"),
    ]

    def __init__(self, title: str, explanation: str, yes: str):
        super().__init__()
        self.title_text, self.explanation, self.yes = title, explanation, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.explanation)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                yield Button("Cancel (Esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
