"""Reading a whole Xporter export folder into clean person records.

``read_export`` parses and validates everything before anything is written: a
record that cannot be used becomes a ``Rejection`` (file, record, field, reason)
and the rest goes on; a file that cannot be used at all raises ``ExportError``.
Data the school has switched off is never read.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from engine.config import DataSettings
from engine.export.fields import FieldMap, FieldProblem, text
from engine.export.files import EndpointData, ExportError, endpoint_path, load_endpoint
from engine.export.optional import (address_of, comms_by_person, decode_photo, guardians_by_student,
                                    join_phones, photo_records, staff_year, tutor_group_years, tutored_groups)
from engine.export.people import PersonReader
from engine.person import Person, PersonKey, PersonType, Presence

__all__ = ["Export", "ExportError", "Rejection", "read_export"]


@dataclass(frozen=True)
class Rejection:
    file: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.record}: {self.field}: {self.reason}"


@dataclass
class Export:
    folder: Path
    persons: list[Person] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Everyone the export mentions, usable or not: nobody named here is a leaver.
    present: set[PersonKey] = field(default_factory=set)
    # Delta exports name their leavers explicitly.
    deleted: set[PersonKey] = field(default_factory=set)
    # Per person type: does absence from this export mean the person has left?
    complete: dict[PersonType, bool] = field(default_factory=dict)
    estab: str | None = None
    seen: Counter = field(default_factory=Counter)


def read_export(folder: Path, data: DataSettings, today: date | None = None) -> Export:
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: the export folder does not exist")
    today = today or date.today()
    export = Export(folder=folder)
    wanted = [PersonType.STUDENT] + ([PersonType.STAFF] if data.staff else [])
    endpoints = {"Students": _required(folder, "Students")}
    if data.staff:
        endpoints["Staff"] = _required(folder, "Staff")
    for name, needed in (("PersonComms", data.phones or data.email), ("Photos", data.photos),
                         ("Contacts", data.guardians), ("StudentContacts", data.guardians),
                         ("Groups", data.staff), ("SchoolInfo", True)):
        if needed:
            endpoints[name] = load_endpoint(folder, name)
            if endpoints[name] is None and name in ("Contacts", "StudentContacts"):
                raise ExportError(f"{name}.json: missing from {folder}, but guardian contacts are switched on")
    for endpoint in endpoints.values():
        if endpoint is not None:
            export.warnings.extend(endpoint.warnings)
    export.estab = _estab(endpoints.get("SchoolInfo"))

    by_type: dict[PersonType, list[Person]] = {}
    for person_type in wanted:
        endpoint = endpoints["Students" if person_type is PersonType.STUDENT else "Staff"]
        by_type[person_type] = _people(export, endpoint, person_type, today)
        export.complete[person_type] = endpoint.complete and not endpoint.is_delta
        if not export.complete[person_type]:
            export.warnings.append(f"{endpoint.path.name}: not a full export, so nobody is recycled for being absent")
        export.deleted.update((person_type, i) for i in endpoint.deleted_ids)

    extras = _Extras(export, endpoints, data)
    for person_type, people in by_type.items():
        staff_years = extras.staff_years(by_type[PersonType.STUDENT]) if person_type is PersonType.STAFF else None
        for person in people:
            person = extras.add(person, staff_years)
            if person is not None:
                export.persons.append(person)
    return export


def _required(folder: Path, name: str) -> EndpointData:
    endpoint = load_endpoint(folder, name)
    if endpoint is None:
        raise ExportError(f"{name}.json (or .xml): missing from {folder}")
    return endpoint


def _estab(endpoint: EndpointData | None) -> str | None:
    if endpoint is None or not endpoint.records:
        return None
    key = FieldMap(endpoint.records).key("EstabId")
    value = endpoint.records[0].get(key) if key else None
    return str(value).strip() if value not in (None, "") else None


def _people(export: Export, endpoint: EndpointData, person_type: PersonType, today: date) -> list[Person]:
    reader = PersonReader(person_type, endpoint.records, today)
    file_name = endpoint.path.name
    ids = Counter(reader.record_id(r) for r in endpoint.records)
    people = []
    for position, record in enumerate(endpoint.records, start=1):
        export.seen[person_type] += 1
        record_id = reader.record_id(record)
        label = f"{person_type} {record_id}" if record_id else f"record #{position}"
        if record_id is not None:
            export.present.add((person_type, record_id))
            if ids[record_id] > 1:
                export.rejections.append(Rejection(
                    file_name, label, "Id", f"appears {ids[record_id]} times in this export; none of them is used"))
                continue
        try:
            people.append(reader.person(record))
        except FieldProblem as problem:
            export.rejections.append(Rejection(file_name, label, problem.field, problem.reason))
    return people


class _Extras:
    """Attaches the optional data the school has switched on to each person."""

    def __init__(self, export: Export, endpoints: dict, data: DataSettings):
        self.export, self.data = export, data
        self.records = {}
        for name in ("Students", "Staff"):
            if name in endpoints:
                fields = FieldMap(endpoints[name].records)
                id_key = fields.key("Id")
                self.records[name] = (fields, {str(r.get(id_key)).strip(): r for r in endpoints[name].records})
        comms = endpoints.get("PersonComms")
        self.comms = comms_by_person(comms.records) if comms else {}
        photos = endpoints.get("Photos")
        self.photos = photo_records(photos.records) if photos else {}
        self.guardians = {}
        if data.guardians:
            self.guardians = guardians_by_student(endpoints["Contacts"].records,
                                                  endpoints["StudentContacts"].records, self.comms)
        groups = endpoints.get("Groups")
        self.tutored = tutored_groups(groups.records, groups.extra.get("StaffMembers", [])) if groups else {}

    def staff_years(self, students: list[Person]) -> dict[str, int]:
        return tutor_group_years(students)

    def add(self, person: Person, staff_years: dict[str, int] | None) -> Person | None:
        name = "Students" if person.person_type is PersonType.STUDENT else "Staff"
        fields, by_id = self.records[name]
        record = by_id[person.mis_id]
        changes = {}
        try:
            if staff_years is not None:
                year = staff_year(person, self.tutored.get(person.mis_id, []), staff_years,
                                  self.data.staff_year_group)
                if year is None and person.presence is not Presence.LEFT:
                    raise FieldProblem("YearGroup", "no numerical year group: not a tutor, and "
                                                    "data.staff_year_group is 0, so this staff member is skipped")
                changes["year_group"] = f"Year {year}" if year is not None else None
            self._contact_data(person, record, fields, changes)
        except FieldProblem as problem:
            self.export.rejections.append(Rejection(f"{name}.json", person.label, problem.field, problem.reason))
            return None
        self._photo(person, record, fields, changes)
        if self.data.guardians and person.person_type is PersonType.STUDENT:
            changes["guardians"] = self.guardians.get(person.mis_id, ())
        return dataclasses.replace(person, **changes) if changes else person

    def _contact_data(self, person: Person, record: dict, fields: FieldMap, changes: dict) -> None:
        get = lambda n: record.get(fields.key(n)) if fields.key(n) else None  # noqa: E731
        phones, emails = self.comms.get((person.person_type.value, person.mis_id), ([], []))
        if self.data.phones:
            changes["phone"] = join_phones([*phones, *(text(get(n), n, "phone") for n in
                                                       ("MobilePhone", "WorkPhone", "HomePhone"))])
        if self.data.email:
            candidates = [*emails, *(get(n) for n in ("WorkEmail", "IdaasEmail", "HomeEmail"))]
            first = next((c for c in candidates if c and str(c).strip()), None)
            changes["email"] = text(first, "Email", "email")
        if self.data.address:
            changes["address"], changes["postcode"] = address_of(record, fields)
            if changes["postcode"] and len(changes["postcode"]) > 16:
                raise FieldProblem("PostCode", "longer than 16 characters")

    def _photo(self, person: Person, record: dict, fields: FieldMap, changes: dict) -> None:
        if not self.data.photos:
            return
        inline_key = fields.key("Photo")
        raw = self.photos.get(person.key) or (record.get(inline_key) if inline_key else None)
        if not raw:
            return
        try:
            changes["photo"] = decode_photo(raw, self.data.photo_max_kb)
        except FieldProblem as problem:
            source = "Photos.json" if person.key in self.photos else f"{person.person_type.title()}s.json"
            self.export.rejections.append(Rejection(source, person.label, problem.field, problem.reason))


def export_files(folder: Path) -> list[Path]:
    """The endpoint files present in a folder, for the run record."""
    names = ("Students", "Staff", "Contacts", "StudentContacts", "PersonComms", "Photos", "Groups", "SchoolInfo")
    return [p for p in (endpoint_path(folder, n) for n in names) if p is not None]
