"""The recycle bin: the borrowers the sync moved out as leavers, and putting
one back; after them, the borrowers restored with a hold, marked "held".

r asks whether to hold the borrower too (``RestoreChoice``, Cancel focused),
then posts ``RestoreRequested``; x asks, then posts ``ReleaseRequested`` for a
held one. The parent does it and refreshes."""
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
from tui.dialogs.confirm import Confirm
from tui.dialogs.restore_hold import RestoreChoice


class RecycleBin(Vertical):
    BINDINGS = [Binding("r", "restore", "Restore", id="restore"),
                Binding("x", "release", "Release hold", id="release",
                        tooltip="The MIS decides again: the next sync recycles them if it still has them leaving")]

    @dataclass
    class RestoreRequested(Message):
        borrower: RecycledBorrower
        hold: bool = False

    @dataclass
    class ReleaseRequested(Message):
        borrower: RecycledBorrower

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today
        self.borrowers: dict[str, RecycledBorrower] = {}

    def compose(self) -> ComposeResult:
        yield Label("Borrowers who have left. r puts the highlighted one back, with the tutor group they had; "
                    "x releases a held one.", id="bin-help")
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
                          "held" if borrower.held else formatting.when(borrower.recycled_at, self.today),
                          f"{borrower.loans_out} out" if borrower.loans_out else "",
                          f"{borrower.tutor_group or ''}, {borrower.hold_note}" if borrower.held
                          else borrower.tutor_group or "", key=borrower.barcode)
        if borrowers:
            table.move_cursor(row=min(row, len(borrowers) - 1))
        held = sum(1 for b in borrowers if b.held)
        recycled = len(borrowers) - held
        with_loans = sum(1 for b in borrowers if b.loans_out and not b.held)
        summary = f"{recycled:,} in the recycle bin" if recycled else "The recycle bin is empty"
        self.query_one("#bin-summary", Label).update(
            summary + (f", {with_loans} with loans out" if with_loans else "")
            + (f"; {held:,} held out of it (x releases)" if held else ""))
        self.refresh_bindings()

    @property
    def highlighted(self) -> RecycledBorrower | None:
        table = self.query_one("#bin-table", DataTable)
        if not table.row_count:
            return None
        return self.borrowers.get(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        borrower = self.highlighted
        if action == "restore":
            return borrower is not None and not borrower.held
        if action == "release":
            return borrower is not None and borrower.held
        return True

    def action_restore(self) -> None:
        borrower = self.highlighted

        def chosen(hold: bool | None) -> None:
            if hold is not None:
                self.post_message(self.RestoreRequested(borrower, hold))

        self.app.push_screen(RestoreChoice(borrower), chosen)

    def action_release(self) -> None:
        borrower = self.highlighted

        def answered(release: bool | None) -> None:
            if release:
                self.post_message(self.ReleaseRequested(borrower))

        self.app.push_screen(Confirm(
            f"Release the hold on {borrower.forename} {borrower.surname} ({borrower.barcode})?",
            f"They are {borrower.hold_note}. The MIS decides again: if it still has them leaving, the next sync "
            "puts them in the recycle bin.", "Release"), answered)

    @on(DataTable.RowHighlighted)
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_bindings()
