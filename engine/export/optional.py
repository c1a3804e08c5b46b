"""Optional data: phones, emails, addresses, photos, guardians, staff years.

Each function here is called only when the school has switched that data on,
so data that is off is never even decoded. A value that cannot be used raises
``FieldProblem`` (or is returned as a problem) naming the Xporter field; the
caller rejects that piece of data and the rest of the record goes on.

``PARSERS`` holds each optional field's parser (``engine.optional_data``
declares the fields), keyed by its ``data`` setting, in the order they run.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from engine.config import DataSettings
from engine.export.fields import FieldMap, FieldProblem, flag, number, text
from engine.export.files import EndpointData
from engine.models import Guardian as GuardianRow
from engine.optional_data import CONTACTS, PERSON_COMMS, PHOTOS, STUDENT_CONTACTS
from engine.person import Guardian, Person, PersonType, Photo, Presence
from engine.text import MAX_LENGTHS, clean, column_problem, unique_key, year_number

# MPO is the multi-picture JPEG some cameras write; its first picture is a JPEG.
PHOTO_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}
# Far beyond any school photo; stops a small file that decodes to gigabytes.
MAX_PHOTO_PIXELS = 40_000_000
_DATA_URI = re.compile(r"^data:image/[\w.+-]+;base64,", re.IGNORECASE)
_PERSON_TYPES = {"student": PersonType.STUDENT, "staff": PersonType.STAFF}
# Ids sometimes arrive in IdaasId form where a MIS id is meant: PL- students,
# PWT- staff, PC- contacts, GC-/GY-… groups. Only these prefixes are taken off,
# so a MIS whose own ids contain a dash is left alone.
_IDAAS_FORM = re.compile(r"^(?:PL|PWT|PC|G[A-Z])-([0-9]+)$", re.IGNORECASE)
MAX_PHONES_TEXT = MAX_LENGTHS["phone"]

Comms = dict[tuple[str, str], tuple[list[str], list[str]]]


def plain_id(value: object) -> str | None:
    """A MIS id, whether given plain ("25") or in IdaasId form ("PWT-25")."""
    cleaned = clean(value)
    if cleaned is None:
        return None
    match = _IDAAS_FORM.match(cleaned)
    return match.group(1) if match else cleaned


def comms_by_person(records: list[dict]) -> Comms:
    """PersonComms grouped by (person type, id): (phones, emails), each in the
    MIS's order of preference: the default first, then by priority."""
    fields = FieldMap(records)
    g = {n: fields.getter(n) for n in ("PersonId", "PersonType", "CommsType", "Priority", "IsDefault", "Value")}
    ranked = defaultdict(list)
    for order, record in enumerate(records):
        person_id, value = plain_id(g["PersonId"](record)), clean(g["Value"](record))
        person_type = (clean(g["PersonType"](record)) or "").casefold()
        if not person_id or not value:
            continue
        priority = number(g["Priority"](record))
        rank = (not flag(g["IsDefault"](record)), priority if priority is not None else 99, order)
        kind = (clean(g["CommsType"](record)) or "").upper()
        ranked[(person_type, person_id)].append((rank, "E" if kind == "E" else "T", value))
    result = {}
    for key, items in ranked.items():
        items.sort()
        result[key] = ([v for _, k, v in items if k == "T"], [v for _, k, v in items if k == "E"])
    return result


def join_phones(candidates: list[tuple[object, str]]) -> str | None:
    """Distinct numbers from (value, field) candidates, in order, as many as
    fit the library's column; each is checked like any other text."""
    numbers = (text(value, field_name, "phone") for value, field_name in candidates)
    kept: list[str] = []
    for phone in dict.fromkeys(p for p in numbers if p):
        if len("; ".join([*kept, phone])) > MAX_PHONES_TEXT:
            break
        kept.append(phone)
    return "; ".join(kept) or None


def first_email(candidates: list[tuple[object, str]]) -> str | None:
    """The first non-empty (value, field) candidate, checked for length."""
    for value, field_name in candidates:
        email = text(value, field_name, "email")
        if email:
            return email
    return None


ADDRESS_PARTS = ("Apartment", "HouseName", "HouseNo", "Street", "District", "TownOrCity", "County")


def address_of(record: dict, fields: FieldMap) -> tuple[str | None, str | None]:
    """(one-line address, postcode) from AddressBlock or the address fields."""
    get = lambda name: record.get(fields.key(name)) if fields.key(name) else None  # noqa: E731
    postcode = text(get("PostCode"), "PostCode", "postcode")
    block = get("AddressBlock")
    if block:
        lines = [text(line, "AddressBlock", "address") for line in str(block).splitlines()]
    else:
        part = {name: text(get(name), name, "address") for name in ADDRESS_PARTS}
        lines = [" ".join(p for p in (part["Apartment"], part["HouseName"]) if p),
                 " ".join(p for p in (part["HouseNo"], part["Street"]) if p),
                 part["District"], part["TownOrCity"], part["County"], postcode]
    address = ", ".join(line for line in lines if line) or None
    limit = MAX_LENGTHS["address"]
    if address and len(address) > limit:
        raise FieldProblem("AddressBlock" if block else "Street", f"the address is longer than {limit} characters")
    # Checked again once upper-cased: "ß".upper() is two letters.
    return address, (text(postcode.upper(), "PostCode", "postcode") if postcode else None)


def decode_photo(value: object, max_kb: int) -> Photo:
    """A base64 photo checked as a real JPEG or PNG within the size limit."""
    # Line breaks every 76 characters (MIME style) are common in XML exports.
    encoded = _DATA_URI.sub("", "".join(str(value).split()) if value is not None else "")
    if not encoded:
        raise FieldProblem("Photo", "empty")
    limit = max_kb * 1024
    # Refuse a huge value before decoding it (3 bytes per 4 characters).
    if len(encoded) // 4 * 3 > limit + 2:
        raise FieldProblem("Photo", f"larger than data.photo_max_kb ({max_kb} KB)")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise FieldProblem("Photo", "not valid base64") from None
    if len(data) > limit:
        raise FieldProblem("Photo", f"larger than data.photo_max_kb ({max_kb} KB): {len(data) // 1024} KB")
    kind = _image_type(data)
    return Photo(content_type=PHOTO_TYPES[kind], data=data, digest=hashlib.sha256(data).hexdigest())


def _image_type(data: bytes) -> str:
    """The image format, once the whole image has been checked: its structure
    (verify: PNG checksums, a missing end) and its pixels (load: truncated or
    corrupt JPEG data)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, pixels = image.format, image.width * image.height
            image.verify()
        if kind not in PHOTO_TYPES:
            raise FieldProblem("Photo", f"a {kind} image; only JPEG and PNG are accepted")
        if pixels > MAX_PHOTO_PIXELS:
            raise FieldProblem("Photo", f"{pixels:,} pixels; at most {MAX_PHOTO_PIXELS:,} are accepted")
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (64, 64))  # JPEG decodes at 1/8 scale: every byte read, a fraction of the work
            image.load()
    except FieldProblem:
        raise
    except Image.DecompressionBombError:
        raise FieldProblem("Photo", f"too many pixels; at most {MAX_PHOTO_PIXELS:,} are accepted") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise FieldProblem("Photo", "not a readable image (corrupt, truncated or not an image at all)") from None
    return kind


def photo_records(records: list[dict]) -> dict[tuple[PersonType, str], object]:
    """Photos keyed on (person type, id): student and staff ids overlap."""
    fields = FieldMap(records)
    g = {n: fields.getter(n) for n in ("PersonId", "PersonType", "Photo")}
    photos = {}
    for record in records:
        person_type = _PERSON_TYPES.get((clean(g["PersonType"](record)) or "").casefold())
        person_id = plain_id(g["PersonId"](record))
        if person_type and person_id:
            photos[(person_type, person_id)] = g["Photo"](record)
    return photos


@dataclass(frozen=True)
class GuardianProblem:
    """A student-contact link that could not be used."""
    file: str
    record: str
    problem: FieldProblem


class GuardianReader:
    """Students' guardians from Contacts + StudentContacts, with each contact's
    PersonComms phones and emails. A link that cannot be used becomes a
    ``GuardianProblem``; the student's other guardians go on."""

    def __init__(self, contacts: list[dict], comms: Comms, files: dict[str, str]):
        fields = FieldMap(contacts)
        self.get = {n: fields.getter(n) for n in ("Id", "Title", "Forename", "Surname", "DisplayName",
                                                  "MobilePhone", "HomePhone", "WorkPhone", "HomeEmail", "WorkEmail")}
        self.contacts = {}
        for record in contacts:
            contact_id = plain_id(self.get["Id"](record))
            if contact_id:
                self.contacts[contact_id] = record
        # Endpoint -> its file's name in this export, for rejections.
        self.comms, self.files = comms, files
        self.problems: list[GuardianProblem] = []

    def by_student(self, links: list[dict]) -> dict[str, tuple[Guardian, ...]]:
        fields = FieldMap(links)
        g = {n: fields.getter(n) for n in ("StudentId", "ContactId", "Relationship", "Priority", "ParResp")}
        found: dict[str, dict[str, Guardian]] = defaultdict(dict)
        for link in links:
            student_id, contact_id = plain_id(g["StudentId"](link)), plain_id(g["ContactId"](link))
            contact = self.contacts.get(contact_id)
            if not student_id or contact is None:
                continue
            try:
                guardian = self._guardian(contact_id, contact, link, g)
            except FieldProblem as problem:
                self.problems.append(GuardianProblem(self._file_of(problem.field),
                                                     f"contact {contact_id} of student {student_id}", problem))
                continue
            # A link listed twice keeps its most important row: one guardian
            # row per contact, as the library's unique index tells contacts apart.
            key = unique_key(guardian.contact_id)
            known = found[student_id].get(key)
            if known is not None and known.contact_id != guardian.contact_id:
                reason = f"differs from contact {known.contact_id} only in case, accents or trailing spaces; not used"
                self.problems.append(GuardianProblem(self._file_of("ContactId"),
                                                     f"contact {contact_id} of student {student_id}",
                                                     FieldProblem("ContactId", reason)))
            elif known is None or _rank(guardian) < _rank(known):
                found[student_id][key] = guardian
        return {sid: tuple(sorted(items.values(), key=_rank)) for sid, items in found.items()}

    def _file_of(self, field_name: str) -> str:
        endpoint = ("PersonComms" if field_name == "Value" else
                    "Contacts" if field_name in self.get else "StudentContacts")
        return self.files.get(endpoint, endpoint)

    def _guardian(self, contact_id: str, contact: dict, link: dict, g: dict) -> Guardian:
        c = self.get
        phones, emails = self.comms.get(("contact", contact_id), ([], []))
        priority = number(g["Priority"](link))
        problem = column_problem(GuardianRow.__table__.c.priority, priority)
        if problem:
            raise FieldProblem("Priority", problem)
        name = text(c["DisplayName"](contact), "DisplayName") or text(" ".join(
            p for p in (clean(c["Title"](contact)), clean(c["Forename"](contact)), clean(c["Surname"](contact)))
            if p), "Surname")
        return Guardian(
            contact_id=text(contact_id, "ContactId", "id"),
            name=name or f"contact {contact_id}",
            relationship=text(g["Relationship"](link), "Relationship", "group"),
            priority=priority,
            parental_responsibility=flag(g["ParResp"](link)),
            phone=join_phones([*((p, "Value") for p in phones),
                               *((c[n](contact), n) for n in ("MobilePhone", "HomePhone", "WorkPhone"))]),
            email=first_email([*((e, "Value") for e in emails), (c["HomeEmail"](contact), "HomeEmail"),
                               (c["WorkEmail"](contact), "WorkEmail")]),
        )


def _rank(guardian: Guardian) -> tuple:
    """Lowest priority number first (Xporter: "lowest is higher priority"); no priority last."""
    return (guardian.priority is None, guardian.priority or 0, guardian.contact_id)


def tutor_group_years(students: list[Person]) -> dict[str, int]:
    """The year of each registration group: the most common year among its
    pupils on roll (a leaver's group is last year's)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for person in students:
        year = year_number(person.year_group)
        if person.tutor_group and year is not None and person.presence is not Presence.LEFT:
            counts[person.tutor_group.casefold()][year] += 1
    return {group: tally.most_common(1)[0][0] for group, tally in counts.items()}


def tutored_groups(groups: list[dict], staff_members: list[dict]) -> dict[str, list[str]]:
    """Staff id -> the registration groups they tutor (by code and by name),
    from the Groups endpoint: each group's PrimaryStaffId, and its StaffMembers."""
    gf = FieldMap(groups)
    gg = {n: gf.getter(n) for n in ("Id", "Type", "Code", "Name", "PrimaryStaffId")}
    reg_groups: dict[str, list[str]] = {}
    tutored: dict[str, list[str]] = defaultdict(list)
    for group in groups:
        if (clean(gg["Type"](group)) or "").casefold() != "reggrp":
            continue
        group_id = plain_id(gg["Id"](group))
        names = list(dict.fromkeys(n for n in (clean(gg["Code"](group)), clean(gg["Name"](group))) if n))
        if group_id and names:
            reg_groups[group_id] = names
            tutor = plain_id(gg["PrimaryStaffId"](group))
            if tutor:
                tutored[tutor].extend(names)
    mf = FieldMap(staff_members)
    mg = {n: mf.getter(n) for n in ("GroupId", "StaffId")}
    for member in staff_members:
        group_id, staff_id = plain_id(mg["GroupId"](member)), plain_id(mg["StaffId"](member))
        if group_id in reg_groups and staff_id:
            tutored[staff_id].extend(n for n in reg_groups[group_id] if n not in tutored[staff_id])
    return dict(tutored)


def staff_year(person: Person, tutored: list[str], years: dict[str, int], fallback: int) -> int | None:
    """A staff member's year group: that of a registration group they tutor
    (from Groups, then their own RegGroup field), else the configured number
    (0 means none)."""
    own = [g.strip() for g in (person.tutor_group or "").split(",") if g.strip()]
    for group in [*tutored, *own]:
        year = years.get(group.casefold())
        if year is not None:
            return year
    return fallback or None


@dataclass(frozen=True)
class OwnRecord:
    """The Students or Staff record a person was read from."""
    file: str
    record: dict
    fields: FieldMap

    def get(self, name: str) -> object:
        key = self.fields.key(name)
        return self.record.get(key) if key else None


@dataclass(frozen=True)
class OptionalSources:
    """What the optional endpoints hold, read once per export, for the parsers."""
    comms: Comms
    photos: dict[tuple[PersonType, str], object]
    guardians: dict[str, tuple[Guardian, ...]]
    photo_max_kb: int
    # Guardian links that could not be used, rejected on their own.
    problems: tuple[GuardianProblem, ...] = ()

    @classmethod
    def read(cls, endpoints: dict[str, EndpointData | None], data: DataSettings) -> OptionalSources:
        """From the endpoints loaded (None: absent), for the data switched on."""
        files = {name: e.path.name for name, e in endpoints.items() if e is not None}
        records = {name: e.records for name, e in endpoints.items() if e is not None}
        comms = comms_by_person(records[PERSON_COMMS.name]) if PERSON_COMMS.name in records else {}
        photos = photo_records(records[PHOTOS.name]) if PHOTOS.name in records else {}
        guardians, problems = {}, []
        if data.guardians and CONTACTS.name in records and STUDENT_CONTACTS.name in records:
            reader = GuardianReader(records[CONTACTS.name], comms, files)
            guardians, problems = reader.by_student(records[STUDENT_CONTACTS.name]), reader.problems
        return cls(comms, photos, guardians, data.photo_max_kb, tuple(problems))

    def comms_of(self, person: Person) -> tuple[list[str], list[str]]:
        return self.comms.get((person.person_type.value, person.mis_id), ([], []))


class Unusable(Exception):
    """Optional data that cannot be used, found in an endpoint's file rather
    than the person's own record (which a plain ``FieldProblem`` means)."""

    def __init__(self, problem: FieldProblem, endpoint: str):
        super().__init__(str(problem))
        self.problem, self.endpoint = problem, endpoint


def _from_comms(read: Callable[[list[tuple[object, str]]], str | None], candidates: list[tuple[object, str]]):
    try:
        return read(candidates)
    except FieldProblem as problem:
        # "Value" is PersonComms' field; every other field is the person's own.
        if problem.field == "Value":
            raise Unusable(problem, PERSON_COMMS.name) from None
        raise


def read_phones(person: Person, own: OwnRecord, sources: OptionalSources) -> dict:
    candidates = [*((p, "Value") for p in sources.comms_of(person)[0]),
                  *((own.get(n), n) for n in ("MobilePhone", "WorkPhone", "HomePhone"))]
    return {"phone": _from_comms(join_phones, candidates)}


def read_email(person: Person, own: OwnRecord, sources: OptionalSources) -> dict:
    candidates = [*((e, "Value") for e in sources.comms_of(person)[1]),
                  *((own.get(n), n) for n in ("WorkEmail", "IdaasEmail", "HomeEmail"))]
    return {"email": _from_comms(first_email, candidates)}


def read_address(person: Person, own: OwnRecord, sources: OptionalSources) -> dict:
    address, postcode = address_of(own.record, own.fields)
    return {"address": address, "postcode": postcode}


def read_photo(person: Person, own: OwnRecord, sources: OptionalSources) -> dict:
    from_endpoint = sources.photos.get(person.key)
    raw = from_endpoint or own.get("Photo")
    if not raw:
        return {}
    try:
        return {"photo": decode_photo(raw, sources.photo_max_kb)}
    except FieldProblem as problem:
        if from_endpoint:
            raise Unusable(problem, PHOTOS.name) from None
        raise


def read_guardians(person: Person, own: OwnRecord, sources: OptionalSources) -> dict:
    if person.person_type is not PersonType.STUDENT:
        return {}
    return {"guardians": sources.guardians.get(person.mis_id, ())}


# data setting -> the Person attributes it reads, for each optional field.
PARSERS: dict[str, Callable[[Person, OwnRecord, OptionalSources], dict]] = {
    "phones": read_phones, "email": read_email, "address": read_address, "photos": read_photo,
    "guardians": read_guardians,
}
