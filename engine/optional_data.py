"""Optional data, each field declared once: the personal data a school may
switch on (``[data]`` in config.toml) and everything that follows from it.

An ``OptionalField`` says which ``data`` setting lets it in, the borrower
columns it fills (and how each is read off a ``Person``), the Intake record
keys it occupies, the Xporter endpoints it reads, and the attachment table,
if it has one. Export (which endpoints to read), plan (desired values and
purges), apply (attachments), decisions and their undo (attachment digests,
scrubbing), removal counts and the audit trail (``shown``) all iterate
``OPTIONAL_FIELDS``; each field's parser is registered by its setting in
``engine.export.optional.PARSERS``.

Adding a field: a ``DataSettings`` switch, a ``Person`` attribute, a
``Borrower`` column, its parser, and one ``OptionalField`` here.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import DataSettings
from engine.models import BorrowerPhoto, Guardian
from engine.person import Person, guardians_digest

# What a switched-off value becomes in the audit trail and in stored decisions.
REMOVED = "(removed: switched off)"


@dataclass(frozen=True)
class Endpoint:
    """An optional Xporter endpoint. A missing one is a warning, never a
    failed run: the data it would bring is left as it was."""
    name: str
    # The end of "<name>.json (or .xml): not in the export, so …".
    missing: str


PERSON_COMMS = Endpoint("PersonComms", "phones and emails come only from the people's own records")
PHOTOS = Endpoint("Photos", "photos come only from a Photo column in Students or Staff")
CONTACTS = Endpoint("Contacts", "guardian contacts are left as they were")
STUDENT_CONTACTS = Endpoint("StudentContacts", "guardian contacts are left as they were")
# Not optional data: staff members' year groups, read when data.staff is on.
GROUPS = Endpoint("Groups", "a staff member's year comes from their own RegGroup or data.staff_year_group")
# Read, and digested, in this order.
ENDPOINTS = (PERSON_COMMS, PHOTOS, CONTACTS, STUDENT_CONTACTS, GROUPS)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _photo_rows(person: Person) -> list[dict]:
    photo = person.photo
    return [{"content_type": photo.content_type, "data": photo.data}] if photo else []


def _photo_state(session: Session, borrower_id: int) -> dict | None:
    photo = session.execute(select(BorrowerPhoto.content_type, BorrowerPhoto.data)
                            .where(BorrowerPhoto.borrower_id == borrower_id)).first()
    return {"content_type": photo.content_type, "digest": _sha256(photo.data)} if photo else None


def _guardian_rows(person: Person) -> list[dict]:
    return [{"contact_id": g.contact_id, "name": g.name, "relationship": g.relationship, "priority": g.priority,
             "parental_responsibility": g.parental_responsibility, "phone": g.phone, "email": g.email}
            for g in person.guardians or ()]


def _guardians_state(session: Session, borrower_id: int) -> dict | None:
    """How many guardians and a digest of who they are (their row ids aside)."""
    guardians = [{k: v for k, v in row.items() if k not in ("id", "borrower_id")} for row in session.execute(
        select(Guardian.__table__).where(Guardian.borrower_id == borrower_id).order_by(Guardian.id)).mappings()]
    if not guardians:
        return None
    return {"count": len(guardians), "digest": _sha256(json.dumps(guardians, sort_keys=True).encode("utf-8"))}


def _guardians_shown(value: object) -> str:
    # An Intake record holds the list; a decision's recorded state its count and digest.
    return f"({len(value)} entries)" if isinstance(value, list) else "(guardians)"


@dataclass(frozen=True)
class Attachment:
    """Optional data kept in a table of its own, keyed by borrower; the
    borrower's digest column says which one it has."""
    # Its name in a decision's recorded row state, as in an Intake record.
    key: str
    model: type
    digest_column: str
    # The rows a sync writes for a person (borrower_id added).
    rows: Callable[[Person], list[dict]]
    # What a decision records of it: enough to tell whether it changed since,
    # never a copy. Stored in past decisions, so its form must not change.
    state: Callable[[Session, int], dict | None]
    # How a value appears in the audit trail: described, never copied.
    describe: Callable[[object], str]


@dataclass(frozen=True)
class OptionalField:
    setting: str
    # Borrower column -> its value as the MIS says (None: nothing to write).
    columns: Mapping[str, Callable[[Person], object]]
    record_keys: tuple[str, ...]
    endpoints: tuple[Endpoint, ...] = ()
    attachment: Attachment | None = None


OPTIONAL_FIELDS = (
    OptionalField("email", {"email": lambda p: p.email}, ("email",), (PERSON_COMMS,)),
    OptionalField("phones", {"phone": lambda p: p.phone}, ("phone",), (PERSON_COMMS,)),
    OptionalField("address", {"address": lambda p: p.address, "postcode": lambda p: p.postcode},
                  ("address", "postcode")),
    OptionalField("photos", {"photo_digest": lambda p: p.photo.digest if p.photo else None}, ("photo",), (PHOTOS,),
                  Attachment("photo", BorrowerPhoto, "photo_digest", _photo_rows, _photo_state,
                             lambda _: "(photo)")),
    OptionalField("guardians", {"guardians_digest": lambda p: guardians_digest(p.guardians)}, ("guardians",),
                  (PERSON_COMMS, CONTACTS, STUDENT_CONTACTS),
                  Attachment("guardians", Guardian, "guardians_digest", _guardian_rows, _guardians_state,
                             _guardians_shown)),
)
ATTACHMENTS = tuple(f.attachment for f in OPTIONAL_FIELDS if f.attachment)
_BY_RECORD_KEY = {key: f for f in OPTIONAL_FIELDS for key in f.record_keys}
_DESCRIBED = {a.key: a.describe for a in ATTACHMENTS}


def fields_for(settings: Iterable[str]) -> tuple[OptionalField, ...]:
    """The fields these ``data`` settings switch, in declaration order."""
    wanted = set(settings)
    return tuple(f for f in OPTIONAL_FIELDS if f.setting in wanted)


def switched_off(data: DataSettings) -> tuple[OptionalField, ...]:
    return tuple(f for f in OPTIONAL_FIELDS if not getattr(data, f.setting))


def record_key_on(key: str, data: DataSettings) -> bool:
    """Whether an Intake record key may hold data (False: it is switched off)."""
    field = _BY_RECORD_KEY.get(key)
    return field is None or getattr(data, field.setting)


def endpoints_read(data: DataSettings) -> list[Endpoint]:
    """The optional endpoints these settings read, in reading order."""
    needed = {e for f in OPTIONAL_FIELDS if getattr(data, f.setting) for e in f.endpoints}
    if data.staff:
        needed.add(GROUPS)
    return [e for e in ENDPOINTS if e in needed]


def shown(key: str, value: object) -> object:
    """How an optional value (a record key, column or attachment) appears in
    the audit trail: an attachment is described, never copied."""
    describe = _DESCRIBED.get(key)
    if describe is None or value is None or value == REMOVED:
        return value
    return describe(value)
