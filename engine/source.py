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

``source_for(config)`` chooses the implementation from ``source.kind``; today
only ``xporter-folder``, a ``FolderSource``.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Protocol

from engine.config import Config, DataSettings
from engine.export import Export, ExportKind, folder_digest, read_export

__all__ = ["ExportKind", "FolderSource", "Source", "source_for"]


class Source(Protocol):
    label: str

    def read(self) -> Export: ...

    def digest_now(self) -> str: ...


class FolderSource:
    """A folder of Xporter endpoint files, as ``README.md`` describes."""

    def __init__(self, path: Path, data: DataSettings, today: date | None = None):
        self.path, self.data, self.today = Path(path), data, today
        self.label = str(path)

    def read(self) -> Export:
        return read_export(self.path, self.data, self.today)

    def digest_now(self) -> str:
        return folder_digest(self.path, self.data)


def source_for(config: Config, today: date | None = None) -> Source:
    return FolderSource(config.source_path, config.data, today)
