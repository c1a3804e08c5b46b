"""The source seam: where a sync's people come from.

A ``Source`` is what the sync reads, and all it reads. Its contract:

- ``label``: how reports, the run log and ``sync_runs.source`` name the input
  (a folder, a URL): never a secret, at most a line.
- ``read()`` returns an ``Export`` (engine.export), everything parsed and
  validated before anything is written:
  - ``persons``: the usable people records; ``rejections``: each unusable
    record with file, record, field and reason; ``warnings``;
  - ``present``: everyone mentioned, usable or not (nobody named is a leaver);
    ``deleted``: leavers the input names (a delta's ``*_deleted``);
    ``complete``: per person type, whether absence means leaving;
  - ``estab``: the school's establishment number (None if not said);
  - ``kind``: ``ExportKind`` full, partial or delta;
  - ``extract_time`` and ``mis_name``: when and from which MIS the data was
    extracted (Xporter's ``meta``), None when unknown;
  - ``digest``: a sha256 of exactly the input read, computed as it is read.
  An input that cannot be used at all raises ``ExportError`` naming what and
  where (a file, an endpoint and page): nothing is written.
- ``digest_now()`` returns the digest the same input has now, cheaply and
  without parsing it. ``apply_sync`` compares it with the prepared digest and
  refuses to apply a plan whose input has moved. A source that fetches (XoD,
  Wonde) saves what it fetched and digests that snapshot, which never moves:
  applying never needs a second fetch.

A source that came from a live feed also says, after ``read()``:
``snapshot``, the snapshot folder it read (else None), and ``next_delta``, the
feed's state for its next delta, which the sync stores only when the run
commits (engine.feeds.fetched).

``source_for(config)`` chooses the implementation from ``source.kind``:
``xporter-folder``, a ``FolderSource``; ``xod`` and ``wonde``, a ``FeedSource``
that fetches from Xporter on Demand or Wonde into a snapshot (engine.feeds)
and reads that. Given
``snapshot``, it replays that saved snapshot folder whatever the kind.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Callable, Protocol

from engine.config import Config, DataSettings
from engine.errors import Refusal
from engine.export import Export, ExportKind, folder_digest, read_export
from engine.feeds.fetched import Fetched, PageProgress, last_delta
from engine.feeds import http

__all__ = ["ExportKind", "FeedSource", "FolderSource", "NotAFeed", "Source", "fetch_snapshot", "source_for"]


class Source(Protocol):
    label: str

    def read(self) -> Export: ...

    def digest_now(self) -> str: ...


class FolderSource:
    """A folder of Xporter endpoint files, as ``README.md`` describes; with
    ``snapshot``, a feed's saved snapshot being replayed."""
    next_delta: str | None = None

    def __init__(self, path: Path, data: DataSettings, today: date | None = None, *, snapshot: bool = False):
        self.path, self.data, self.today = Path(path), data, today
        self.label = str(path)
        self.snapshot = self.path if snapshot else None

    def read(self) -> Export:
        return read_export(self.path, self.data, self.today)

    def digest_now(self) -> str:
        return folder_digest(self.path, self.data)


class FeedSource:
    """A live feed: ``read()`` fetches into a new snapshot folder, then reads
    that folder as any export folder is read. The digest is the snapshot's,
    which never moves: applying a previewed plan never fetches again."""

    def __init__(self, config: Config, fetch: Callable[..., Fetched], today: date | None = None, *,
                 pages: PageProgress | None = None, settings: http.HttpSettings | None = None,
                 now: datetime | None = None):
        self.config, self.fetch, self.today, self.pages, self.now = config, fetch, today, pages, now
        self.settings = settings
        source = config.source
        self.label = f"{source.kind} {source.url or 'default URL'} school {source.estab or source.school_id}"
        self.snapshot: Path | None = None
        self.next_delta: str | None = None

    def read(self) -> Export:
        fetched = self.fetch(self.config, last_delta(self.config), pages=self.pages, now=self.now,
                             http=self.settings or http.DEFAULT_SETTINGS)
        self.snapshot, self.next_delta = fetched.snapshot, fetched.next_delta
        export = read_export(fetched.snapshot, self.config.data, self.today)
        export.warnings[:0] = fetched.warnings
        return export

    def digest_now(self) -> str:
        return folder_digest(self.snapshot, self.config.data) if self.snapshot else ""


class NotAFeed(Refusal):
    """``fetch`` with ``source.kind`` a folder: there is nothing to fetch."""


def fetch_snapshot(config: Config, *, pages: PageProgress | None = None) -> Fetched:
    """Fetch the school's feed into a new snapshot folder and nothing more
    (``mislink fetch``): what the next sync would fetch; no delta state is
    stored. Raises ``ExportError`` (a ``FeedError``: nothing kept),
    ``StaleFeed`` or ``NotAFeed``."""
    fetch = _feeds().get(config.source.kind)
    if fetch is None:
        raise NotAFeed(f"source.kind is {config.source.kind!r}: there is no live feed to fetch")
    return fetch(config, last_delta(config), pages=pages, http=http.DEFAULT_SETTINGS)


def _feeds() -> dict[str, Callable[..., Fetched]]:
    from engine.feeds.wonde import fetch_wonde
    from engine.feeds.xod import fetch_xod  # the feeds load only when one is used

    return {"xod": fetch_xod, "wonde": fetch_wonde}


def source_for(config: Config, today: date | None = None, *, snapshot: Path | None = None,
               pages: PageProgress | None = None) -> Source:
    if snapshot is not None:
        return FolderSource(snapshot, config.data, today, snapshot=True)
    fetch = _feeds().get(config.source.kind)
    if fetch is not None:
        return FeedSource(config, fetch, today, pages=pages)
    return FolderSource(config.source_path, config.data, today)
