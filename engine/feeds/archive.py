"""Snapshot folders: what a feed fetched, kept as an export folder.

Every fetch writes a new folder under the archive (``source.archive``), named
by the time it started (UTC, ``20261201-050517``), in the export-folder
format the folder reader reads: one ``<Endpoint>.json`` per endpoint, a JSON
list of the pages as they arrived. Pages are written as they arrive, so a
fetch holds one page in memory at a time.

- The folder is private to its owner (0700) and so is every file (0600): a
  snapshot holds the school's personal data.
- A fetch writes into ``<name>.partial`` and ``Snapshot.complete()`` renames
  it; ``Snapshot.discard()`` removes a fetch that failed. A snapshot folder
  without ``.partial`` is therefore always a whole fetch.
- ``prune(archive, keep_days)`` removes whole snapshots older than that, and
  never anything else in the folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

NAME_FORMAT = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(\d{8}-\d{6})(-\d+)?(\.partial)?$")
PARTIAL = ".partial"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class EndpointFile:
    """One endpoint's file, open for its pages: ``add(page)`` each, then ``close()``."""

    def __init__(self, path: Path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "w", encoding="utf-8")
        self._file.write("[")
        self.pages = 0

    def add(self, page: dict) -> None:
        self._file.write(",\n" if self.pages else "\n")
        json.dump(page, self._file, ensure_ascii=False)
        self.pages += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.write("\n]\n")
            self._file.close()


class Snapshot:
    """A snapshot being written. ``path`` is where it will be once complete."""

    def __init__(self, archive: Path, now: datetime | None = None):
        archive.mkdir(parents=True, exist_ok=True)
        stamp = (now or _now()).astimezone(timezone.utc).strftime(NAME_FORMAT)
        name, n = stamp, 1
        while (archive / name).exists() or (archive / f"{name}{PARTIAL}").exists():
            n += 1
            name = f"{stamp}-{n}"
        self.path = archive / name
        self.partial = archive / f"{name}{PARTIAL}"
        self.partial.mkdir(mode=0o700)
        self.partial.chmod(0o700)  # whatever the umask
        self._open: list[EndpointFile] = []

    def endpoint(self, name: str) -> EndpointFile:
        file = EndpointFile(self.partial / f"{name}.json")
        self._open.append(file)
        return file

    def complete(self) -> Path:
        for file in self._open:
            file.close()
        self.partial.rename(self.path)
        return self.path

    def discard(self) -> None:
        for file in self._open:
            file.close()
        shutil.rmtree(self.partial, ignore_errors=True)


def snapshot_time(path: Path) -> datetime | None:
    """When a snapshot (or one being written) was started, from its name."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), NAME_FORMAT).replace(tzinfo=timezone.utc)


def prune(archive: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Remove the snapshots started more than ``keep_days`` ago; the removed."""
    if not archive.is_dir():
        return []
    cutoff = (now or _now()) - timedelta(days=keep_days)
    removed = []
    for path in sorted(archive.iterdir()):
        started = snapshot_time(path)
        if started is not None and started < cutoff and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            removed.append(path)
    return removed
