"""Match suggestions for the highlighted Intake entry: the ranked candidates,
and the chosen one beside the incoming record, field by field.

Every field's verdict is a symbol (✓ same, ~ alike, ≠ different, · not
recorded) before it is a colour, with the weight it added to the score. The
parent sets ``entry`` at once (a cheap heading) and ``show`` when the
engine's comparison for that very entry arrives. Until then the last
entry's tables stay under this entry's heading, which says its suggestions
are being found, and ``shown`` is None: no record's suggestions are on
screen, so there is nothing to decide on. ``chosen`` is the candidate shown
beside the record. A candidate linked to an MIS person who has gone from the
MIS is marked ⇄, and its comparison says whose link matching it moves.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label

from engine.api import OPEN_INTAKE, REASON_TEXT, BorrowerStatus, Candidate, EntryComparison, IntakeItem
from tui import formatting
from tui.tables import PaneKeysTable

CANDIDATE_WIDTH, NARROW_CANDIDATE_WIDTH = 16, 12
# The comparison's fixed columns; "Why" takes the rest.
FIELD_WIDTH, VALUE_WIDTH, WEIGHT_WIDTH = 9, 13, 5
# Below this many cells the comparison is laid out tight (one cell between
# columns, the weight at the head of "Why"), and the candidates' names are
# narrower, so that "Why" stays on screen at 80 columns.
ROOMY = 64


class PassiveTable(DataTable):
    """Never focused: it only shows the chosen candidate beside the record."""
    can_focus = False


class CandidateTable(PaneKeysTable):
    """Focused by Enter on the queue: ↑/↓ (or ←/→) choose a candidate."""


class SuggestionsPane(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.entry: IntakeItem | None = None
        self.comparison: EntryComparison | None = None
        # The entry, exactly as the queue showed it, that ``comparison`` is for.
        self._compared: IntakeItem | None = None
        self.chosen = 0

    def compose(self) -> ComposeResult:
        yield Label("", id="entry-heading")
        with Horizontal():
            with Vertical(id="candidates-column"):
                yield CandidateTable(cursor_type="row", id="candidates", show_header=False)
                yield Label("", id="candidates-legend")
            yield PassiveTable(cursor_type="none", id="comparison")

    @property
    def shown(self) -> IntakeItem | None:
        """The entry whose own suggestions are on screen under its heading;
        None while they are loading."""
        return self.entry if self.entry is not None and self._compared == self.entry else None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """The ranked candidates for the current entry, once they have arrived."""
        return self.comparison.candidates if self.shown is not None else ()

    @property
    def chosen_candidate(self) -> Candidate | None:
        candidates = self.candidates
        return candidates[self.chosen] if self.chosen < len(candidates) else None

    def show_entry(self, entry: IntakeItem | None) -> None:
        """The highlighted entry, at once; the tables keep the last entry's
        suggestions until this one's arrive (redrawing them on every key
        press while the cursor runs down the queue would slow it)."""
        self.entry = entry
        self.chosen = 0
        self._heading()
        if entry is None:
            self.comparison = self._compared = None
            self.query_one("#candidates", DataTable).clear()
            self.query_one("#comparison", DataTable).clear(columns=True)

    def show(self, entry: IntakeItem, comparison: EntryComparison) -> None:
        """The engine's comparison for ``entry`` (as the queue showed it)."""
        self.entry, self._compared, self.comparison = entry, entry, comparison
        table = self.query_one("#candidates", DataTable)
        table.clear(columns=True)
        table.add_column("#", width=2, key="rank")
        name_width = CANDIDATE_WIDTH if self._roomy else NARROW_CANDIDATE_WIDTH
        table.add_column("Name", width=name_width, key="name")
        table.add_column("Score", width=3, key="score")
        for rank, candidate in enumerate(comparison.candidates, start=1):
            suggestion = candidate.suggestion
            name = suggestion.name if suggestion.status == BorrowerStatus.ACTIVE else f"♻ {suggestion.name}"
            name = f"⇄ {name}" if suggestion.absent_link else name
            table.add_row(str(rank), formatting.fit(name, name_width), formatting.score(suggestion.score),
                          key=str(rank - 1))
        for suggestion in comparison.detail.suggestions.linked_elsewhere:
            table.add_row(Text("!", style="red"), Text(f"{suggestion.name}: linked to {suggestion.linked_to}",
                                                        style="dim"), "", key=f"linked-{suggestion.barcode}")
        self._legend(comparison)
        self._heading()
        self.choose(0)

    def _legend(self, comparison: EntryComparison) -> None:
        """What the marks in the list mean, under it, when there are any."""
        suggestions = [c.suggestion for c in comparison.candidates]
        marks = [meaning for shown, meaning in (
            (any(s.status != BorrowerStatus.ACTIVE for s in suggestions), "♻ in the recycle bin"),
            (any(s.absent_link for s in suggestions), "⇄ linked to someone gone"),
            (bool(comparison.detail.suggestions.linked_elsewhere), "! linked to another: not offered")) if shown]
        legend = self.query_one("#candidates-legend", Label)
        legend.update("\n".join(marks))
        legend.display = bool(marks)

    def choose(self, index: int) -> None:
        """Show candidate ``index`` beside the incoming record."""
        count = len(self.candidates)
        self.chosen = min(max(index, 0), max(count - 1, 0))
        if count:
            table = self.query_one("#candidates", DataTable)
            table.move_cursor(row=self.chosen)
            # The chosen one is marked, not only highlighted.
            for rank in range(count):
                table.update_cell(str(rank), "rank", f"{'▸' if rank == self.chosen else ' '}{rank + 1}")
        self._compare()

    def _heading(self) -> None:
        label = self.query_one("#entry-heading", Label)
        if self.entry is None:
            label.update("Nothing selected: the Intake queue is empty, or the filters hide every record.")
            return
        item = self.entry
        why = item.reason_detail or REASON_TEXT.get(item.reason, item.reason)
        if item.status not in OPEN_INTAKE:
            why = f"{formatting.status(item.status, item.borrower_barcode)} · {why}"
        elif self.shown is None:
            why = "finding who this may be… (the keys wait)"
        elif not self.candidates:
            why = f"No borrower looks like {item.name}: n marks them new, s searches the library"
        label.update(Text.assemble((item.name, "bold"), " · ", why))

    @property
    def _roomy(self) -> bool:
        """Is there room for the comparison's full layout beside full-width candidates?"""
        return self.size.width - CANDIDATE_WIDTH - 13 >= ROOMY + 8

    def _compare(self) -> None:
        table = self.query_one("#comparison", DataTable)
        table.clear(columns=True)
        chosen = self.chosen_candidate
        if self.shown is None:
            return
        roomy = self._roomy
        table.cell_padding = 1 if roomy else 0
        table.styles.padding = (0, 0, 0, 0 if roomy else 1)
        gap = 0 if roomy else 1  # tight: one cell after each column instead of padding both sides
        table.add_column("Field", width=FIELD_WIDTH + gap, key="field")
        table.add_column("Incoming", width=VALUE_WIDTH + gap, key="incoming")
        if chosen is None:
            for field in self.comparison.incoming:
                table.add_row(field.label, formatting.value(field.incoming))
            return
        table.add_column("", width=1 + gap, key="verdict")
        table.add_column(chosen.suggestion.barcode, width=VALUE_WIDTH + gap, key="candidate")
        used = FIELD_WIDTH + 2 * VALUE_WIDTH + 1 + 3 * gap + 1 + (1 - gap)  # the scrollbar, the padding
        if roomy:
            table.add_column(Text("Adds", justify="right"), width=WEIGHT_WIDTH, key="weight")
            used += WEIGHT_WIDTH + 2 * 6
        why_width = max(table.size.width - used, 1)
        table.add_column("Why", width=why_width, key="why")
        for field in chosen.fields:
            weighed = field.weight is not None and field.verdict != "missing"
            weight = f"{field.weight:+.1f}" if weighed else ""
            cells = [field.label, formatting.value(field.incoming), formatting.verdict(field.verdict),
                     formatting.value(field.candidate)]
            if roomy:
                cells += [Text(weight, justify="right"), Text(field.detail, style="dim")]
            else:
                # The values are on screen already: the why without its echo of them.
                why = formatting.fit(f"{weight} {field.detail.split(' (')[0]}".strip(), why_width)
                cells.append(Text(why, style="dim"))
            table.add_row(*cells)
        if chosen.suggestion.absent_link:
            why = Text("who is no longer in the MIS export: matching moves the link", style="dim")
            table.add_row("Linked to", "", Text("⇄"), f"MIS {chosen.suggestion.absent_link}",
                          *(["", why] if roomy else [why]))

    def on_resize(self) -> None:
        # The layout follows the room there is (see ROOMY).
        name_width = CANDIDATE_WIDTH if self._roomy else NARROW_CANDIDATE_WIDTH
        self.query_one("#candidates-column").styles.width = name_width + 2 + 3 + 6 + 1  # rank, score, padding, border
        if self.comparison is not None and self.shown is not None:
            self.call_after_refresh(self.show, self.shown, self.comparison)

    @on(DataTable.RowHighlighted, "#candidates")
    def _candidate_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row != self.chosen and event.cursor_row < len(self.candidates):
            self.choose(event.cursor_row)
