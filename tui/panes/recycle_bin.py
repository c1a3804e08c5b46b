"""The recycle bin: the borrowers the sync moved out as leavers, and putting
one back; after them, the borrowers restored with a hold, marked "held".

r asks whether to hold the borrower too (``RestoreChoice``, Cancel focused),
then posts ``RestoreRequested``; x asks, then posts ``ReleaseRequested`` for a
held one. The parent does it and refreshes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
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
from tui.tables import ListTable


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
        self._summary = ""

    def compose(self) -> ComposeResult:
        yield Label("Borrowers who have left: r puts one back (asking first), x releases a held one.",
                    id="bin-help")
        yield ListTable(cursor_type="row", zebra_stripes=True, id="bin-table")
        yield Label("", id="bin-why", markup=False)
        yield Label("", id="bin-summary")

    def focus_list(self) -> None:
        self.query_one("#bin-table").focus()

    def show(self, borrowers: list[RecycledBorrower]) -> None:
        table = self.query_one("#bin-table", DataTable)
        row = table.cursor_row
        self.borrowers = {b.barcode: b for b in borrowers}
        table.clear(columns=True)
        groups = [_group(b) for b in borrowers]
        widths = formatting.flex_widths(self.app.size.width, {
            "barcode": formatting.content_width("Barcode", self.borrowers), "name": 0, "recycled": 11, "loans": 5,
            # The group whole: it is what tells two leavers of one name apart.
            "group": formatting.content_width("Group now", groups)}, "name", 12)
        for key, heading in (("barcode", "Barcode"), ("name", "Name"), ("recycled", "Recycled"), ("loans", "Loans"),
                             ("group", "Group now")):
            table.add_column(heading, width=widths[key], key=key)
        for borrower, group in zip(borrowers, groups):
            table.add_row(borrower.barcode, formatting.fit(f"{borrower.forename} {borrower.surname}", widths["name"]),
                          "held" if borrower.held else formatting.when(borrower.recycled_at, self.today),
                          Text(str(borrower.loans_out), justify="right"), formatting.fit(group, widths["group"]),
                          key=borrower.barcode)
        if borrowers:
            table.move_cursor(row=min(row, len(borrowers) - 1))
        held = sum(1 for b in borrowers if b.held)
        recycled = len(borrowers) - held
        with_loans = sum(1 for b in borrowers if b.loans_out and not b.held)
        summary = f"{recycled:,} in the recycle bin" if recycled else "The recycle bin is empty"
        self._summary = (summary + (f", {with_loans} with loans out" if with_loans else "")
                         + (f"; {held:,} held out of it (x releases)" if held else ""))
        self._describe()

    def _describe(self) -> None:
        """Why the highlighted borrower is here, and where the cursor is."""
        table, borrower = self.query_one("#bin-table", ListTable), self.highlighted
        why = ""
        if borrower is not None:
            why = f"{borrower.forename} {borrower.surname}: " + (
                borrower.hold_note if borrower.held else borrower.reason or "recycled by a sync")
            why += f"; {borrower.loans_out} loan{'s' if borrower.loans_out != 1 else ''} out"
        self.query_one("#bin-why", Label).update(why)
        self.query_one("#bin-summary", Label).update(
            f"{table.place} · {self._summary}" if table.row_count else self._summary)
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
        self._describe()


def _group(borrower: RecycledBorrower) -> str:
    """The group they are in now; a held borrower's says so (they are out of the bin)."""
    group = borrower.tutor_group or ""
    return f"{group}, {borrower.hold_note}" if borrower.held else group
