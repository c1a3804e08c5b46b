"""A change of MIS (SIMS to Arbor, Bromcom…): noticing it, and what re-keying means.

When a school moves MIS, every MIS id, IdaasId and ExternalId changes and the
UPN survives. Left to the usual rules, every linked borrower would look like a
leaver and every person like a stranger: recycled, and put in Intake.

``detect_mis_change`` notices the change, either way it shows:

- the export's MIS product differs from the last successful sync's, both
  known: the MIS name (Xporter's ``meta[0].MIS``, Wonde's school ``mis``) as
  ``mis_product`` names it, so that XoD's ``simsnet`` and Wonde's ``SIMS``
  are one product and a school moving feed is no change of MIS; or
- in a full export, over half of a person type's linked active borrowers (and
  at least ``MIN_MISSING``) have lost their MIS person, and the UPNs of over
  half of those are in the export under new ids.

A borrower has lost its MIS person (its link is *stale*) when its type's
export is full and either nobody in it has the borrower's MIS id, IdaasId or
ExternalId, or the one person who has contradicts the borrower (another UPN,
date of birth, or no name in common): after a change of MIS an id can come
back as somebody else's.

Re-keying, once a change is detected, treats every stale link as gone: the
planner (``engine.plan``) matches against the library as ``without_links``
shows it, so the usual certain tiers (``engine.matching``) find each such
borrower's new record: UPN or FormerUPN one-to-one with no contradicting date
of birth, or forename, surname and date of birth one-to-one with no twin
(staff, who have no UPN). Such a match is a re-link (``Tier.REKEY``): the
borrower's link columns become exactly the new record's (``link_moves``). A
stale borrower nobody matches has its old link cleared (its ids mean nothing
in the new MIS, and could come back as somebody else's), and, if active, is
recycled as a leaver.

Intake entries are keyed by MIS id too (``rekey_entries``): an entry whose
person is gone from the export, or whose id is now someone else's, moves to
its person's new record where the same certain tiers find it one-to-one, so
a person waiting, confirmed new or rejected stays so; an entry whose id is
now someone else's and who is not found keeps its old id marked with the MIS
it came from ("simsnet:3116"), so the id is free for its new owner. Pure:
plain rows and people in, plain values out.
"""
from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from engine.matching import LINK_COLUMNS, LibraryIndex, Match, Tier, linked_key, match_people, name_keys
from engine.models import IntakeEntry, SyncRun
from engine.person import Person, PersonKey, PersonType
from engine.records import stored_person
from engine.safe_text import one_line
from engine.text import fit_text
from engine.upn import is_valid_upn

# Fewer missing links than this is a handful of leavers, never a change of MIS.
MIN_MISSING = 10
# How much of an MIS name a message quotes: it comes from the export.
NAME_WIDTH = 40
MIS_NAME, MISSING_IDS = "mis_name", "missing_ids"
ID_WIDTH = IntakeEntry.__table__.c.mis_id.type.length
_NOUNS = {PersonType.STUDENT: "pupils", PersonType.STAFF: "staff"}


def _people(n: int, person_type: PersonType) -> str:
    """"1,024 pupils", "1 pupil", "61 staff"."""
    noun = "pupil" if person_type is PersonType.STUDENT and n == 1 else _NOUNS[person_type]
    return f"{n:,} {noun}"
_HOW = {Tier.UPN: "by UPN", Tier.NAME_DOB: "by name and date of birth", Tier.FUZZY: "by a close match"}


@dataclass(frozen=True)
class Missing:
    """One person type's missing links, as the missing-majority rule counts them."""
    person_type: PersonType
    missing: int
    linked: int
    # How many of the missing borrowers' UPNs the export holds under new ids.
    upns_found: int


@dataclass(frozen=True)
class NotRelinked:
    barcode: str
    reason: str


@dataclass
class MisChange:
    """A detected change of MIS and, once planned, what re-keying does."""
    old_mis: str | None
    new_mis: str | None
    detected_by: str  # MIS_NAME or MISSING_IDS
    # Borrower id -> why its link is stale (see the module docstring).
    stale: dict[int, str]
    missing: tuple[Missing, ...] = ()
    # Filled by the planner: (person type, tier that found them) -> re-links.
    relinked: Counter = field(default_factory=Counter)
    not_relinked: list[NotRelinked] = field(default_factory=list)
    recycled: int = 0
    # Intake entries whose key moves (``rekey_entries``): id -> (the entry,
    # the person it moves to, or its own record under its marked old id).
    entry_moves: dict[int, tuple[dict, Person]] = field(default_factory=dict)
    # How many of those moved to their person's new record.
    entries_rekeyed: int = 0

    @property
    def needs_rekey(self) -> bool:
        """Does applying this plan move or clear any link? Then a person must
        say so (``--rekey``); an MIS renamed with its ids kept needs nothing."""
        return bool(self.stale)

    @property
    def why(self) -> str:
        if self.detected_by == MIS_NAME:
            return f"the export is from {self.new_mis}, but earlier syncs were from {self.old_mis}"
        return "; ".join(f"{m.missing:,} of {m.linked:,} linked {_NOUNS[m.person_type]} are missing from the "
                         f"export, and {m.upns_found:,} of their UPNs are in it under new MIS ids"
                         for m in self.missing)

    @property
    def summary(self) -> str:
        """"MIS change: 1,024 pupils re-linked by UPN, 61 staff by name and
        date of birth, 0 recycled", with any other kind of re-link that
        happened named before the recycled."""
        parts = [f"{_people(self.relinked[(PersonType.STUDENT, Tier.UPN)], PersonType.STUDENT)} re-linked by UPN"]
        extra = [(PersonType.STUDENT, Tier.NAME_DOB), (PersonType.STUDENT, Tier.FUZZY),
                 (PersonType.STAFF, Tier.UPN), (PersonType.STAFF, Tier.FUZZY)]
        parts += [f"{_people(self.relinked[k], k[0])} {_HOW[k[1]]}" for k in extra[:2] if self.relinked[k]]
        parts.append(f"{self.relinked[(PersonType.STAFF, Tier.NAME_DOB)]:,} staff by name and date of birth")
        parts += [f"{_people(self.relinked[k], k[0])} {_HOW[k[1]]}" for k in extra[2:] if self.relinked[k]]
        parts.append(f"{self.recycled:,} recycled")
        return "MIS change: " + ", ".join(parts)

    def to_json(self) -> dict:
        return {"old_mis": self.old_mis, "new_mis": self.new_mis, "detected_by": self.detected_by,
                "why": self.why, "summary": self.summary,
                "pupils_by_upn": self.relinked[(PersonType.STUDENT, Tier.UPN)],
                "staff_by_name_dob": self.relinked[(PersonType.STAFF, Tier.NAME_DOB)],
                "relinked": sum(self.relinked.values()),
                "relinked_by": {f"{t.value}_{tier.value}": n for (t, tier), n in sorted(self.relinked.items())},
                "stale_links": len(self.stale), "not_relinked": [vars(n) for n in self.not_relinked],
                "recycled": self.recycled, "intake_rekeyed": self.entries_rekeyed}


# The names the feeds give one MIS product (folded: lower case, spaces
# collapsed) -> the product. XoD says ``simsnet``, Wonde e.g. ``SIMS``.
MIS_PRODUCTS = {"simsnet": "sims", "sims": "sims", "sims .net": "sims", "sims.net": "sims", "capita sims": "sims",
                "arbor": "arbor", "bromcom": "bromcom", "scholarpack": "scholarpack"}


def mis_product(name: str) -> str:
    """The MIS product a feed's MIS name stands for; a name not known is its
    own product, without case and with its spaces collapsed."""
    folded = " ".join(name.split()).casefold()
    return MIS_PRODUCTS.get(folded, folded)


def same_mis(incoming: str, stored: str) -> bool:
    """Is the export's MIS the product a run recorded? The incoming name is
    taken as the run stores it (one line, cut to its column)."""
    as_stored = one_line(incoming, SyncRun.__table__.c.mis_name.type.length)
    return mis_product(as_stored) == mis_product(stored)


def detect_mis_change(export, people: list[Person], index: LibraryIndex,
                      last_mis: str | None) -> MisChange | None:
    """The change of MIS this export shows against the library, if it shows
    one. ``export`` is an ``engine.export.Export``; ``people`` its usable
    people; ``index`` the library as it is."""
    stale = stale_links(export, people, index)
    new_mis = export.mis_name
    if new_mis and last_mis and not same_mis(new_mis, last_mis):
        return MisChange(fit_text(last_mis, NAME_WIDTH), fit_text(new_mis, NAME_WIDTH), MIS_NAME, stale)
    missing = tuple(m for m in (_missing_by_type(export, people, index, stale) if stale else ())
                    if m.missing >= MIN_MISSING and 2 * m.missing > m.linked and 2 * m.upns_found > m.missing)
    if not missing:
        return None
    shown = fit_text(new_mis, NAME_WIDTH) if new_mis else None
    return MisChange(shown, shown, MISSING_IDS, stale, missing)


def stale_links(export, people: list[Person], index: LibraryIndex) -> dict[int, str]:
    """Borrower id -> why its link is stale, for every borrower linked to an
    MIS person of a type whose export is full."""
    claimed: dict[int, list[Person]] = defaultdict(list)
    for person in people:
        for borrower_id in index.linked(person):
            claimed[borrower_id].append(person)
    stale = {}
    for borrower_id, row in index.rows.items():
        key = linked_key(row)
        if key is None or not export.complete.get(PersonType(key[0])):
            continue
        claims = claimed.get(borrower_id, [])
        if not claims and (PersonType(key[0]), key[1]) not in export.present:
            stale[borrower_id] = "its MIS person is not in the export"
        elif len(claims) == 1 and contradicts(claims[0], row):
            stale[borrower_id] = f"its MIS id is now {claims[0].person_type} {claims[0].mis_id}'s, another person"
    return stale


def contradicts(person: Person, row: Mapping) -> bool:
    """Is this plainly not the borrower's person: a different UPN (both
    valid), a different date of birth, or neither forename nor surname in
    common?"""
    if row["upn"] and row["upn"] in (person.upn, person.former_upn) and (
            person.date_of_birth == row["date_of_birth"]):
        return False  # the nightly case: the same UPN and date of birth are the same pupil
    upns = {u for u in (person.upn, person.former_upn) if is_valid_upn(u)}
    if upns and is_valid_upn(row["upn"]) and row["upn"] not in upns:
        return True
    if person.date_of_birth and row["date_of_birth"] and person.date_of_birth != row["date_of_birth"]:
        return True
    forenames = name_keys(row["forename"], row["legal_forename"], row["preferred_forename"])
    surnames = name_keys(row["surname"], row["legal_surname"], row["preferred_surname"])
    return not (forenames & name_keys(*person.forenames()) or surnames & name_keys(*person.surnames()))


def _missing_by_type(export, people: list[Person], index: LibraryIndex, stale: dict[int, str]) -> list[Missing]:
    upns = defaultdict(set)
    for person in people:
        upns[person.person_type].update(u for u in (person.upn, person.former_upn) if is_valid_upn(u))
    counted = []
    for person_type in PersonType:
        linked = [row for row in index.rows.values() if row["status"] == "active"
                  and (key := linked_key(row)) is not None and key[0] == person_type.value]
        missing = [row for row in linked if row["id"] in stale]
        found = sum(1 for row in missing if is_valid_upn(row["upn"]) and row["upn"] in upns[person_type])
        counted.append(Missing(person_type, len(missing), len(linked), found))
    return counted


def without_links(borrowers: Iterable[Mapping], stale: Mapping[int, str]) -> list[dict]:
    """The library as re-keying matches against it: each stale borrower's link
    columns empty, every other borrower as it is."""
    cleared = dict.fromkeys(LINK_COLUMNS)
    return [{**row, **cleared} if row["id"] in stale else row for row in borrowers]


def link_moves(row: Mapping, person: Person | None) -> list[tuple[str, object, object]]:
    """(column, old, new) for each link column that moving the borrower's
    link to ``person`` changes: the columns become exactly the person's, an
    id the person lacks cleared. ``person`` None clears the link."""
    new = dict.fromkeys(LINK_COLUMNS) if person is None else {
        "mis_person_type": person.person_type.value, "mis_id": person.mis_id,
        "idaas_id": person.idaas_id, "external_id": person.external_id}
    return [(column, row[column], value) for column, value in new.items() if row[column] != value]


def why_not_relinked(row: Mapping, index: LibraryIndex, people: list[Person]) -> str:
    """Why re-keying found no new record for this stale borrower, as the
    report says it (barcodes and MIS ids only). ``index`` is the library as
    ``without_links`` shows it."""
    upn = row["upn"] if is_valid_upn(row["upn"]) else None
    if upn is None:
        return "no one record in the export has its forename, surname and date of birth (it has no UPN)"
    others = sorted(str(index.rows[b]["barcode"]) for b in index.by_upn.get(upn, ()) if b != row["id"])
    if others:
        return f"its UPN is also borrower {', '.join(others)}'s"
    holders = [p for p in people if upn in (p.upn, p.former_upn)]
    if not holders:
        return "no record in the export has its UPN, nor one its forename, surname and date of birth"
    if len(holders) > 1:
        return f"{len(holders)} records in the export have its UPN"
    person = holders[0]
    if person.date_of_birth and row["date_of_birth"] and person.date_of_birth != row["date_of_birth"]:
        return f"its date of birth differs from that of {person.person_type} {person.mis_id}, who has its UPN"
    return f"{person.person_type} {person.mis_id}, who has its UPN, matched another borrower or was contested"


def rekey_entries(export, intake: Mapping[PersonKey, dict], change: MisChange) -> dict[PersonKey, dict]:
    """The Intake entries by person as the planner sees them after this change
    of MIS, each stale one moved (``change.entry_moves``, the module
    docstring). ``intake`` is ``Snapshot.intake``."""
    incoming = {p.key: p for p in export.persons}
    stale: dict[PersonKey, tuple[dict, Person | None, bool]] = {}
    for key, entry in intake.items():
        if not export.complete.get(key[0]):
            continue
        stored = stored_person(entry["record"])
        if key not in export.present:
            stale[key] = (entry, stored, False)
        elif key in incoming and stored is not None and contradicts(incoming[key], _as_row(entry["id"], stored)):
            stale[key] = (entry, stored, True)
    view = {key: entry for key, entry in intake.items() if key not in stale}
    candidates = [p for p in export.persons if p.key not in view]
    rows = {entry["id"]: _as_row(entry["id"], stored) for entry, stored, _ in stale.values() if stored is not None}
    found = match_people(candidates, LibraryIndex(rows.values())) if rows and candidates else {}
    entries = {entry["id"]: entry for entry, _, _ in stale.values()}
    for person in candidates:
        result = found.get(person.key)
        if isinstance(result, Match):
            view[person.key] = entries[result.borrower_id]
            change.entry_moves[result.borrower_id] = (entries[result.borrower_id], person)
    change.entries_rekeyed = len(change.entry_moves)
    for key, (entry, stored, taken) in stale.items():
        if entry["id"] in change.entry_moves:
            continue
        if taken:
            marked = f"{change.old_mis or 'old MIS'}:{stored.mis_id}"
            change.entry_moves[entry["id"]] = (entry, dataclasses.replace(stored, mis_id=fit_text(marked, ID_WIDTH)))
        else:
            view[key] = entry  # gone: withdrawn as any absent person's entry is
    return view


def _as_row(row_id: int, person: Person) -> dict:
    """A stored person as a borrower-like row, for the matching tiers and ``contradicts``."""
    return {"id": row_id, "barcode": f"Intake {row_id}", "borrower_type": person.person_type.value,
            **dict.fromkeys(LINK_COLUMNS), "upn": person.upn, "date_of_birth": person.date_of_birth,
            "gender": person.gender, "forename": person.preferred_forename, "surname": person.preferred_surname,
            "preferred_forename": person.preferred_forename, "preferred_surname": person.preferred_surname,
            "legal_forename": person.legal_forename, "legal_surname": person.legal_surname}
