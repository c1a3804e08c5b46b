"""An Intake entry's status, a borrower's status and an Intake decision's
action, as named values, and which statuses each decision applies to.

All are ``StrEnum``: each value is the string stored before, so the values in
``intake_entries.status``, ``borrowers.status``, ``intake_decisions.action``,
the events and the JSON output, and any caller that still compares with a
plain string, all see exactly what they did. A value read back from the
library is a plain string; it compares equal to its member.
"""
from __future__ import annotations

from enum import StrEnum


class IntakeStatus(StrEnum):
    # Waiting for a decision (a sync adds or reopens an entry as pending).
    PENDING = "pending"
    # Confirmed as not yet a borrower: still waiting, for a transfer.
    NEW = "new"
    MATCHED = "matched"
    TRANSFERRED = "transferred"
    REJECTED = "rejected"
    # Gone from the MIS, or matched by a sync, before anyone decided.
    WITHDRAWN = "withdrawn"


# The entries still waiting for a decision: the queue's default listing.
OPEN_INTAKE = (IntakeStatus.PENDING, IntakeStatus.NEW)


class BorrowerStatus(StrEnum):
    ACTIVE = "active"
    # In the recycle bin: a leaver, kept until a person empties the bin.
    RECYCLED = "recycled"


class DecisionAction(StrEnum):
    """What a person decided about Intake entries (``UNDO``: reverted one)."""
    MATCH = "match"
    NEW = "new"
    TRANSFER = "transfer"
    REJECT = "reject"
    UNREJECT = "unreject"
    UNDO = "undo"


# The statuses an entry may have for each decision about it: the engine
# refuses the rest, and the TUI offers only these.
DECIDABLE = {
    DecisionAction.MATCH: OPEN_INTAKE,
    DecisionAction.NEW: (IntakeStatus.PENDING,),
    DecisionAction.TRANSFER: OPEN_INTAKE,
    DecisionAction.REJECT: OPEN_INTAKE,
    DecisionAction.UNREJECT: (IntakeStatus.REJECTED,),
}


# A field as a librarian says it, for every field a change or a comparison
# names (the sync log, its filters, the CLI's run listing). Any other field
# reads as its words (``field_label``), never as an underscored code.
FIELD_LABELS = {
    "barcode": "barcode", "forename": "forename", "surname": "surname", "middle_name": "middle name",
    "preferred_forename": "preferred forename", "preferred_surname": "preferred surname",
    "legal_forename": "legal forename", "legal_surname": "legal surname", "date_of_birth": "date of birth",
    "gender": "gender", "year_group": "year", "tutor_group": "tutor group", "house": "house",
    "upn": "UPN", "admission_no": "admission number", "mis_id": "MIS id", "idaas_id": "IDaaS id",
    "external_id": "MIS record id", "mis_person_type": "pupil or staff", "status": "status",
    "matched_by": "matched", "recycled_reason": "why recycled", "decided_by": "decided by",
    "intake_forced": "done despite a warning", "held_by": "held by", "hold_released": "hold released",
    "relinked_by": "re-linked by", "photo_digest": "photo", "guardians_digest": "guardian contacts",
    "email": "email", "phone": "phone numbers", "address": "address", "postcode": "postcode",
    "start_date": "start date", "reason": "why in Intake",
}


def field_label(field: str) -> str:
    """``tutor_group`` -> "tutor group": the words, whatever the field."""
    return FIELD_LABELS.get(field, field.replace("_", " "))
