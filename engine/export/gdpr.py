"""The people a school has excluded from this app (GDPR): Xporter's
``GDPRIDs`` answer, read by the XoD fetcher and by the folder reader alike.

``excluded_ids(entries)`` takes the answer's ``GDPR`` entries and returns,
per kind of person (``student``, ``staff``, ``contact``), the MIS ids
excluded, with warnings. Every entry counts, whatever its ``Estab`` says: the
list is the school's own, and leaving out too many is safer than too few. An
opt-in list (``IsOptIn`` true) is not interpreted (feeds.md): a warning.
``without_excluded(endpoint, result_set, records, excluded)`` is those
records less every one naming an excluded person: a person's own record,
their comms, photo, guardian links and group memberships (``ABOUT``).
"""
from __future__ import annotations

from typing import Iterable, Mapping

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


# Per endpoint: the result sets holding records about people, and for each the
# (kind of person, id field) pairs that name them. PersonComms and Photos name
# the kind in PersonType.
ABOUT = {
    "Students": {"Students": (("student", "Id"),)},
    "Staff": {"Staff": (("staff", "Id"),)},
    "Contacts": {"Contacts": (("contact", "Id"),)},
    "StudentContacts": {"StudentContacts": (("student", "StudentId"), ("contact", "ContactId"))},
    "PersonComms": {"PersonComms": ((None, "PersonId"),)},
    "Photos": {"Photos": ((None, "PersonId"),)},
    "Groups": {"StaffMembers": (("staff", "StaffId"),), "StudentMembers": (("student", "StudentId"),)},
}


def without_excluded(endpoint: str, result_set: str, records: list, excluded: Mapping[str, set[str]]) -> list:
    """``records`` (of this endpoint's ``result_set``) less those naming an excluded person."""
    names = next((n for r, n in ABOUT.get(endpoint, {}).items() if r.casefold() == result_set.casefold()), None)
    if names is None or not any(excluded.values()):
        return records
    return [r for r in records if not (isinstance(r, dict) and _names(r, names, excluded))]


def _names(record: dict, names: Iterable[tuple[str | None, str]], excluded: Mapping[str, set[str]]) -> bool:
    for kind, id_field in names:
        kind = kind or str(_field(record, "PersonType") or "").strip().casefold()
        if str(_field(record, id_field) or "").strip() in excluded.get(kind, ()):
            return True
    return False


def _field(record: dict, key: str) -> object:
    folded = key.casefold()
    return next((v for k, v in record.items() if k.casefold() == folded), None)
