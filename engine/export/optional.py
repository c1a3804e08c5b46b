"""Optional data: phones, emails, addresses, photos, guardians, staff years.

Each function here is called only when the school has switched that data on,
so data that is off is never even decoded.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections import Counter, defaultdict

from PIL import Image, UnidentifiedImageError

from engine.export.fields import FieldMap, FieldProblem, flag, identifier, number
from engine.person import Guardian, Person, PersonType, Photo
from engine.text import clean, year_number

PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_PERSON_TYPES = {"student": PersonType.STUDENT, "staff": PersonType.STAFF}
MAX_PHONES_TEXT = 200


def comms_by_person(records: list[dict]) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """PersonComms grouped by (person type, id): (phones, emails), each in the
    MIS's order of preference: the default first, then by priority."""
    fields = FieldMap(records)
    g = {n: fields.getter(n) for n in ("PersonId", "PersonType", "CommsType", "Priority", "IsDefault", "Value")}
    ranked = defaultdict(list)
    for order, record in enumerate(records):
        person_id, value = clean(g["PersonId"](record)), clean(g["Value"](record))
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


def join_phones(numbers: list[str | None]) -> str | None:
    """Distinct numbers in order, as many as fit the library's column."""
    kept: list[str] = []
    for phone in dict.fromkeys(p for p in numbers if p):
        if len("; ".join([*kept, phone])) > MAX_PHONES_TEXT:
            break
        kept.append(phone)
    return "; ".join(kept) or None


def address_of(record: dict, fields: FieldMap) -> tuple[str | None, str | None]:
    """(one-line address, postcode) from the address fields or AddressBlock."""
    get = lambda name: clean(record.get(fields.key(name))) if fields.key(name) else None  # noqa: E731
    postcode = get("PostCode")
    block = record.get(fields.key("AddressBlock")) if fields.key("AddressBlock") else None
    if block:
        lines = [clean(line) for line in str(block).splitlines()]
    else:
        lines = [" ".join(p for p in (get("Apartment"), get("HouseName")) if p),
                 " ".join(p for p in (get("HouseNo"), get("Street")) if p),
                 get("District"), get("TownOrCity"), get("County"), postcode]
    address = ", ".join(line for line in lines if line) or None
    if address and len(address) > 500:
        raise FieldProblem("AddressBlock", "longer than 500 characters")
    return address, (postcode.upper() if postcode else None)


def decode_photo(value: object, max_kb: int) -> Photo:
    """A base64 photo checked as a real JPEG or PNG within the size limit."""
    raw_text = clean(value)
    if raw_text is None:
        raise FieldProblem("Photo", "empty")
    try:
        data = base64.b64decode(raw_text, validate=True)
    except (binascii.Error, ValueError):
        raise FieldProblem("Photo", "not valid base64") from None
    if len(data) > max_kb * 1024:
        raise FieldProblem("Photo", f"larger than {max_kb} KB ({len(data) // 1024} KB)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise FieldProblem("Photo", "not a readable image") from None
    if kind not in PHOTO_TYPES:
        raise FieldProblem("Photo", f"a {kind} image; only JPEG and PNG are accepted")
    return Photo(content_type=PHOTO_TYPES[kind], data=data, digest=hashlib.sha256(data).hexdigest())


def photo_records(records: list[dict]) -> dict[tuple[PersonType, str], object]:
    """Photos keyed on (person type, id): student and staff ids overlap."""
    fields = FieldMap(records)
    g = {n: fields.getter(n) for n in ("PersonId", "PersonType", "Photo")}
    photos = {}
    for record in records:
        person_type = _PERSON_TYPES.get((clean(g["PersonType"](record)) or "").casefold())
        person_id = clean(g["PersonId"](record))
        if person_type and person_id:
            photos[(person_type, person_id)] = g["Photo"](record)
    return photos


def guardians_by_student(contacts: list[dict], links: list[dict],
                         comms: dict[tuple[str, str], tuple[list[str], list[str]]]) -> dict[str, tuple[Guardian, ...]]:
    cf = FieldMap(contacts)
    cg = {n: cf.getter(n) for n in ("Id", "Title", "Forename", "Surname", "DisplayName", "MobilePhone",
                                    "HomePhone", "WorkPhone", "HomeEmail", "WorkEmail")}
    by_id = {}
    for record in contacts:
        contact_id = clean(cg["Id"](record))
        if contact_id:
            by_id[contact_id] = record
    lf = FieldMap(links)
    lg = {n: lf.getter(n) for n in ("StudentId", "ContactId", "Relationship", "Priority", "ParResp")}
    result = defaultdict(list)
    for link in links:
        student_id, contact_id = clean(lg["StudentId"](link)), clean(lg["ContactId"](link))
        contact = by_id.get(contact_id)
        if not student_id or contact is None:
            continue
        phones, emails = comms.get(("contact", contact_id), ([], []))
        name = clean(cg["DisplayName"](contact)) or " ".join(
            p for p in (clean(cg["Title"](contact)), clean(cg["Forename"](contact)), clean(cg["Surname"](contact))) if p)
        result[student_id].append(Guardian(
            contact_id=contact_id,
            name=name[:100],
            relationship=clean(lg["Relationship"](link)),
            priority=number(lg["Priority"](link)),
            parental_responsibility=flag(lg["ParResp"](link)),
            phone=join_phones([*phones, clean(cg["MobilePhone"](contact)), clean(cg["HomePhone"](contact)),
                               clean(cg["WorkPhone"](contact))]),
            email=next(iter([*emails, clean(cg["HomeEmail"](contact)), clean(cg["WorkEmail"](contact))]), None),
        ))
    return {sid: tuple(sorted(items, key=lambda g: (g.priority is None, g.priority or 0, g.contact_id)))
            for sid, items in result.items()}


def tutor_group_years(students: list[Person]) -> dict[str, int]:
    """The year of each registration group: the most common year among its pupils."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for person in students:
        year = year_number(person.year_group)
        if person.tutor_group and year is not None:
            counts[person.tutor_group.casefold()][year] += 1
    return {group: tally.most_common(1)[0][0] for group, tally in counts.items()}


def tutored_groups(groups: list[dict], staff_members: list[dict]) -> dict[str, list[str]]:
    """Staff id -> the registration groups they tutor, from the Groups endpoint."""
    gf = FieldMap(groups)
    gg = {n: gf.getter(n) for n in ("Id", "Type", "Code", "Name", "PrimaryStaffId")}
    reg_groups = {}
    tutored = defaultdict(list)
    for group in groups:
        if (clean(gg["Type"](group)) or "").casefold() != "reggrp":
            continue
        code = clean(gg["Code"](group)) or clean(gg["Name"](group))
        group_id = clean(gg["Id"](group))
        if code and group_id:
            reg_groups[group_id] = code
            tutor = clean(gg["PrimaryStaffId"](group))
            if tutor:
                tutored[tutor].append(code)
    mf = FieldMap(staff_members)
    mg = {n: mf.getter(n) for n in ("GroupId", "StaffId")}
    for member in staff_members:
        group_id = (clean(mg["GroupId"](member)) or "").split("-")[-1]
        staff_id = (clean(mg["StaffId"](member)) or "").split("-")[-1]
        if group_id in reg_groups and staff_id and reg_groups[group_id] not in tutored[staff_id]:
            tutored[staff_id].append(reg_groups[group_id])
    return dict(tutored)


def staff_year(person: Person, tutored: list[str], years: dict[str, int], fallback: int) -> int | None:
    """A staff member's year group: that of a registration group they tutor,
    else the configured number (0 means none)."""
    own = [g.strip() for g in (person.tutor_group or "").split(",") if g.strip()]
    for group in [*tutored, *own]:
        year = years.get(group.casefold())
        if year is not None:
            return year
    return fallback or None

