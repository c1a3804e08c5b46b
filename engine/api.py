"""The engine's one public face: everything the command line (``cli/``) and the
terminal UI (``tui/``) may use. Anything else in ``engine/`` is internal and
may change shape without notice; import-linter (``pyproject.toml``) checks that
the TUI imports nothing else.

- Opening the library: ``open_library(config, write=…)`` (a session, holding
  the one-writer lock when writing), or ``connect_library(config)`` once and
  a ``transaction(engine, lock=…)`` per piece of work from any thread.
- The sync: ``prepare_sync`` (plan and report, nothing written) and
  ``apply_sync`` (exactly that plan, refused if what it was computed from
  moved); ``run_sync`` is both. A sync never raises for an expected problem:
  its ``SyncReport.outcome`` (a ``RunOutcome``) says how it ended.
- Intake (list, show, compare, search, decide, undo), the history (runs,
  events, the change marker), whole runs (list, show, undo), the recycle
  bin, importing borrowers, the settings (``load_config``, ``save_config``)
  and what switching a field off would remove (``removals``). Each takes an
  open session, works inside the caller's transaction and returns the
  dataclasses listed here.
- Statuses, actions, outcomes and stages are ``StrEnum``: they equal the plain
  strings stored in the library.
- Errors: every refusal (the command cannot be carried out as asked, nothing
  was written, the message says why and what to do) is a ``Refusal``; a
  commit the database did not make is ``CommitFailed``, a failure, not a
  refusal. The specific refusal classes are exported for callers that must
  tell them apart (a busy library has its own exit code).
"""
from engine.borrower_import import ImportFileError, ImportResult, RowProblem, import_borrowers
from engine.config import (SECTIONS, Config, ConfigError, ConfigProblem, load_config, mask_url, replace_section,
                           save_config)
from engine.counts import RunCounts
from engine.db import LibraryMissing, connect, driver_reason
from engine.errors import NextStep, Refusal
from engine.history import (DECISIONS, ChangeMarker, EventLine, EventPage, RunSummary, change_marker, recent_runs,
                            run_events)
from engine.intake import ALL as ALL_INTAKE
from engine.intake import (DECISIONS_SHOWN, BorrowerHit, Candidate, ComparedField, Decision, DecisionLine, Doubt,
                           EntryChanged, EntryComparison, IntakeDetail, IntakeError, IntakeItem, NeedsForce,
                           compare_suggestions, decide, list_entries, load_index, make_decision, recent_decisions,
                           refresh_best_scores, search_borrowers, show_entry, undo_decision_by_id, undo_last)
from engine.koha.push import KohaRefused
from engine.koha.setup import setup_attribute_types as setup_koha
from engine.koha.tables import KohaMismatch
from engine.links import Unlinked, UnlinkRefused, unlink_borrower
from engine.lock import LibraryBusy
from engine.matching import REASON_TEXT, IntakeReason
from engine.person import person_to_record
from engine.recycle_bin import (RecycleBinError, RecycledBorrower, list_recycled, purge_recycled, purgeable,
                                release_hold)
from engine.recycle_bin import restore as restore_recycled
from engine.removals import removals
from engine.report import TIER_NAMES, SyncReport
from engine.run_status import RunOutcome, SyncStage
from engine.runlog import log_problem, logged_warnings
from engine.runs import (KINDS as RUN_CHANGE_KINDS, ROW as WHOLE_ROW, RunDetail, RunLine, RunUndoRefused, UndoItem,
                         UndoResult, list_runs, show_run, undo_run)
from engine.safe_text import one_line, stack_only
from engine.session import CommitFailed, connect_library, open_library, transaction
from engine.statuses import (DECIDABLE, FIELD_LABELS, OPEN_INTAKE, BorrowerStatus, DecisionAction, IntakeStatus,
                             field_label)
from engine.suggest import PROBABLE_DUPLICATE, SuggestionIndex
from engine.sync import PreparedSync, PreviewOutdated, apply_sync, prepare_sync, run_sync
from engine.export import ExportError
from engine.feeds.fetched import Fetched, StaleFeed
from engine.source import NotAFeed, fetch_snapshot
from engine.text import whole_number, year_number
from engine.users import current_user

__all__ = [
    # opening the library
    "open_library", "transaction", "connect", "connect_library",
    # the sync
    "prepare_sync", "apply_sync", "run_sync", "PreparedSync", "SyncReport", "RunCounts", "TIER_NAMES",
    # live feeds: fetching a snapshot only (mislink fetch)
    "fetch_snapshot", "Fetched", "ExportError", "StaleFeed", "NotAFeed",
    # Intake
    "list_entries", "show_entry", "compare_suggestions", "search_borrowers", "load_index", "refresh_best_scores",
    "decide", "make_decision", "undo_last", "undo_decision_by_id", "recent_decisions", "DECISIONS_SHOWN",
    "IntakeItem", "IntakeDetail", "BorrowerHit", "Candidate", "ComparedField", "EntryComparison", "Decision",
    "DecisionLine", "Doubt", "SuggestionIndex", "PROBABLE_DUPLICATE", "REASON_TEXT",
    # history
    "change_marker", "recent_runs", "run_events", "logged_warnings", "ChangeMarker", "RunSummary", "EventLine",
    "EventPage", "DECISIONS",
    # runs: what each changed, and undoing a whole one
    "list_runs", "show_run", "undo_run", "RunLine", "RunDetail", "UndoResult", "UndoItem", "RUN_CHANGE_KINDS",
    "WHOLE_ROW", "RunUndoRefused",
    # recycle bin, borrower import, removals
    "list_recycled", "restore_recycled", "release_hold", "purgeable", "purge_recycled", "RecycledBorrower",
    # a Koha library: its attribute types
    "setup_koha",
    # taking a borrower's MIS link off by hand
    "unlink_borrower", "Unlinked",
    "import_borrowers", "ImportResult", "RowProblem", "removals",
    # settings
    "Config", "ConfigProblem", "SECTIONS", "load_config", "save_config", "replace_section", "mask_url",
    # named values
    "IntakeStatus", "ALL_INTAKE", "BorrowerStatus", "DecisionAction", "IntakeReason", "RunOutcome", "SyncStage",
    "OPEN_INTAKE", "DECIDABLE", "FIELD_LABELS", "field_label",
    # refusals and failures
    "Refusal", "IntakeError", "NeedsForce", "EntryChanged", "LibraryBusy", "LibraryMissing", "ConfigError",
    "RecycleBinError", "ImportFileError", "PreviewOutdated", "CommitFailed", "UnlinkRefused",
    "KohaMismatch", "KohaRefused", "NextStep",
    # showing results and who is acting
    "current_user", "driver_reason", "log_problem", "one_line", "person_to_record", "stack_only", "whole_number",
    "year_number",
]
