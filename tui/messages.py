"""What the app's workers report when their engine call is done: past-tense
facts, each carrying the engine's own result. Panes' requests are declared on
the panes themselves (``IntakeQueue.FiltersChanged`` and so on)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.api import (BorrowerHit, ChangeMarker, Config, Decision, EntryComparison, EventPage, IntakeItem,
                        PreparedSync, RecycledBorrower, RunSummary, SuggestionIndex, SyncReport)


@dataclass
class MarkerRead(Message):
    marker: ChangeMarker


@dataclass
class QueueLoaded(Message):
    entries: list[IntakeItem]


@dataclass
class IndexBuilt(Message):
    index: SuggestionIndex


@dataclass
class ScoresStored(Message):
    """The best scores the sync had not stored yet are stored now."""
    count: int


@dataclass
class SuggestionsLoaded(Message):
    """The engine's comparison for ``entry``, exactly as the queue showed it."""
    entry: IntakeItem
    comparison: EntryComparison


@dataclass
class BorrowersFound(Message):
    text: str
    hits: list[BorrowerHit]


@dataclass
class DecisionMade(Message):
    decision: Decision


@dataclass
class RunsLoaded(Message):
    runs: list[RunSummary]
    # Each sync's warnings, from the run log (the library keeps none).
    warnings: dict[int, tuple[str, ...]]


@dataclass
class EventsLoaded(Message):
    page: EventPage


@dataclass
class RecycleBinLoaded(Message):
    borrowers: list[RecycledBorrower]


@dataclass
class BorrowerRestored(Message):
    borrower: RecycledBorrower


@dataclass
class HoldReleased(Message):
    borrower: RecycledBorrower


@dataclass
class SyncPreviewed(Message):
    prepared: PreparedSync


@dataclass
class SyncProgressed(Message):
    """The sync reached its next stage (a handful per run, so none is dropped)."""
    stage: str


@dataclass
class PagesFetched(Message):
    """A live feed has fetched ``done`` of ``endpoint``'s ``count`` pages (the
    engine's ``pages`` callback, posted from the sync's worker thread)."""
    endpoint: str
    done: int
    count: int


@dataclass
class SyncFinished(Message):
    report: SyncReport


@dataclass
class RemovalsCounted(Message):
    """What the next sync would remove were ``data.key`` switched off
    (``engine.removals``: a sync report's ``fields_purged``)."""
    key: str
    fields_purged: dict[str, int]


@dataclass
class SettingSaved(Message):
    config: Config
    key: str
