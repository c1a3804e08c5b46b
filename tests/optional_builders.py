"""Builders for the optional data: photos, PersonComms, guardians, groups.

Records are in Xporter's own field names, as ``tests.builders`` does for
students and staff. Images are made with Pillow so each test says exactly what
kind of photo it sends.
"""
from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

from PIL import Image

from tests.builders import Library, staff_member, student, write_export


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (12, 16), colour=(200, 120, 40)) -> bytes:
    """A small real image of the given Pillow format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def noisy_image_bytes(kind: str, size: tuple[int, int]) -> bytes:
    """An image of seeded random pixels: it hardly compresses, so its size in
    bytes is predictable (about width x height x 3)."""
    pixels = random.Random(size[0] * 100_000 + size[1]).randbytes(size[0] * size[1] * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, kind)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def photo(person_id: str, data: bytes, person_type: str = "Student") -> dict:
    """A Photos endpoint record; ``data`` is the raw image, sent as base64."""
    return {"Id": f"{person_type[:2]}{person_id}", "PersonId": person_id, "PersonType": person_type,
            "PersonName": "", "Photo": b64(data)}


def comms(person_id: str, value: str, *, person_type: str = "Student", kind: str = "T", priority: int | None = None,
          default: int = 0) -> dict:
    """A PersonComms record: kind E (email), T (telephone) or M (mobile)."""
    return {"Id": f"{person_id}.{value}", "PersonId": person_id, "PersonType": person_type, "CommsType": kind,
            "LocationCode": "H", "Priority": priority, "IsDefault": default, "Value": value}


def contact(contact_id: str, forename: str, surname: str, **fields) -> dict:
    record = {"Id": contact_id, "IdaasId": f"PC-{contact_id}", "Title": "Mx", "Forename": forename,
              "Surname": surname, "DisplayName": f"Mx {forename} {surname}", "MobilePhone": None,
              "HomePhone": None, "WorkPhone": None, "HomeEmail": None, "WorkEmail": None}
    record.update(fields)
    return record


def student_contact(student_id: str, contact_id: str, relationship: str, priority: int, par_resp: int = 1) -> dict:
    return {"Id": f"PL-{student_id}.PC-{contact_id}", "StudentId": student_id, "ContactId": contact_id,
            "Relationship": relationship, "Priority": priority, "ParResp": par_resp}


def reg_group(group_id: str, code: str, primary_staff_id: str | None = None) -> dict:
    """A registration group as the Groups endpoint lists it."""
    return {"Id": group_id, "IdaasId": f"GC-{group_id}", "Code": code, "Name": code, "Type": "RegGrp",
            "PrimaryStaffId": primary_staff_id, "NumStudents": 0}


def groups_response(groups: list[dict], staff_members: list[dict] | None = None) -> dict:
    """A Groups response: the result set is ``Group``, memberships beside it."""
    return {"Group": groups, "StaffMembers": staff_members or [], "StudentMembers": [], "GroupTypes": []}


def staff_membership(group_id: str, staff_id: str) -> dict:
    return {"Id": f"GC-{group_id}.PWT-{staff_id}", "GroupId": group_id, "StaffId": staff_id,
            "StaffRole": "Tutor"}


def link_borrower(library: Library, record: dict, person_type: str = "student") -> int:
    """A library borrower already linked to this Xporter record's MIS person,
    as a previous sync would have left it."""
    dob = record.get("DateofBirth") or record.get("DateOfBirth")
    return library.add_borrower(f"{person_type}-{record['Id']}", record["Forename"], record["Surname"], dob,
                                borrower_type=person_type, mis_person_type=person_type, mis_id=record["Id"])


def borrower_of(library: Library, record: dict, person_type: str = "student") -> dict:
    """The borrower linked to this Xporter record."""
    return next(b for b in library.rows("borrowers")
                if b["mis_person_type"] == person_type and b["mis_id"] == record["Id"])


def rows_of(library: Library, table: str, borrower_id: int) -> list[dict]:
    """One borrower's rows in borrower_photos or guardians."""
    return [r for r in library.rows(table) if r["borrower_id"] == borrower_id]


def audit_text(events: list[dict]) -> str:
    """Every value these audit-trail events hold, as one text to search."""
    return "\n".join(f"{e['old_value']}\t{e['new_value']}" for e in events)


# --- One school with every kind of optional data --------------------------------------
# A student and a staff member share MIS id 1001 (Xporter's id spaces overlap),
# so each check also proves one person's data never lands on the other.
SHARED_ID = "1001"

STUDENT_COMMS = [
    comms(SHARED_ID, "01632 960001", kind="T", priority=2),
    comms(SHARED_ID, "07700 900002", kind="M", priority=1),
    comms(SHARED_ID, "01632 960003", kind="T", priority=3, default=1),
    comms(SHARED_ID, "second@pupil.example", kind="E", priority=2),
    comms(SHARED_ID, "first@pupil.example", kind="E", priority=5, default=1),
]
STAFF_COMMS = [comms(SHARED_ID, "01632 960199", person_type="Staff", kind="T", priority=9, default=1)]

# What the library should hold for each person when a setting is on.
EXPECTED = {
    "student": {
        "address": {"address": "3 Penrith Grove, Peterborough, pe4 7fq", "postcode": "PE4 7FQ"},
        # The default first, then by priority; then the person's own (students have none).
        "phones": {"phone": "01632 960003; 07700 900002; 01632 960001"},
        # PersonComms' default email beats the record's own WorkEmail.
        "email": {"email": "first@pupil.example"},
    },
    "staff": {
        "address": {"address": "11, Upham Road, Swindon, SN3 1EE, United Kingdom", "postcode": "SN3 1EE"},
        "phones": {"phone": "01632 960199; 07700 900100; 01632 960100; 01632 960101"},
        # No WorkEmail: the Idaas email comes before the home one.
        "email": {"email": "t.tutor@idaas.example"},
    },
}
# Every optional value the school holds, to prove that none of it is written when off.
SENSITIVE_VALUES = ("Penrith", "PE4 7FQ", "pe4 7fq", "Upham", "SN3 1EE", "01632", "07700", "@pupil.example",
                    "@idaas.example", "@home.example", "@school.example", "@work.example", "Abbess", "Mother")


def optional_student() -> dict:
    return student("Ann", "Pupil", Id=SHARED_ID, HouseNo="3", Street="Penrith  Grove", TownOrCity="Peterborough",
                   PostCode="pe4 7fq", WorkEmail="ann@school.example")


def optional_staff_member() -> dict:
    return staff_member("Tess", "Tutor", Id=SHARED_ID, AddressBlock="11\nUpham Road\nSwindon\nSN3 1EE\nUnited Kingdom",
                        PostCode="SN3 1EE", MobilePhone="07700 900100", WorkPhone="01632 960100",
                        HomePhone="01632 960101", WorkEmail=None, IdaasEmail="t.tutor@idaas.example",
                        HomeEmail="tess@home.example")


def guardian_contacts() -> tuple[list[dict], list[dict], list[dict]]:
    """(Contacts, StudentContacts, their PersonComms) for the optional student:
    listed out of priority order, and one contact's email only in WorkEmail."""
    contacts = [contact("C2", "Bob", "Abbess", HomePhone="01632 960202", HomeEmail="bob@home.example"),
                contact("C1", "Hilda", "Abbess", MobilePhone="07700 900201", WorkEmail="hilda@work.example"),
                contact("C3", "Gran", "Abbess", DisplayName=None, Title="Mrs")]
    links = [student_contact(SHARED_ID, "C2", "Father", 2),
             student_contact(SHARED_ID, "C1", "Mother", 1),
             student_contact(SHARED_ID, "C3", "Grandmother", 3, par_resp=0)]
    contact_comms = [comms("C1", "01632 960201", person_type="Contact", kind="T", priority=1, default=1)]
    return contacts, links, contact_comms


# The guardians table for the optional student, in priority order.
EXPECTED_GUARDIANS = [
    {"contact_id": "C1", "name": "Mx Hilda Abbess", "relationship": "Mother", "priority": 1,
     "parental_responsibility": True, "phone": "01632 960201; 07700 900201", "email": "hilda@work.example"},
    {"contact_id": "C2", "name": "Mx Bob Abbess", "relationship": "Father", "priority": 2,
     "parental_responsibility": True, "phone": "01632 960202", "email": "bob@home.example"},
    {"contact_id": "C3", "name": "Mrs Gran Abbess", "relationship": "Grandmother", "priority": 3,
     "parental_responsibility": False, "phone": None, "email": None},
]


def write_optional_school(folder: Path, *, photos: list[dict] | None = None, **endpoints) -> tuple[dict, dict]:
    """An export holding the optional student and staff member with every
    kind of optional data; returns their (student, staff) records."""
    pupil, teacher = optional_student(), optional_staff_member()
    contacts, links, contact_comms = guardian_contacts()
    files = {"Students": [pupil], "Staff": [teacher], "Contacts": contacts, "StudentContacts": links,
             "PersonComms": STUDENT_COMMS + STAFF_COMMS + contact_comms,
             "Photos": photos if photos is not None else [photo(SHARED_ID, image_bytes("JPEG")),
                                                          photo(SHARED_ID, image_bytes("PNG"), "Staff")]}
    write_export(folder, **{**files, **endpoints})
    return pupil, teacher


def guardians_of(library: Library, borrower_id: int) -> list[dict]:
    """A borrower's guardians in priority order, without the row ids."""
    rows = sorted(rows_of(library, "guardians", borrower_id), key=lambda r: r["priority"])
    return [{k: (bool(v) if k == "parental_responsibility" else v) for k, v in r.items()
             if k not in ("id", "borrower_id")} for r in rows]


def intake_record(library: Library, person_type: str, mis_id: str) -> dict:
    entry = next(e for e in library.intake() if (e["person_type"], e["mis_id"]) == (person_type, mis_id))
    return json.loads(entry["record"])


def library_text(library: Library) -> str:
    """Every value in every table, as one text to search."""
    return repr(library.snapshot())
