"""The mislink terminal UI: ``make_app`` builds it (for the command line and
the tests alike), ``run`` runs it until the librarian quits.

The app owns the workers. Each worker is one engine call, made through
``Library.run`` in its own thread and session, and one posted message (past
tense: ``QueueLoaded``, ``DecisionMade``…); the message handlers hand results
down to the panes. Panes post their requests up. One ``Worker.StateChanged``
handler turns every failure into a message on screen.

A scheduled ``mislink --sync`` may run while the app is open: every few
seconds the app reads the library's change marker and, when it has moved,
reloads what it shows. Decisions carry the entries as they were shown, and
the engine refuses one whose entry has changed since (``decide``).
"""
from __future__ import annotations

import dataclasses
import functools
import gc
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from engine.api import (OPEN_INTAKE, ChangeMarker, CommitFailed, Config, ConfigError, DecisionAction, IntakeItem,
                        NeedsForce, PreparedSync, Refusal, SuggestionIndex, apply_sync, change_marker,
                        compare_suggestions, current_user, decide, driver_reason, list_entries, list_recycled,
                        load_index, logged_warnings, mask_url, prepare_sync, recent_runs, refresh_best_scores,
                        removals, restore_recycled, run_events, search_borrowers, undo_decision_by_id, undo_last)
from engine.api import release_hold
from engine.api import undo_run as undo_whole_run
from tui.dialogs.error import ErrorDialog
from tui.dialogs.help import HelpScreen
from tui.dialogs.sync_preview import SyncPreview
from tui import formatting
from tui.commands import PaneCommands
from tui.dialogs.confirm import Confirm
from tui.dialogs.confirm_anyway import ConfirmAnyway
from tui.library import Library
from tui.tables import ListTable
from tui.messages import (BorrowerRestored, BorrowersFound, DecisionMade, EventsLoaded, IndexBuilt, MarkerRead,
                          QueueLoaded, RecycleBinLoaded, RemovalsCounted, RunsLoaded, ScoresStored, SettingSaved,
                          SuggestionsLoaded, SyncFinished, SyncPreviewed, SyncProgressed)
from tui.messages import HoldReleased, PagesFetched
from tui.panes.borrower_search import BorrowerSearch
from tui.panes.intake import IntakePane
from tui.panes.intake_queue import IntakeQueue, QueueFilters
from tui.panes.recycle_bin import RecycleBin
from tui.panes.settings import SettingsPane, save_setting
from tui.panes.sync_log import EventFilter, SyncLog
from tui.panes.sync_log import RunUndone, UndoPreviewed, undo_question, undo_told

# How often the app looks at the library's change marker (one cheap query) to
# notice another process's changes; it reloads only when the marker moved.
POLL_SECONDS = 2.0
# How many younger collections pass before a full one (Python's default is 10).
FULL_COLLECTION_EVERY = 100
SUGGESTIONS_SHOWN = 3
FAILURE_TITLES = {
    "decide": "Not done", "restore": "Not restored", "settings": "Not saved", "sync": "The sync could not run",
    "marker": "The library cannot be read",
    "hold": "Hold not released",
    "undo_run": "Not undone",
}
# Decisions that change borrowers, and so what suggestions can offer.
BORROWER_CHANGES = {DecisionAction.MATCH, DecisionAction.TRANSFER, DecisionAction.UNDO}


class MislinkApp(App[int]):
    CSS_PATH = "mislink.tcss"
    TITLE = "mislink"
    COMMANDS = {PaneCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("f1", "show_pane('intake')", "Go to Intake", show=False, id="pane_intake"),
        Binding("f2", "show_pane('log')", "Go to the sync log", show=False, id="pane_log"),
        Binding("f3", "show_pane('bin')", "Go to the recycle bin", show=False, id="pane_bin"),
        Binding("f4", "show_pane('settings')", "Go to settings", show=False, id="pane_settings"),
        Binding("ctrl+r", "run_sync", "Sync", id="sync_now", tooltip="Sync now: a preview first, then Apply"),
        Binding("f5", "refresh", "Refresh", show=False, id="refresh",
                tooltip="Read everything again from the library (it is also re-read whenever it changes)"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="palette",
                tooltip="Every command of the pane in view, by name"),
        # q only where no text is typed: a box takes the letter first.
        Binding("q", "quit", "Quit", show=False, id="quit_q"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit", priority=True),
    ]
    PANES = {"intake": "Intake", "log": "the sync log", "bin": "the recycle bin", "settings": "settings"}

    def __init__(self, config: Config, config_path: Path, *, today: date | None = None):
        super().__init__()
        self.config = config
        self.config_path = Path(config_path)
        self.library = Library(config)
        self.index: SuggestionIndex | None = None
        self.marker: ChangeMarker | None = None
        self._today = today
        self._sync_dialog: SyncPreview | None = None
        # The plan the sync dialog shows: Apply applies exactly this one.
        self._previewed: PreparedSync | None = None
        self._run_to_show: int | None = None
        # The queue is what the librarian looks at first: the rest waits for it.
        self._queue_first = True
        self._unreachable = False
        # The decision being made, so a doubted one can be confirmed and forced.
        self._last_decision: IntakePane.DecisionRequested | None = None
        # The decision made here that u takes back; None: the library's last.
        self._undoable: int | None = None
        self._search_text = ""  # the search last asked for

    @property
    def today(self) -> date:
        """The day suggestions and dates are reckoned from (fixed in tests)."""
        return self._today or date.today()

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="intake", id="panes"):
            with TabPane("F1 Intake", id="intake"):
                yield IntakePane(id="intake-pane")
            with TabPane("F2 Sync log", id="log"):
                yield SyncLog(self.today, id="sync-log")
            with TabPane("F3 Recycle bin", id="bin"):
                yield RecycleBin(self.today, id="recycle-bin")
            with TabPane("F4 Settings", id="settings"):
                yield SettingsPane(self.config, self.config_path, id="settings-pane")
        # ctrl+p is in Help and the palette: the footer's room is the pane's keys'.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        steady_garbage_collection()
        self.intake.queue.focus_list()
        self.check_for_changes()
        self.set_interval(POLL_SECONDS, self.check_for_changes)

    def on_unmount(self) -> None:
        self.library.close()

    @property
    def intake(self) -> IntakePane:
        return self.query_one(IntakePane)

    @property
    def sync_log(self) -> SyncLog:
        return self.query_one(SyncLog)

    @property
    def recycle_bin(self) -> RecycleBin:
        return self.query_one(RecycleBin)

    @property
    def settings(self) -> SettingsPane:
        return self.query_one(SettingsPane)

    # --- workers: one engine call, one message ----------------------------------------

    def _deliver(self, message) -> None:
        """Post a worker's result, unless a newer request has replaced it."""
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="marker")
    def check_for_changes(self) -> None:
        self._deliver(MarkerRead(self.library.run(change_marker)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue")
    def load_queue(self, filters: QueueFilters) -> None:
        self._deliver(QueueLoaded(self.library.run(
            list_entries, status=filters.status or None, reason=filters.reason or None,
            year=filters.year or None, name=filters.name or None, score_missing=False)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="scores")
    def store_missing_scores(self) -> None:
        self.post_message(ScoresStored(self.library.write(refresh_best_scores, today=self.today)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="index")
    def build_index(self) -> None:
        self._deliver(IndexBuilt(self.library.run(load_index)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="suggestions")
    def load_suggestions(self, entry: IntakeItem) -> None:
        self._deliver(SuggestionsLoaded(entry, self.library.run(
            compare_suggestions, entry.id, index=self.index, today=self.today,
            limit=SUGGESTIONS_SHOWN)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def search_borrowers(self, text: str) -> None:
        self._deliver(BorrowersFound(text, self.library.run(search_borrowers, text)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="decide")
    def decide(self, request: IntakePane.DecisionRequested) -> None:
        self._last_decision = request
        self.post_message(DecisionMade(self.library.write(
            decide, self.config, request.action, request.entries, actor=current_user(),
            barcode=request.barcode, force=request.force)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="decide")
    def undo(self, decision_id: int | None) -> None:
        if decision_id is None:
            decision = self.library.write(undo_last, actor=current_user())
        else:
            decision = self.library.write(undo_decision_by_id, decision_id, actor=current_user())
        self.post_message(DecisionMade(decision))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def load_runs(self) -> None:
        runs = self.library.run(recent_runs)
        self._deliver(RunsLoaded(runs, logged_warnings(self.config.log_path, {r.run_id for r in runs if r.run_id})))

    @work(thread=True, exclusive=True, exit_on_error=False, group="events")
    def load_events(self, wanted: EventFilter) -> None:
        self._deliver(EventsLoaded(self.library.run(
            run_events, wanted.run_id, action=wanted.action or None, field=wanted.field or None)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="undo_run")
    def preview_run_undo(self, run_id: int, force: bool) -> None:
        self.post_message(UndoPreviewed(self.library.run(
            undo_whole_run, run_id, force=force, dry_run=True, actor=current_user())))

    @work(thread=True, exclusive=True, exit_on_error=False, group="undo_run")
    def undo_run(self, run_id: int, force: bool) -> None:
        result = self.library.write(undo_whole_run, run_id, force=force, actor=current_user())
        self.post_message(RunUndone(result, self.library.run(change_marker)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="recycle_bin")
    def load_recycle_bin(self) -> None:
        self._deliver(RecycleBinLoaded(self.library.run(list_recycled, with_held=True)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="restore")
    def restore(self, barcode: str, hold: bool = False) -> None:
        self.post_message(BorrowerRestored(self.library.write(restore_recycled, barcode, current_user(), hold=hold)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="hold")
    def end_hold(self, barcode: str) -> None:
        self.post_message(HoldReleased(self.library.write(release_hold, barcode, current_user())))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync")
    def preview_sync(self) -> None:
        """A live feed is fetched here: each page it reports reaches the dialog's bars."""
        self.post_message(SyncPreviewed(prepare_sync(
            self.config, today=self.today,
            pages=lambda endpoint, done, count: self._deliver(PagesFetched(endpoint, done, count)))))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync")
    def apply_sync(self, prepared: PreparedSync, force: bool, rekey: bool = False) -> None:
        """Apply exactly the plan the dialog showed (``rekey``: its re-links
        after a change of MIS confirmed): the engine refuses it if the export
        or the library has moved since."""
        self.post_message(SyncFinished(apply_sync(self.config, prepared, force=force, rekey=rekey,
                                                  progress=lambda stage: self.post_message(SyncProgressed(stage)))))

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings")
    def count_removals(self, key: str) -> None:
        self.post_message(RemovalsCounted(key, self.library.run(removals, {key})))

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings")
    def save_setting(self, change: SettingsPane.SettingChanged) -> None:
        self.post_message(SettingSaved(save_setting(self.config_path, change.section, change.key, change.value),
                                       f"{change.section}.{change.key}"))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        group, error = event.worker.group, event.worker.error
        self.log.error(f"worker {event.worker.name} failed", error)
        if group == "search":
            # Said under the search, which keeps the query and its last results.
            self.intake.search.failed(self._search_text, self._explain(error))
            return
        if group == "marker":
            # The check repeats every few seconds: say it once, until it works again.
            if self._unreachable:
                return
            self._unreachable = True
        if group == "scores":
            return  # derived, and the next sync stores them anyway
        if group == "decide":
            self.intake.set_busy(False)
            self.check_for_changes()
            if isinstance(error, NeedsForce) and not self._last_decision.force:
                self._ask_to_force(self._last_decision, str(error))
                return
        if group == "settings" and isinstance(error, ConfigError):
            unplaced = self.settings.show_problems(error.problems)
            if not unplaced:
                return
            error = ConfigError(unplaced)
        elif group == "settings":
            self.settings.show_config(self.config, "")  # the switches as saved
        if group == "sync" and self._sync_dialog is not None:
            self._sync_dialog.dismiss(False)
        self.push_screen(ErrorDialog(FAILURE_TITLES.get(group, "Something went wrong"), self._explain(error)))

    def _ask_to_force(self, request: IntakePane.DecisionRequested, reason: str) -> None:
        def answered(anyway: bool | None) -> None:
            if anyway:
                self.intake.set_busy(True)
                self.decide(dataclasses.replace(request, force=True))

        self.push_screen(ConfirmAnyway(reason), answered)

    def _explain(self, error: BaseException) -> str:
        if isinstance(error, Refusal):
            return str(error)[:1].upper() + str(error)[1:]
        if isinstance(error, CommitFailed):
            return f"The library database did not save it, so nothing was written: {error}"
        if isinstance(error, SQLAlchemyError):
            return (f"The library database {mask_url(self.config.library_url)} could not be used: "
                    f"{driver_reason(error)}")
        if isinstance(error, OSError):
            return f"{error.strerror or error}: {error.filename or ''}".strip(": ")
        return f"{type(error).__name__}: {error}"

    # --- keeping up with the library --------------------------------------------------

    @on(MarkerRead)
    def _marker_read(self, message: MarkerRead) -> None:
        self._unreachable = False
        if message.marker == self.marker:
            return
        someone_synced = self.marker is not None and message.marker.last_run > self.marker.last_run \
            and self._sync_dialog is None
        if someone_synced:
            self.notify("A sync has just run: everything shown is up to date.", title="Library changed")
            self.build_index()
        self.marker = message.marker
        self.load_queue(self.intake.queue.filters)
        if not self._queue_first:
            self.load_runs()
            self.load_recycle_bin()

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        self.intake.show_queue(message.entries)
        if self._queue_first:
            self._queue_first = False
            self.build_index()
            self.load_runs()
            self.load_recycle_bin()
        waiting = sum(1 for e in message.entries if e.status in OPEN_INTAKE)
        self._label_tab("intake", f"F1 Intake ({waiting:,})" if self.intake.queue.filters == QueueFilters()
                        else "F1 Intake")

    @on(IntakeQueue.FiltersChanged)
    def _filters_changed(self, message: IntakeQueue.FiltersChanged) -> None:
        self.load_queue(message.filters)

    @on(IndexBuilt)
    def _index_built(self, message: IndexBuilt) -> None:
        first = self.index is None
        self.index = message.index
        self.intake.refresh_suggestions()
        # A first sync of a large school stores only some of the best scores;
        # the rest are worked out now, in the background, once.
        if first and any(e.best_score is None and e.status in OPEN_INTAKE
                         for e in self.intake.queue.entries):
            self.store_missing_scores()

    @on(ScoresStored)
    def _scores_stored(self, message: ScoresStored) -> None:
        if message.count:
            self.load_queue(self.intake.queue.filters)

    @on(IntakePane.SuggestionsWanted)
    def _suggestions_wanted(self, message: IntakePane.SuggestionsWanted) -> None:
        if self.index is not None:  # otherwise they follow once the index is built
            self.load_suggestions(message.entry)

    @on(SuggestionsLoaded)
    def _suggestions_loaded(self, message: SuggestionsLoaded) -> None:
        self.intake.show_suggestions(message.entry, message.comparison)

    @on(BorrowerSearch.SearchChanged)
    def _search_changed(self, message: BorrowerSearch.SearchChanged) -> None:
        self._search_text = message.text
        self.search_borrowers(message.text)

    @on(BorrowersFound)
    def _borrowers_found(self, message: BorrowersFound) -> None:
        self.intake.search.show(message.text, message.hits)

    # --- decisions ------------------------------------------------------------------

    @on(IntakePane.DecisionRequested)
    def _decision_requested(self, message: IntakePane.DecisionRequested) -> None:
        self.decide(message)

    @on(IntakePane.UndoRequested)
    def _undo_requested(self) -> None:
        self.undo(self._undoable)

    @on(DecisionMade)
    def _decision_made(self, message: DecisionMade) -> None:
        decision = message.decision
        # What "u undoes it" refers to: this decision, whatever others decide meanwhile.
        self._undoable = decision.id if decision.action != DecisionAction.UNDO else None
        self.intake.decision_made(decision)
        if decision.action in BORROWER_CHANGES:
            self.build_index()
        self.check_for_changes()

    @on(RecycleBin.RestoreRequested)
    def _restore_requested(self, message: RecycleBin.RestoreRequested) -> None:
        self.restore(message.borrower.barcode, message.hold)

    @on(BorrowerRestored)
    def _borrower_restored(self, message: BorrowerRestored) -> None:
        borrower = message.borrower
        self.notify(f"{borrower.forename} {borrower.surname} ({borrower.barcode}) is back, in "
                    f"{borrower.tutor_group or 'no tutor group'}"
                    + (f", and {borrower.hold_note}." if borrower.held else ".")
                    + (" The next sync will recycle them again: the MIS had them leaving."
                       if borrower.returns_to_bin else ""),
                    title="Restored", severity="warning" if borrower.returns_to_bin else "information")
        self.build_index()
        self.check_for_changes()

    @on(RecycleBin.ReleaseRequested)
    def _release_requested(self, message: RecycleBin.ReleaseRequested) -> None:
        self.end_hold(message.borrower.barcode)

    @on(HoldReleased)
    def _hold_released(self, message: HoldReleased) -> None:
        borrower = message.borrower
        self.notify(f"{borrower.forename} {borrower.surname} ({borrower.barcode}) is no longer held: the MIS "
                    "decides again from the next sync.", title="Hold released")
        self.check_for_changes()

    # --- the sync log and the recycle bin ------------------------------------------------

    @on(RunsLoaded)
    def _runs_loaded(self, message: RunsLoaded) -> None:
        self.sync_log.show_runs(message.runs, message.warnings, select_run=self._run_to_show)
        self._run_to_show = None

    @on(SyncLog.EventsWanted)
    def _events_wanted(self, message: SyncLog.EventsWanted) -> None:
        self.load_events(message.wanted)

    @on(EventsLoaded)
    def _events_loaded(self, message: EventsLoaded) -> None:
        self.sync_log.show_events(message.page)

    @on(SyncLog.UndoRequested)
    def _run_undo_requested(self, message: SyncLog.UndoRequested) -> None:
        self.preview_run_undo(message.run_id, message.force)

    @on(UndoPreviewed)
    def _run_undo_previewed(self, message: UndoPreviewed) -> None:
        result = message.result

        def answered(undo: bool | None) -> None:
            if undo:
                self.undo_run(result.run_id, result.forced)

        self.push_screen(Confirm(f"Undo run {result.run_id}{' (forced)' if result.forced else ''}?",
                                 undo_question(result), "Undo the run"), answered)

    @on(RunUndone)
    def _run_undone(self, message: RunUndone) -> None:
        # Known to have moved: the next check finds nothing new, and says no sync ran.
        self.marker = message.marker
        self.notify(undo_told(message.result), title="Undone")
        self._run_to_show = message.result.undo_run_id
        self.load_runs()
        self.load_queue(self.intake.queue.filters)
        self.load_recycle_bin()
        self.build_index()

    @on(RecycleBinLoaded)
    def _recycle_bin_loaded(self, message: RecycleBinLoaded) -> None:
        self.recycle_bin.show(message.borrowers)
        self.intake.search.know_holds(message.borrowers)
        self._label_tab("bin", f"F3 Recycle bin ({sum(1 for b in message.borrowers if not b.held):,})")

    # --- running a sync ---------------------------------------------------------------

    def action_run_sync(self) -> None:
        def closed(_applied: bool | None) -> None:
            self._sync_dialog = self._previewed = None

        self._sync_dialog = SyncPreview(self.config.source.kind)
        self.push_screen(self._sync_dialog, closed)
        self.preview_sync()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run_sync":
            return self._sync_dialog is None
        return True

    @on(SyncPreviewed)
    def _sync_previewed(self, message: SyncPreviewed) -> None:
        if self._sync_dialog is not None:
            self._previewed = message.prepared
            self._sync_dialog.show_preview(message.prepared.report)

    @on(SyncPreview.ApplyRequested)
    def _sync_apply_requested(self, message: SyncPreview.ApplyRequested) -> None:
        if self._previewed is not None:
            self.apply_sync(self._previewed, message.force, message.rekey)

    @on(PagesFetched)
    def _pages_fetched(self, message: PagesFetched) -> None:
        if self._sync_dialog is not None:
            self._sync_dialog.show_pages(message.endpoint, message.done, message.count)

    @on(SyncProgressed)
    def _sync_progressed(self, message: SyncProgressed) -> None:
        if self._sync_dialog is not None:
            self._sync_dialog.show_stage(message.stage)

    @on(SyncFinished)
    def _sync_finished(self, message: SyncFinished) -> None:
        if self._sync_dialog is not None:
            self._sync_dialog.show_result(message.report)
        self._run_to_show = message.report.run_id
        self.build_index()
        self.check_for_changes()

    # --- settings ---------------------------------------------------------------------

    @on(SettingsPane.SettingChanged)
    def _setting_changed(self, message: SettingsPane.SettingChanged) -> None:
        self.save_setting(message)

    @on(SettingsPane.SwitchingOff)
    def _switching_off(self, message: SettingsPane.SwitchingOff) -> None:
        self.count_removals(message.key)

    @on(RemovalsCounted)
    def _removals_counted(self, message: RemovalsCounted) -> None:
        change = SettingsPane.SettingChanged("data", message.key, False)
        if not message.fields_purged:
            self.save_setting(change)
            return
        removing = formatting.removal_sentence(message.fields_purged)
        self.settings.show_removals(message.key, removing)

        def answered(switch_off: bool | None) -> None:
            if switch_off:
                self.save_setting(change)
            else:
                self.settings.show_config(self.config, "")

        self.push_screen(Confirm(f"Switch data.{message.key} off?",
                                 f"The next sync will remove {removing}, and the audit trail will keep no copy. "
                                 "Switching it on again brings the data back only from the next export.",
                                 "Switch off and save"), answered)

    @on(SettingSaved)
    def _setting_saved(self, message: SettingSaved) -> None:
        moved = (message.config.library_url, message.config.library, message.config.koha) != \
            (self.config.library_url, self.config.library, self.config.koha)
        # A Koha library is read as the data settings say: a changed one is read afresh.
        moved |= message.config.library.kind == "koha" and message.config.data != self.config.data
        self.config = message.config
        self.settings.show_config(message.config, message.key)
        if moved:
            # Another library: forget everything read from the old one.
            self.library.close()
            self.library = Library(message.config)
            self.index, self.marker, self._queue_first = None, None, True
            self.check_for_changes()

    # --- moving around ----------------------------------------------------------------

    def action_show_pane(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
        self._focus_pane(pane)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._focus_pane(event.pane.id)

    def _focus_pane(self, pane: str | None) -> None:
        focus = {"intake": self.intake.queue.focus_list, "log": self.sync_log.focus_runs,
                 "bin": self.recycle_bin.focus_list, "settings": self.settings.focus_first}
        if pane in focus:
            focus[pane]()

    def _label_tab(self, pane: str, label: str) -> None:
        self.query_one(TabbedContent).get_tab(pane).label = label

    def action_refresh(self) -> None:
        """Read everything again, as if the library had just changed."""
        self.marker = None
        self.check_for_changes()
        self.build_index()

    @property
    def pane_in_view(self) -> str:
        return self.query_one(TabbedContent).active

    def _pane_keys(self) -> list[tuple[str, list[tuple[object, list[Binding]]]]]:
        """(title, [(widget, its bindings)]) for each pane, the one in view first."""
        intake = [(self.intake, IntakePane.BINDINGS), (self.intake.queue, IntakeQueue.BINDINGS)]
        if self.intake.searching:
            intake.insert(0, (self.intake.search, BorrowerSearch.BINDINGS))
        panes = {"intake": ("Intake", intake), "log": ("Sync log", [(self.sync_log, SyncLog.BINDINGS)]),
                 "bin": ("Recycle bin", [(self.recycle_bin, RecycleBin.BINDINGS)])}
        first = self.pane_in_view
        return [panes[first]] * (first in panes) + [pane for key, pane in panes.items() if key != first]

    def palette_commands(self) -> list[tuple[str, str, object]]:
        """(title, help, command) for the command palette: what the pane in
        view can do now, then Sync, Transfer all new, Refresh, Help and the panes."""
        commands = []
        keys = self._pane_keys()
        in_view = keys[0][1] if keys and self.pane_in_view != "settings" else []
        for widget, bindings in in_view:
            for binding in bindings:
                _, name, parameters = parse_action(binding.action)
                if binding.description and widget.check_action(name, parameters) is True:
                    commands.append((binding.description, self._key_help(binding),
                                     functools.partial(self.run_action, binding.action, widget)))
        titles = {title for title, _, _ in commands}
        if self.check_action("run_sync", ()):
            commands.append(("Sync", "ctrl+r · a preview first, then Apply", self.action_run_sync))
        if self.intake.queue.confirmed_new and "Transfer" not in titles:
            commands.append(("Transfer all new", f"t on Intake · make the {len(self.intake.queue.confirmed_new):,} "
                             "confirmed-new records borrowers (asks first)", self.intake.action_transfer))
        for binding in self.BINDINGS:
            if binding.action.startswith("show_pane") or binding.action in ("refresh", "help"):
                commands.append((binding.description, self._key_help(binding),
                                 functools.partial(self.run_action, binding.action)))
        return commands

    def _key_help(self, binding: Binding) -> str:
        return f"{self.get_key_display(binding)} · {binding.tooltip or binding.description}"

    def action_help(self) -> None:
        panes = [(title, [binding for _, bindings in widgets for binding in bindings])
                 for title, widgets in self._pane_keys()]
        in_view = panes[:1] if self.pane_in_view != "settings" else []
        self.push_screen(HelpScreen(in_view + [("Everywhere", self.BINDINGS), ("In every list", ListTable.BINDINGS)]
                                    + panes[len(in_view):]))


def steady_garbage_collection() -> None:
    """Python's full collections walk every object; with a 10,000-record
    queue and its suggestion index that is a pause the librarian can see.
    What exists once the app is built (modules, widgets) lives as long as the
    app, so it is left out of them, and they come less often."""
    gc.freeze()
    threshold, young, _ = gc.get_threshold()
    gc.set_threshold(threshold, young, FULL_COLLECTION_EVERY)


def make_app(config: Config, config_path: Path | str, *, today: date | None = None) -> MislinkApp:
    """The app on this configuration; ``today`` fixes the date (for tests)."""
    return MislinkApp(config, Path(config_path), today=today)


def run(config: Config, config_path: Path | str) -> int:
    """Run the terminal UI until the librarian quits; the exit code."""
    app = make_app(config, config_path)
    app.run()
    return app.return_code or 0
