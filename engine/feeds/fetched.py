"""What every live feed shares: the result of a fetch, page progress, and the
delta state the last committed run left.

A feed is a function ``fetch(config, previous, *, pages, now, http) ->
Fetched`` (``engine.feeds.xod.fetch_xod``): ``previous`` is
``last_delta(config)``, the ``next_delta`` the last committed sync stored; the
sync stores the new ``Fetched.next_delta`` only when its own run commits, so a
failed run asks for the same changes again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.config import Config
from engine.errors import Refusal
from engine.koha.bridge import connect_library
from engine.models import SyncRun
from engine.run_status import RunOutcome

# (endpoint, pages done, page count), as each page arrives.
PageProgress = Callable[[str, int, int], None]


class StaleFeed(Refusal):
    """The school's data was extracted too long ago to act on: the run stops
    as a safety guard stops it (refused, exit 3)."""


@dataclass
class Fetched:
    # The complete snapshot folder (engine.feeds.archive).
    snapshot: Path
    # The delta state for the next run, to store once this run commits.
    next_delta: str | None
    # Everything fetched (not a delta)?
    full: bool
    # How many people the school excluded (GDPR) were left out.
    excluded: int = 0
    warnings: list[str] = field(default_factory=list)


def last_delta(config: Config) -> str | None:
    """The ``next_delta`` of the library's last committed sync, None if it
    stored none (a folder sync, a replay) or the library cannot say: then
    the feed fetches everything, which is always safe."""
    try:
        engine = connect_library(config)
    except (SQLAlchemyError, Refusal):  # the sync itself says why the library cannot be used
        return None
    try:
        with Session(engine) as session:
            return session.scalars(select(SyncRun.next_delta).where(SyncRun.kind == "sync",
                                                                    SyncRun.outcome == RunOutcome.OK)
                                   .order_by(SyncRun.id.desc()).limit(1)).first()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
