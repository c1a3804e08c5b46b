"""A run's outcome and a sync's stages, as named values.

Both are ``StrEnum``: each value is the string the engine used before, so the
values stored in ``sync_runs.outcome``, the run log, the JSON report and any
caller that still compares with a plain string all see exactly what they did.
"""
from __future__ import annotations

from enum import StrEnum


class RunOutcome(StrEnum):
    OK = "ok"
    # Planned and reported, nothing written: a preview (``prepare_sync``).
    DRY_RUN = "dry-run"
    # Nothing written: an error, or a commit the library did not save.
    FAILED = "failed"
    # Nothing written on purpose: a safety guard stopped it, or the preview it
    # was to apply is out of date (exit code 3 either way).
    REFUSED = "refused"
    # Nothing written: another mislink process holds the library lock.
    LOCKED = "locked"


class SyncStage(StrEnum):
    """What a sync reports through ``progress``, in this order."""
    READING_EXPORT = "reading the export"
    READING_LIBRARY = "reading the library"
    PLANNING = "planning"
    WRITING = "writing"
    SCORING = "scoring Intake suggestions"
