"""The recycle bin: the borrowers the sync moved out as leavers, and putting
one back (``RestoreRequested``; the parent restores it and refreshes)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from engine.api import RecycledBorrower
from tui import formatting


class RecycleBin(Vertical):
    BINDINGS = [Binding("r", "restore", "Restore", id="restore")]

    @dataclass
    class RestoreRequested(Message):
        borrower: RecycledBorrower

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today
        self.borrowers: dict[str, RecycledBorrower] = {}

    def compose(self) -> ComposeResult:
        yield Label("Borrowers who have left. r puts the highlighted one back, with the tutor group they had.",
                    id="bin-help")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="bin-table")
        yield Label("", id="bin-summary")

    def focus_list(self) -> None:
        self.query_one("#bin-table").focus()

    def show(self, borrowers: list[RecycledBorrower]) -> None:
        table = self.query_one("#bin-table", DataTable)
        row = table.cursor_row
        self.borrowers = {b.barcode: b for b in borrowers}
        table.clear(columns=True)
        table.add_column("Barcode", width=9)
        table.add_column("Name", width=18)
        table.add_column("Recycled", width=12)
        table.add_column("Loans", width=6)
        table.add_column("Group now", width=max(14, self.app.size.width - 9 - 18 - 12 - 6 - 10 - 3))
        for borrower in borrowers:
            table.add_row(borrower.barcode, f"{borrower.forename} {borrower.surname}",
                          formatting.when(borrower.recycled_at, self.today),
                          f"{borrower.loans_out} out" if borrower.loans_out else "", borrower.tutor_group or "",
                          key=borrower.barcode)
        if borrowers:
            table.move_cursor(row=min(row, len(borrowers) - 1))
        with_loans = sum(1 for b in borrowers if b.loans_out)
        summary = f"{len(borrowers):,} in the recycle bin" if borrowers else "The recycle bin is empty"
        self.query_one("#bin-summary", Label).update(
            summary + (f", {with_loans} with loans out" if with_loans else ""))
        self.refresh_bindings()

    @property
    def highlighted(self) -> RecycledBorrower | None:
        table = self.query_one("#bin-table", DataTable)
        if not table.row_count:
            return None
        return self.borrowers.get(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":
            return self.highlighted is not None
        return True

    def action_restore(self) -> None:
        self.post_message(self.RestoreRequested(self.highlighted))

    @on(DataTable.RowHighlighted)
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_bindings()
