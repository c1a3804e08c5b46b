"""Who to ring: pupils' guardians (Contacts, StudentContacts) and everyone's PersonComms."""

from __future__ import annotations

import random
from datetime import datetime

from demo import names
from demo.dates import stamp
from demo.mis import Ids, row_hash
from demo.names import pick
from demo.pupils import Household, Pupil


def make_contacts(
    rng: random.Random, households: list[Household], catchment: names.Catchment, ids: Ids
) -> tuple[list[dict], list[dict]]:
    """Guardians of pupils on roll (Xporter leaves out contacts of leavers), and the links.
    Sets each household's ParentalSalutation on the way."""
    contacts: list[dict] = []
    links: list[dict] = []
    next_id = 1000  # contact Ids overlap pupil and staff Ids too
    for household in households:
        on_roll = sorted((p for p in household.pupils if p.leaving is None), key=lambda p: int(p.id))
        if not on_roll:
            continue
        parents = []
        guardians = _guardians(rng, household, catchment)
        for priority, (relationship, gender, surname, parresp, address) in enumerate(guardians, 1):
            row = _contact_row(rng, ids, str(next_id), household.origin, gender, surname, address)
            next_id += pick(rng, (1, 1, 2, 3))
            contacts.append(row)
            if parresp:
                parents.append(row)
            for pupil in on_roll:
                links.append(_link(pupil, row, relationship, priority, parresp))
        household.salutation = _salutation(parents[:2])
    return contacts, links


def _guardians(
    rng: random.Random, household: Household, catchment: names.Catchment
) -> list[tuple[str, str, str, int, dict]]:
    """(relationship, gender, surname, parental responsibility, address), main contact first."""
    origin, family = household.origin, household.surname
    father_surname = family.split("-")[0]
    mother_surname = family if rng.random() < 0.7 else family.split("-")[-1]
    if mother_surname == family and rng.random() < 0.15:
        mother_surname = names.surname(rng, origin)  # kept her own name
    shape = rng.random()
    if shape < 0.62:
        people = [("Mother", "F", mother_surname, 1), ("Father", "M", father_surname, 1)]
        if rng.random() < 0.3:
            people.reverse()
    elif shape < 0.67:
        people = [("Mother", "F", mother_surname, 1), ("Step-father", "M", names.surname(rng, origin), 0)]
    elif shape < 0.88:
        people = [("Mother", "F", mother_surname, 1)]
    elif shape < 0.93:
        people = [("Father", "M", father_surname, 1)]
    elif shape < 0.97:
        people = [("Grandparent", pick(rng, "FM"), family, 1)]
    else:
        people = [("Carer", pick(rng, "FM"), names.surname(rng, "british"), 0)]  # foster carer
    if rng.random() < 0.1:  # an emergency contact who is not a parent
        relation = pick(rng, ("Grandparent", "Grandparent", "Aunt", "Uncle", "Family Friend"))
        gender = {"Aunt": "F", "Uncle": "M"}.get(relation) or pick(rng, "FM")
        surname = names.surname(rng, origin) if relation == "Family Friend" else family
        people.append((relation, gender, surname, 0))
    return [
        # Now and then the second parent lives elsewhere.
        (relationship, gender, surname, parresp,
         catchment.address(rng) if position and relationship in ("Father", "Mother") and rng.random() < 0.08
         else household.address)
        for position, (relationship, gender, surname, parresp) in enumerate(people)
    ]  # fmt: skip


def _contact_row(
    rng: random.Random, ids: Ids, contact_id: str, origin: str, gender: str, surname: str, address: dict
) -> dict:
    forename = names.forename(rng, origin, gender, adult=True)
    title = names.title(rng, gender)
    email_name = f"{names.as_ascii(forename)}.{names.as_ascii(surname)}"
    home_domain = pick(rng, ("example.com", "example.org", "example.net"))
    row = {
        "Id": contact_id,
        "IdaasId": f"PC-{contact_id}",
        "ExternalId": ids.guid(),
        "Title": title,
        "Suffix": None,
        "Surname": surname,
        "Forename": forename,
        "DisplayName": f"{title} {forename} {surname}",
        "WorkEmail": ids.email(email_name, "work.example") if rng.random() < 0.2 else None,
        "WorkPhone": names.phone(rng, mobile=False) if rng.random() < 0.15 else None,
        "HomeEmail": ids.email(email_name, home_domain) if rng.random() < 0.75 else None,
        "HomePhone": names.phone(rng, mobile=False) if rng.random() < 0.4 else None,
        "MobilePhone": names.phone(rng, mobile=True) if rng.random() < 0.9 else None,
        **address,
        "LastUpdated": stamp(rng, datetime(2025, 9, 1)),
    }
    row["RowHash"] = row_hash(row)
    return row


def _link(pupil: Pupil, contact: dict, relationship: str, priority: int, parresp: int) -> dict:
    row = {
        "Id": f"PL-{pupil.id}.PC-{contact['Id']}",
        "StudentId": pupil.id,
        "ContactId": contact["Id"],
        "Relationship": relationship,
        "Priority": priority,
        "ParResp": parresp,
        # Dependent rows share their owner's timestamp (one string, not one per row: at
        # 100,000 pupils that saves time and tens of megabytes).
        "LastUpdated": contact["LastUpdated"],
    }
    row["RowHash"] = row_hash(row)
    return row


def _salutation(parents: list[dict]) -> str | None:
    """ "Mr and Mrs Smith", or "Ms Shah and Mr Patel" when their surnames differ."""
    if len(parents) == 2 and parents[0]["Surname"] == parents[1]["Surname"]:
        first, second = sorted((parents[0]["Title"], parents[1]["Title"]), key=lambda title: title != "Mr")
        return f"{first} and {second} {parents[0]['Surname']}"
    return " and ".join(f"{p['Title']} {p['Surname']}" for p in parents) or None


# --------------------------------------------------------------------------- PersonComms


def make_comms(rng: random.Random, pupils: list[Pupil], staff: list[dict], contacts: list[dict]) -> list[dict]:
    """Phone numbers and emails, one row each, keyed by (PersonType, PersonId).

    Not everything on a person's row is repeated here (a contact's home and work phones
    are not, their email only sometimes): real schools fill PersonComms unevenly, and at
    100,000 pupils every row costs memory and seconds.
    """
    rows: list[dict] = []
    comms_id = 13000
    for pupil in sorted(pupils, key=lambda p: int(p.id)):
        if pupil.leaving:
            continue
        items = [("E", "W", pupil.row["WorkEmail"], None)]
        if pupil.year >= 9 and rng.random() < 0.35:
            items.append(("M", "M", names.phone(rng, mobile=True), None))
        comms_id = _comms_rows(rng, rows, comms_id, "Student", "PL", pupil.row, items)
    for person in staff:
        items = [
            ("E", "W", person["WorkEmail"], None), ("T", "W", person["WorkPhone"], "Extension"),
            ("M", "M", person["MobilePhone"], None), ("T", "H", person["HomePhone"], None),
            ("E", "H", person["HomeEmail"], None),
        ]  # fmt: skip
        comms_id = _comms_rows(rng, rows, comms_id, "Staff", "PWT", person, items)
    for contact in contacts:
        items = [("M", "M", contact["MobilePhone"], None)]
        if rng.random() < 0.35:
            items.append(("E", "H", contact["HomeEmail"], None))
        if rng.random() < 0.05:
            items.append(("M", "M", names.phone(rng, mobile=True), "Only after 6pm"))
        comms_id = _comms_rows(rng, rows, comms_id, "Contact", "PC", contact, items)
    return rows


def _comms_rows(
    rng: random.Random, rows: list[dict], comms_id: int, person_type: str, prefix: str, person: dict, items
) -> int:
    """Append one person's comms rows; returns the last comms id handed out."""
    person_id = person["Id"]
    seen_types: set[str] = set()
    priority = 0
    for comms_type, location, value, notes in items:
        if value is None:
            continue
        priority += 1
        comms_id += pick(rng, (1, 1, 2))
        row = {
            "Id": f"{prefix}-{person_id}.{comms_id}.{comms_type}",
            "PersonId": person_id,
            "PersonType": person_type,
            "CommsType": comms_type,
            "LocationCode": location,
            "Priority": priority,
            "IsDefault": int(comms_type not in seen_types),
            "Value": value,
            "Notes": notes,
            "LastUpdated": person["LastUpdated"],
        }
        row["RowHash"] = row_hash(row)
        seen_types.add(comms_type)
        rows.append(row)
    return comms_id
