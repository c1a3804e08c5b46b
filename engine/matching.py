"""Automatic matching: which existing borrower is this incoming person?

Only certain matches are made here, in this order and nothing more:

1. link: a borrower already linked to this MIS person (person type + MIS id,
   IdaasId or ExternalId);
2. upn: UPN or FormerUPN equal, unless the dates of birth contradict;
3. name_dob: forename, surname and date of birth all equal after normalising,
   to exactly one unlinked borrower, with no second borrower (or incoming
   person) sharing surname and date of birth: twins are never guessed at.

A name alone never matches, a borrower linked to a different MIS person is
never taken over, and a borrower claimed by two incoming people goes to
neither. Everyone else goes to Intake with the reason. Pure functions: the
library is passed in as plain rows, nothing is read or written here.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable, Mapping

from engine.person import Person, PersonKey
from engine.text import name_key
from engine.upn import is_valid_upn


class Tier(StrEnum):
    LINK = "link"
    UPN = "upn"
    NAME_DOB = "name_dob"
    FUZZY = "fuzzy"  # only with intake.auto_accept_score set; see engine.suggest.auto_accept
    # A borrower whose MIS person is gone after a change of MIS, moved to the
    # same person's new record (engine.rekey).
    REKEY = "rekey"


class IntakeReason(StrEnum):
    NO_MATCH = "no_match"
    POSSIBLE_TWIN = "possible_twin"
    CONFLICTING_IDS = "conflicting_ids"
    DUPLICATE_UPN = "duplicate_upn"
    UPN_DOB_MISMATCH = "upn_dob_mismatch"
    LINKED_ELSEWHERE = "linked_elsewhere"
    CONTESTED = "contested"


REASON_TEXT = {
    IntakeReason.NO_MATCH: "no borrower matches automatically (a new pupil, or typed differently)",
    IntakeReason.POSSIBLE_TWIN: "name and date of birth match, but a twin shares surname and date of birth",
    IntakeReason.CONFLICTING_IDS: "the MIS ids point at different borrowers",
    IntakeReason.DUPLICATE_UPN: "more than one borrower has this UPN",
    IntakeReason.UPN_DOB_MISMATCH: "a borrower has this UPN but a different date of birth",
    IntakeReason.LINKED_ELSEWHERE: "the borrower with this name and date of birth is linked to another MIS person",
    IntakeReason.CONTESTED: "another incoming record matches the same borrower",
}


@dataclass(frozen=True)
class Match:
    borrower_id: int
    tier: Tier


@dataclass(frozen=True)
class Unmatched:
    reason: IntakeReason
    detail: str = ""


Row = Mapping[str, object]

# The columns that link a borrower to an MIS person.
LINK_COLUMNS = ("mis_person_type", "mis_id", "idaas_id", "external_id")
# Why the sync recycles a borrower whose MIS person has gone from the MIS
# (rather than being marked as a leaver there).
NOT_IN_EXPORT = "no longer in the MIS export"
DELETED_IN_MIS = "deleted in the MIS"


def linked_key(row: Row) -> PersonKey | None:
    if row["mis_id"] and row["mis_person_type"]:
        return (row["mis_person_type"], row["mis_id"])
    return None


def linked_elsewhere(row: Row, person: Person) -> bool:
    """Does the borrower carry an MIS identity that is not this person's? Any
    of MIS id, IdaasId or ExternalId counts: a borrower known only by its
    IdaasId is as much linked as one with an MIS id."""
    key = linked_key(row)
    if key is not None and key != person.key:
        return True
    for column, own in (("idaas_id", person.idaas_id), ("external_id", person.external_id)):
        stored = row[column]
        if stored and (not own or str(stored).casefold() != own.casefold()):
            return True
    return False


def link_gone(row: Row) -> bool:
    """Is the borrower linked to an MIS person who has gone from the MIS? It
    was recycled because that person was absent from a full export, or
    deleted there, and no sync has found them since (a sync that does
    restores it). Such a link may be moved by hand to another MIS record."""
    return (row["status"] == "recycled" and row.get("recycled_reason") in (NOT_IN_EXPORT, DELETED_IN_MIS)
            and (linked_key(row) is not None or bool(row["idaas_id"] or row["external_id"])))


class LibraryIndex:
    """Borrowers indexed by every key the automatic tiers look up."""

    def __init__(self, borrowers: Iterable[Row]):
        self.rows: dict[int, Row] = {}
        self.by_link: dict[tuple, int] = {}
        self.by_upn: dict[str, list[int]] = defaultdict(list)
        self.by_name_dob: dict[tuple, list[int]] = defaultdict(list)
        self.surname_dob_count: Counter = Counter()
        for row in borrowers:
            borrower_id = row["id"]
            self.rows[borrower_id] = row
            key = linked_key(row)
            if key:
                self.by_link[("mis", *key)] = borrower_id
            for column in ("idaas_id", "external_id"):
                if row[column]:
                    self.by_link[(column, str(row[column]).casefold())] = borrower_id
            if is_valid_upn(row["upn"]):
                self.by_upn[row["upn"]].append(borrower_id)
            if row["date_of_birth"]:
                surnames = name_keys(row["surname"], row["legal_surname"], row["preferred_surname"])
                forenames = name_keys(row["forename"], row["legal_forename"], row["preferred_forename"])
                for surname in surnames:
                    self.surname_dob_count[(row["borrower_type"], surname, row["date_of_birth"])] += 1
                    for forename in forenames:
                        self.by_name_dob[(row["borrower_type"], forename, surname, row["date_of_birth"])].append(
                            borrower_id)

    def linked(self, person: Person) -> set[int]:
        found = {self.by_link.get(("mis", *person.key))}
        if person.idaas_id:
            found.add(self.by_link.get(("idaas_id", person.idaas_id.casefold())))
        if person.external_id:
            found.add(self.by_link.get(("external_id", person.external_id.casefold())))
        found.discard(None)
        return found


def name_keys(*names: object) -> set[str]:
    """The names as the name and date of birth tier compares them (``name_key``), blanks left out."""
    return {name_key(n) for n in names if n} - {""}


def match_people(people: list[Person], index: LibraryIndex) -> dict[PersonKey, Match | Unmatched]:
    incoming_twins = Counter((p.person_type, s, p.date_of_birth) for p in people if p.date_of_birth
                             for s in name_keys(*p.surnames()))
    results: dict[PersonKey, Match | Unmatched] = {}
    for person in people:
        results[person.key] = (_by_link(person, index) or _by_upn(person, index)
                               or _by_name_dob(person, index, incoming_twins)
                               or Unmatched(IntakeReason.NO_MATCH))
    return _one_to_one(results, index)


def _by_link(person: Person, index: LibraryIndex) -> Match | Unmatched | None:
    found = index.linked(person)
    if not found:
        return None
    if len(found) > 1:
        barcodes = _barcodes(index, found)
        return Unmatched(IntakeReason.CONFLICTING_IDS, f"borrowers {barcodes}")
    borrower_id = found.pop()
    other = linked_key(index.rows[borrower_id])
    if other is not None and other != person.key:
        return Unmatched(IntakeReason.CONFLICTING_IDS,
                         f"borrower {index.rows[borrower_id]['barcode']} is linked to {other[0]} {other[1]}")
    return Match(borrower_id, Tier.LINK)


def _by_upn(person: Person, index: LibraryIndex) -> Match | Unmatched | None:
    upns = {u for u in (person.upn, person.former_upn) if is_valid_upn(u)}
    candidates = {b for u in upns for b in index.by_upn.get(u, ()) if not linked_elsewhere(index.rows[b], person)}
    if not candidates:
        return None
    if len(candidates) > 1:
        barcodes = _barcodes(index, candidates)
        return Unmatched(IntakeReason.DUPLICATE_UPN, f"borrowers {barcodes}")
    borrower_id = candidates.pop()
    stored_dob = index.rows[borrower_id]["date_of_birth"]
    if stored_dob and person.date_of_birth and stored_dob != person.date_of_birth:
        return Unmatched(IntakeReason.UPN_DOB_MISMATCH, f"borrower {index.rows[borrower_id]['barcode']}")
    return Match(borrower_id, Tier.UPN)


def _by_name_dob(person: Person, index: LibraryIndex, incoming_twins: Counter) -> Match | Unmatched | None:
    dob = person.date_of_birth
    if dob is None:
        return None
    kind = person.person_type.value
    surnames, forenames = name_keys(*person.surnames()), name_keys(*person.forenames())
    candidates = {b for s in surnames for f in forenames for b in index.by_name_dob.get((kind, f, s, dob), ())
                  if not _genders_differ(person.gender, index.rows[b]["gender"])}
    if not candidates:
        return None
    free = {b for b in candidates if not linked_elsewhere(index.rows[b], person)}
    if not free:
        barcodes = _barcodes(index, candidates)
        return Unmatched(IntakeReason.LINKED_ELSEWHERE, f"borrowers {barcodes}")
    twins_in_library = any(index.surname_dob_count[(kind, s, dob)] > 1 for s in surnames)
    twins_incoming = any(incoming_twins[(person.person_type, s, dob)] > 1 for s in surnames)
    if len(free) > 1 or twins_in_library or twins_incoming:
        barcodes = _barcodes(index, free)
        return Unmatched(IntakeReason.POSSIBLE_TWIN, f"candidates {barcodes}")
    return Match(free.pop(), Tier.NAME_DOB)


def _genders_differ(incoming: str | None, stored: object) -> bool:
    """Gender never makes a match, but a clear disagreement vetoes one."""
    return incoming in ("M", "F") and stored in ("M", "F") and incoming != stored


def _barcodes(index: LibraryIndex, borrower_ids: Iterable[int]) -> str:
    return ", ".join(sorted(str(index.rows[b]["barcode"]) for b in borrower_ids))


def _one_to_one(results: dict[PersonKey, Match | Unmatched], index: LibraryIndex) -> dict[PersonKey, Match | Unmatched]:
    claims = Counter(r.borrower_id for r in results.values() if isinstance(r, Match))
    for key, result in results.items():
        if isinstance(result, Match) and claims[result.borrower_id] > 1:
            results[key] = Unmatched(IntakeReason.CONTESTED, f"borrower {index.rows[result.borrower_id]['barcode']}")
    return results
