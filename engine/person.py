"""The clean person record that the export reader produces and the planner reads.

A ``Person`` is one student or staff member as the MIS describes them, with
every optional piece of data already filtered by the school's settings: a field
the school has switched off is simply None here, so it cannot reach the library.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PersonType(StrEnum):
    STUDENT = "student"
    STAFF = "staff"


class Presence(StrEnum):
    """Where the MIS says the person stands."""
    ON_ROLL = "on_roll"        # a current student, or current staff member
    ARRIVING = "arriving"      # pre-admission student, future staff member
    LEFT = "left"              # a leaver, or previous staff member


PersonKey = tuple[PersonType, str]


@dataclass(frozen=True, slots=True)
class Guardian:
    """A student's contact, from Contacts + StudentContacts."""
    contact_id: str
    name: str
    relationship: str | None
    priority: int | None
    parental_responsibility: bool
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Photo:
    content_type: str
    data: bytes
    digest: str


@dataclass(frozen=True, slots=True)
class Person:
    person_type: PersonType
    mis_id: str
    preferred_forename: str | None
    preferred_surname: str | None
    legal_forename: str | None = None
    legal_surname: str | None = None
    middle_name: str | None = None
    idaas_id: str | None = None
    external_id: str | None = None
    upn: str | None = None
    former_upn: str | None = None
    admission_no: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None
    year_group: str | None = None
    tutor_group: str | None = None
    house: str | None = None
    presence: Presence = Presence.ON_ROLL
    leaving_date: date | None = None
    # A pre-admission's first day (the MIS's EntryDate); None for anyone else.
    start_date: date | None = None
    staff_code: str | None = None
    # Optional data: None unless the school has switched it on.
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    postcode: str | None = None
    photo: Photo | None = None
    guardians: tuple[Guardian, ...] | None = None

    @property
    def key(self) -> PersonKey:
        return (self.person_type, self.mis_id)

    @property
    def label(self) -> str:
        """How a librarian recognises this record in a report or log line."""
        name = " ".join(n for n in (self.preferred_forename, self.preferred_surname) if n)
        return f"{self.person_type} {self.mis_id} ({name})" if name else f"{self.person_type} {self.mis_id}"

    @property
    def pre_admission(self) -> bool:
        """A pupil the school has admitted who has not started yet (the MIS's
        PreAdmission status, or an EntryDate still to come). Future staff are
        not: they are read as staff always were."""
        return self.person_type is PersonType.STUDENT and self.presence is Presence.ARRIVING

    def forenames(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.preferred_forename, self.legal_forename) if n))

    def surnames(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.preferred_surname, self.legal_surname) if n))


def person_to_record(person: Person) -> dict:
    """A JSON-ready dict of the person, as stored with an Intake entry."""
    record = {}
    for name in Person.__dataclass_fields__:
        value = getattr(person, name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Photo):
            value = {"content_type": value.content_type, "digest": value.digest,
                     "data": base64.b64encode(value.data).decode("ascii")}
        elif name == "guardians" and value is not None:
            value = [dataclasses.asdict(g) for g in value]
        record[name] = value
    return record


def person_from_record(record: dict) -> Person:
    values = dict(record)
    values["person_type"] = PersonType(values["person_type"])
    values["presence"] = Presence(values["presence"])
    for name in ("date_of_birth", "leaving_date", "start_date"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    if values.get("photo"):
        photo = values["photo"]
        values["photo"] = Photo(photo["content_type"], base64.b64decode(photo["data"]), photo["digest"])
    if values.get("guardians") is not None:
        values["guardians"] = tuple(Guardian(**g) for g in values["guardians"])
    known = set(Person.__dataclass_fields__)
    return Person(**{k: v for k, v in values.items() if k in known})


def guardians_digest(guardians: tuple[Guardian, ...] | None) -> str | None:
    """A fingerprint of a guardian list, so a sync can tell whether it changed
    without reading every guardian row back."""
    if not guardians:
        return None
    payload = json.dumps([dataclasses.astuple(g) for g in guardians], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
