"""The people a school has excluded from this app (GDPR): Xporter's
``GDPRIDs`` answer, read by the XoD fetcher and by the folder reader alike.

``excluded_ids(entries)`` takes the answer's ``GDPR`` entries and returns,
per kind of person (``student``, ``staff``, ``contact``), the MIS ids
excluded, with warnings. Every entry counts, whatever its ``Estab`` says: the
list is the school's own, and leaving out too many is safer than too few. An
opt-in list (``IsOptIn`` true) is not interpreted (feeds.md): a warning.
"""
from __future__ import annotations

from typing import Iterable

ENDPOINT = "GDPRIDs"
KINDS = {"student": "StudentIds", "staff": "StaffIds", "contact": "ContactIds"}


def excluded_ids(entries: Iterable[object]) -> tuple[dict[str, set[str]], list[str]]:
    excluded: dict[str, set[str]] = {kind: set() for kind in KINDS}
    warnings = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("IsOptIn"):
            warnings.append(f"{ENDPOINT}: an opt-in list is not interpreted; nobody was left out for it")
            continue
        for kind, key in KINDS.items():
            ids = entry.get(key)
            if isinstance(ids, list):
                excluded[kind].update(str(i).strip() for i in ids
                                       if i is not None and str(i).strip())
    return excluded, warnings
