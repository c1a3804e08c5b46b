"""The Intake pane: the queue above, and below it the highlighted entry's
suggestions or a search of the library; every decision has its key here.

It turns keys into requests for the app (``DecisionRequested``,
``UndoRequested``, ``SuggestionsWanted``), each carrying the entries as the
screen showed them, so that the engine can refuse if a sync changed them
since.

A decision key acts only on ``shown``: the record whose own suggestions are
on screen, and only while the queue's cursor, the heading and the footer
show that same record. Moving the cursor makes ``shown`` None at once, and
it stays None until that record's suggestions have arrived: a key pressed
meanwhile does nothing, so no key can decide the record just left. A record
decided as shown is not decided again until the queue shows it anew, and
while a decision is being made (``busy``) the decision keys wait.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher

from engine.api import DECIDABLE, OPEN_INTAKE as OPEN, Decision, DecisionAction, EntryComparison, IntakeItem
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
# The actions that decide about, or search for, the record shown.
ON_THE_RECORD = {"accept", "decide", "search"}
CHOOSE = Binding.Group("Compare", compact=True)


class IntakePane(Vertical):
    BINDINGS = [
        Binding("1", "accept(0)", "Accept 1", group=ACCEPT, id="accept_1",
                tooltip="This is suggestion 1: link them, and bring the borrower up to date"),
        Binding("2", "accept(1)", "Accept 2", group=ACCEPT, id="accept_2", tooltip="This is suggestion 2"),
        Binding("3", "accept(2)", "Accept 3", group=ACCEPT, id="accept_3", tooltip="This is suggestion 3"),
        Binding("enter", "open_suggestions", "Suggestions", show=False, id="open_suggestions",
                tooltip="Move into the record's suggestions: ↑/↓ choose one, 1/2/3 accept it, Esc goes back"),
        Binding("escape", "back_to_queue", "Back to the queue", show=False, id="back_to_queue"),
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
        entries: tuple[IntakeItem, ...]
        barcode: str | None = None
        # Set once the librarian has confirmed a decision the engine doubted.
        force: bool = False

    @dataclass
    class UndoRequested(Message):
        pass

    @dataclass
    class SuggestionsWanted(Message):
        entry: IntakeItem

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.busy = False
        self._resting = Debounce(self, SUGGESTION_PAUSE)
        self._key_state: tuple = ()
        # The entry the footer's keys were last worked out for.
        self._footer_for: IntakeItem | None = None
        # Entries, as shown, that a decision has been made on.
        self._decided: set[IntakeItem] = set()
        self._searched_for: IntakeItem | None = None

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
    def entry(self) -> IntakeItem | None:
        return self.queue.highlighted

    @property
    def shown(self) -> IntakeItem | None:
        """The record the decision keys act on, or None (loading, deciding)."""
        entry = self.suggestions.shown
        agreed = entry is not None and self.queue.under_cursor == entry and self._footer_for == entry
        return entry if agreed and not self.busy and entry not in self._decided else None

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._keys_may_have_changed()

    def _keys_may_have_changed(self) -> None:
        """Work the footer's keys out for the record shown, and redraw it only
        if they differ from the last record's: it is rebuilt from scratch each
        time, too slow for every cursor move. While the next record's
        suggestions load, the footer stays as it was (every key pressed
        meanwhile does nothing) and belongs to no record."""
        shown = self.suggestions.shown
        self._footer_for = shown
        if shown is None and self.entry is not None:
            return
        state = (shown.status if shown else None, self.searching, len(self.suggestions.candidates),
                 bool(self.queue.confirmed_new), self.busy)
        if state != self._key_state:
            self._key_state = state
            self.refresh_bindings()

    def refresh_suggestions(self) -> None:
        """Ask again for the highlighted entry's suggestions (the library changed)."""
        if self.entry is not None:
            self.post_message(self.SuggestionsWanted(self.entry))

    # --- following the cursor ---------------------------------------------------------

    @on(IntakeQueue.EntryHighlighted)
    def _entry_highlighted(self, event: IntakeQueue.EntryHighlighted) -> None:
        self.suggestions.show_entry(event.entry)
        if self.searching and event.entry != self._searched_for:
            self._close_search()  # the search was for the record just left
        self._keys_may_have_changed()
        if event.entry is None:
            self._resting.cancel()
        else:
            self._resting(self.refresh_suggestions)

    def show_queue(self, entries: list[IntakeItem]) -> None:
        self.queue.show(entries)
        self._decided &= set(entries)  # the rest are gone, or shown anew
        self._keys_may_have_changed()  # transfer comes and goes with the confirmed-new

    def show_suggestions(self, entry: IntakeItem, comparison: EntryComparison) -> None:
        """The comparison the engine made for ``entry``; dropped unless that
        entry, exactly as it was asked for, is still the one highlighted."""
        if entry == self.entry:
            self.suggestions.show(entry, comparison)
            self.queue.show_score(entry, comparison.detail.suggestions.best_score)
            self._keys_may_have_changed()

    def decision_made(self, decision: Decision) -> None:
        """The engine made ``decision``: its entries, as shown, are decided
        (an undo's are open again), and the line above the suggestions says
        what was done, where it covers nothing."""
        decided = {e for e in self.queue.entries if e.id in decision.entry_ids}
        if decision.action == DecisionAction.UNDO:
            self._decided -= decided
        else:
            self._decided |= decided
        # The key first: a long summary is cut short at the end.
        done = "✓ Done" if decision.action == DecisionAction.UNDO else "✓ Done (u undoes it)"
        self.query_one("#intake-lower").border_title = f"{done}: {decision.summary}"
        self.set_busy(False)

    # --- decisions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        enabled = self._available(action, parameters)
        if enabled and action in ON_THE_RECORD and self.shown is None:
            return None  # shown, greyed, until the record's suggestions are on screen
        if enabled and self.busy and action != "choose":
            return None  # shown, greyed, until the decision in hand is made
        return enabled

    def _available(self, action: str, parameters: tuple[object, ...]) -> bool:
        status = self.entry.status if self.entry else None
        deciding = status in OPEN and not self.searching
        candidates = len(self.suggestions.candidates)
        if action == "accept":
            return deciding and parameters[0] < candidates
        if action == "choose":
            return not self.searching and candidates > 1
        if action == "search":
            return deciding
        if action == "decide":
            return status in DECIDABLE[DecisionAction(parameters[0])] and not self.searching
        if action == DecisionAction.TRANSFER:
            return bool(self.queue.confirmed_new)
        if action == "open_suggestions":
            return self.app.focused is self.queue.table and self.entry is not None
        if action == "back_to_queue":
            return self.app.focused is self.query_one("#candidates")
        return True

    def action_accept(self, rank: int) -> None:
        entry, candidates = self.shown, self.suggestions.candidates
        if entry is not None and rank < len(candidates):
            self._request("match", entry, candidates[rank].suggestion.barcode)

    def action_choose(self, step: int) -> None:
        self.suggestions.choose(self.suggestions.chosen + step)

    def action_decide(self, action: str) -> None:
        if self.shown is not None:
            self._request(action, self.shown)

    def action_search(self) -> None:
        entry = self.shown
        if entry is None:
            return
        self._searched_for = entry
        self.query_one(ContentSwitcher).current = "search"
        self.search.start(f"{entry.name}, born {formatting.day(entry.date_of_birth) or 'unknown'}")
        self._keys_may_have_changed()

    def action_transfer(self) -> None:
        # Every confirmed-new record as listed now: the question says how many.
        confirmed = self.queue.confirmed_new

        def transfer(go: bool | None) -> None:
            if go:
                self.set_busy(True)
                self.post_message(self.DecisionRequested("transfer", confirmed))

        self.app.push_screen(ConfirmTransfer(len(confirmed)), transfer)

    def action_undo(self) -> None:
        self.set_busy(True)  # at once: a second u before the first is made would undo two
        self.post_message(self.UndoRequested())

    def action_open_suggestions(self) -> None:
        self.query_one("#candidates").focus()

    def action_back_to_queue(self) -> None:
        self.queue.focus_list()

    def _request(self, action: str, entry: IntakeItem, barcode: str | None = None) -> None:
        self.set_busy(True)
        self.post_message(self.DecisionRequested(action, (entry,), barcode))

    # --- the search ------------------------------------------------------------------

    @on(BorrowerSearch.BorrowerChosen)
    def _borrower_chosen(self, event: BorrowerSearch.BorrowerChosen) -> None:
        event.stop()
        searched_for = self._searched_for
        if searched_for is not None and self.shown == searched_for and searched_for.status in OPEN:
            self._close_search()
            self._request("match", searched_for, event.barcode)

    @on(BorrowerSearch.Closed)
    def _search_closed(self, event: BorrowerSearch.Closed) -> None:
        event.stop()
        self._close_search()

    def _close_search(self) -> None:
        self._searched_for = None
        self.query_one(ContentSwitcher).current = "suggestions"
        self.queue.focus_list()
        self._keys_may_have_changed()
