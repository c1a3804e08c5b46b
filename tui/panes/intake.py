"""The Intake pane: the queue above, and below it the highlighted entry's
suggestions or a search of the library; every decision has its key here.

It turns keys into requests for the app (``DecisionRequested``,
``UndoRequested``, ``SuggestionsWanted``), each carrying the entries as the
screen showed them, so that the engine can refuse if a sync changed them
since. While a decision is being made (``busy``) the decision keys wait.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher

from engine.history import EntryComparison, QueuedEntry
from engine.plan import OPEN_INTAKE as OPEN
from tui import formatting
from tui.debounce import Debounce
from tui.dialogs.confirm_transfer import ConfirmTransfer
from tui.panes.borrower_search import BorrowerSearch
from tui.panes.intake_queue import IntakeQueue
from tui.panes.suggestions import SuggestionsPane

# Moving through the queue shows suggestions only once the cursor rests:
# a held arrow key repeats faster than this, a single press waits no longer.
SUGGESTION_PAUSE = 0.04
ACCEPT = Binding.Group("Accept")
CHOOSE = Binding.Group("Compare", compact=True)


class IntakePane(Vertical):
    BINDINGS = [
        Binding("1", "accept(0)", "Accept 1", group=ACCEPT, id="accept_1",
                tooltip="This is suggestion 1: link them, and bring the borrower up to date"),
        Binding("2", "accept(1)", "Accept 2", group=ACCEPT, id="accept_2", tooltip="This is suggestion 2"),
        Binding("3", "accept(2)", "Accept 3", group=ACCEPT, id="accept_3", tooltip="This is suggestion 3"),
        Binding("enter", "accept_chosen", "Accept the candidate shown", group=ACCEPT, id="accept_chosen",
                tooltip="This is the suggestion shown beside the record"),
        Binding("left", "choose(-1)", "Previous candidate", group=CHOOSE, id="candidate_previous",
                tooltip="Show the previous suggestion beside the record"),
        Binding("right", "choose(1)", "Next candidate", group=CHOOSE, id="candidate_next",
                tooltip="Show the next suggestion beside the record"),
        Binding("s", "search", "Search", id="search",
                tooltip="Search the library by name or barcode when the right borrower is not suggested"),
        Binding("n", "decide('new')", "New", id="mark_new",
                tooltip="Not a borrower yet: confirm them as new (t transfers them)"),
        Binding("r", "decide('reject')", "Reject", id="reject",
                tooltip="Never import this person: later syncs skip them"),
        Binding("r", "decide('unreject')", "Unreject", id="unreject",
                tooltip="Take a rejection back: the record waits in Intake again"),
        Binding("t", "transfer", "Transfer", id="transfer",
                tooltip="Make every confirmed-new record a borrower (asks first, saying how many)"),
        Binding("u", "undo", "Undo", id="undo", tooltip="Take back the last Intake decision"),
    ]

    @dataclass
    class DecisionRequested(Message):
        action: str  # match | new | reject | unreject | transfer
        entries: tuple[QueuedEntry, ...]
        barcode: str | None = None
        # Set once the librarian has confirmed a decision the engine doubted.
        force: bool = False

    @dataclass
    class UndoRequested(Message):
        pass

    @dataclass
    class SuggestionsWanted(Message):
        entry_id: int

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.busy = False
        self._resting = Debounce(self, SUGGESTION_PAUSE)
        self._key_state: tuple = ()

    def compose(self) -> ComposeResult:
        yield IntakeQueue(id="queue")
        with ContentSwitcher(initial="suggestions", id="intake-lower"):
            yield SuggestionsPane(id="suggestions")
            yield BorrowerSearch(id="search")

    @property
    def queue(self) -> IntakeQueue:
        return self.query_one(IntakeQueue)

    @property
    def suggestions(self) -> SuggestionsPane:
        return self.query_one(SuggestionsPane)

    @property
    def search(self) -> BorrowerSearch:
        return self.query_one(BorrowerSearch)

    @property
    def searching(self) -> bool:
        return self.query_one(ContentSwitcher).current == "search"

    @property
    def entry(self) -> QueuedEntry | None:
        return self.queue.highlighted

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._keys_may_have_changed()

    def _keys_may_have_changed(self) -> None:
        """Redraw the footer only if what the keys can do has changed: it is
        rebuilt from scratch each time, too slow for every cursor move. While
        the next entry's suggestions are on their way the footer keeps the
        last ones' keys (a key pressed meanwhile is checked, and ignored)."""
        shown = self.suggestions.comparison
        state = (self.entry.item.status if self.entry else None, self.searching,
                 len(shown.candidates) if shown else 0, bool(self.queue.confirmed_new), self.busy)
        if state != self._key_state:
            self._key_state = state
            self.refresh_bindings()

    def refresh_suggestions(self) -> None:
        """Ask again for the highlighted entry's suggestions (the library changed)."""
        if self.entry is not None:
            self.post_message(self.SuggestionsWanted(self.entry.item.id))

    # --- following the cursor ---------------------------------------------------------

    @on(IntakeQueue.EntryHighlighted)
    def _entry_highlighted(self, event: IntakeQueue.EntryHighlighted) -> None:
        self.suggestions.show_entry(event.entry)
        self._keys_may_have_changed()
        if event.entry is None:
            self._resting.cancel()
        else:
            self._resting(self.refresh_suggestions)

    def show_queue(self, entries: list[QueuedEntry]) -> None:
        self.queue.show(entries)
        self._keys_may_have_changed()  # transfer comes and goes with the confirmed-new

    def show_suggestions(self, comparison: EntryComparison) -> None:
        if self.entry is not None and comparison.detail.item.id == self.entry.item.id:
            self.suggestions.show(comparison)
            self._keys_may_have_changed()

    # --- decisions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        enabled = self._available(action, parameters)
        if enabled and self.busy and action != "choose":
            return None  # shown, greyed, until the decision in hand is made
        return enabled

    def _available(self, action: str, parameters: tuple[object, ...]) -> bool:
        status = self.entry.item.status if self.entry else None
        deciding = status in OPEN and not self.searching
        candidates = len(self.suggestions.candidates)
        if action == "accept":
            return deciding and parameters[0] < candidates
        if action == "accept_chosen":
            return deciding and candidates > 0
        if action == "choose":
            return not self.searching and candidates > 1
        if action == "search":
            return deciding
        if action == "decide":
            wanted = {"new": ("pending",), "reject": OPEN, "unreject": ("rejected",)}[parameters[0]]
            return status in wanted and not self.searching
        if action == "transfer":
            return bool(self.queue.confirmed_new)
        return True

    def action_accept(self, rank: int) -> None:
        self._match(self.suggestions.candidates[rank].suggestion.barcode)

    def action_accept_chosen(self) -> None:
        self._match(self.suggestions.chosen_candidate.suggestion.barcode)

    def action_choose(self, step: int) -> None:
        self.suggestions.choose(self.suggestions.chosen + step)

    def action_decide(self, action: str) -> None:
        self._request(action, (self.entry,))

    def action_search(self) -> None:
        self.query_one(ContentSwitcher).current = "search"
        item = self.entry.item
        self.search.start(f"{item.name}, born {formatting.day(item.date_of_birth) or 'unknown'}")
        self._keys_may_have_changed()

    def action_transfer(self) -> None:
        confirmed = self.queue.confirmed_new

        def transfer(go: bool | None) -> None:
            if go:
                self._request("transfer", confirmed)

        self.app.push_screen(ConfirmTransfer(len(confirmed)), transfer)

    def action_undo(self) -> None:
        self.post_message(self.UndoRequested())

    def _match(self, barcode: str) -> None:
        self._request("match", (self.entry,), barcode)

    def _request(self, action: str, entries: tuple[QueuedEntry, ...], barcode: str | None = None) -> None:
        self.set_busy(True)
        self.post_message(self.DecisionRequested(action, entries, barcode))

    # --- the search ------------------------------------------------------------------

    @on(BorrowerSearch.BorrowerChosen)
    def _borrower_chosen(self, event: BorrowerSearch.BorrowerChosen) -> None:
        event.stop()
        if self.entry is not None and self.entry.item.status in OPEN and not self.busy:
            self._close_search()
            self._match(event.barcode)

    @on(BorrowerSearch.Closed)
    def _search_closed(self, event: BorrowerSearch.Closed) -> None:
        event.stop()
        self._close_search()

    def _close_search(self) -> None:
        self.query_one(ContentSwitcher).current = "suggestions"
        self.queue.focus_list()
        self._keys_may_have_changed()
