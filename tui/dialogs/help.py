"""``?``: how Intake works, every key (read from the panes' own bindings, so
it cannot fall out of date) and what each symbol means."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui import formatting

INTRO = (
    "Each record in Intake is a pupil or member of staff the sync could not place. For each one: "
    "Enter moves into the record's suggestions (↑/↓ or ←/→ show each beside the record, Esc goes back); "
    "if a suggestion is the same person, accept it by its number (1, 2 or 3); if the right borrower is not "
    "suggested, search the library (s) and match the one you find (m); if they are not a borrower yet, mark them new (n), and when you "
    "are ready transfer (t) every confirmed-new record as a new borrower; if they should never be "
    "imported, reject them (r). Undo (u) takes back the last decision."
)
SYMBOLS = [(symbol, meaning) for symbol, _, meaning in formatting.VERDICTS.values()] + [
    ("♻", "the borrower is in the recycle bin (matching restores them)"),
    ("⇄", "a borrower linked to an MIS person who has gone from the MIS: matching moves the link"),
    ("!", "a borrower linked to another MIS person: not offered"),
]


def key_table(app, sections: list[tuple[str, list[Binding]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for title, bindings in sections:
        table.add_row(Text(title, style="underline"), "")
        for binding in bindings:
            if binding.description:
                table.add_row(app.get_key_display(binding), binding.tooltip or binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]]):
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        symbols = Table.grid(padding=(0, 2))
        for symbol, meaning in SYMBOLS:
            symbols.add_row(Text(symbol, style="bold"), meaning)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("mislink help (Esc to close)", classes="dialog-title")
            with VerticalScroll():
                yield Static(INTRO, classes="help-text")
                yield Static(key_table(self.app, self.sections))
                yield Label("Symbols", classes="help-heading")
                yield Static(symbols)

    def action_close(self) -> None:
        self.dismiss()
