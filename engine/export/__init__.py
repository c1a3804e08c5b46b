"""Reading a whole Xporter export folder into clean person records.

``read_export`` parses and validates everything before anything is written: a
record that cannot be used becomes a ``Rejection`` (file, record, field, reason)
and the rest goes on; a file that cannot be used at all raises ``ExportError``.
Data the school has switched off is never read, and nor is anyone the school
excluded from this app (a ``GDPRIDs`` file, engine.export.gdpr): they are
named in ``Export.excluded``, for the planner to remove what the library
holds about them, and are otherwise as absent. The ``Export`` also says what
kind of export it was, when Xporter extracted it, from which MIS, and carries a
digest of exactly the bytes it was read from (``folder_digest`` recomputes it).
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from engine.config import DataSettings
from engine.export.fields import FieldMap, FieldProblem, identifier
from engine.export.gdpr import ENDPOINT as GDPR_ENDPOINT, excluded_ids, without_excluded
from engine.export.files import RESULT_SETS, EndpointData, ExportError, endpoint_path, file_digest, load_endpoint
from engine.export.optional import (PARSERS, OptionalSources, OwnRecord, Unusable, staff_year, tutor_group_years,
                                    tutored_groups)
from engine.export.people import PersonReader
from engine.person import Person, PersonKey, PersonType, Presence
from engine.models import SyncRun
from engine.optional_data import ENDPOINTS, GROUPS, endpoints_read
from engine.text import column_problem, unique_key, year_label

__all__ = ["Export", "ExportError", "ExportKind", "Rejection", "folder_digest", "read_export"]


class ExportKind(StrEnum):
    FULL = "full"
    # Fewer pages than it announces: nobody is a leaver for being absent.
    PARTIAL = "partial"
    # Changed rows only (``__changedRows__``): leavers are named, never inferred.
    DELTA = "delta"


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
    # People the school excluded from this app (GDPR): never read, and
    # whatever the library holds about them beyond their name is removed.
    excluded: set[PersonKey] = field(default_factory=set)
    # Per person type: does absence from this export mean the person has left?
    complete: dict[PersonType, bool] = field(default_factory=dict)
    estab: str | None = None
    seen: Counter = field(default_factory=Counter)
    # Each person type's file name in this export, for rejections made later.
    files: dict[PersonType, str] = field(default_factory=dict)
    delta: bool = False
    # When Xporter extracted the data (the oldest file's time) and from which
    # MIS, when the files say.
    extract_time: datetime | None = None
    mis_name: str | None = None
    # sha256 over every file read, in a fixed order (see ``folder_digest``).
    digest: str = ""

    @property
    def kind(self) -> ExportKind:
        if self.delta:
            return ExportKind.DELTA
        return ExportKind.FULL if all(self.complete.values()) else ExportKind.PARTIAL


_PEOPLE_FILES = {PersonType.STUDENT: "Students", PersonType.STAFF: "Staff"}


def _person_types(data: DataSettings) -> list[PersonType]:
    return [PersonType.STUDENT] + ([PersonType.STAFF] if data.staff else [])


def _endpoint_names(data: DataSettings) -> list[str]:
    """Every endpoint these settings read, in the order they are read (and digested)."""
    return [*(_PEOPLE_FILES[t] for t in _person_types(data)),
            *(endpoint.name for endpoint in endpoints_read(data)),
            "SchoolInfo", GDPR_ENDPOINT]


def read_export(folder: Path, data: DataSettings, today: date | None = None) -> Export:
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: the export folder does not exist")
    today = today or date.today()
    export = Export(folder=folder)
    wanted = _person_types(data)
    required = {_PEOPLE_FILES[t] for t in wanted}
    missing = {e.name: e.missing for e in ENDPOINTS}
    endpoints: dict[str, EndpointData | None] = {}
    for name in _endpoint_names(data):
        endpoints[name] = _required(folder, name) if name in required else load_endpoint(folder, name)
        if endpoints[name] is None and name in missing:
            export.warnings.append(f"{name}.json (or .xml): not in the export, so {missing[name]}")
    for endpoint in endpoints.values():
        if endpoint is not None:
            export.warnings.extend(endpoint.warnings)
    _read_estab(export, endpoints.get("SchoolInfo"))
    _read_excluded(export, endpoints)
    _read_provenance(export, endpoints)

    by_type: dict[PersonType, list[tuple[Person, dict]]] = {}
    for person_type in wanted:
        endpoint = endpoints[_PEOPLE_FILES[person_type]]
        export.files[person_type] = endpoint.path.name
        by_type[person_type] = _people(export, endpoint, person_type, today)
        export.complete[person_type] = endpoint.complete and not endpoint.is_delta
        export.delta = export.delta or endpoint.is_delta
        if not export.complete[person_type]:
            export.warnings.append(f"{endpoint.path.name}: not a full export, so nobody is recycled for being absent")
        export.deleted.update((person_type, i) for i in endpoint.deleted_ids)

    extras = _Extras(export, endpoints, data)
    if PersonType.STAFF in by_type:
        extras.learn_tutor_group_years([person for person, _ in by_type[PersonType.STUDENT]])
    for person_type, people in by_type.items():
        endpoint = endpoints[_PEOPLE_FILES[person_type]]
        fields = FieldMap(endpoint.records)
        for person, record in people:
            person = extras.add(person, OwnRecord(endpoint.path.name, record, fields))
            if person is not None:
                export.persons.append(person)
    return export


def _read_excluded(export: Export, endpoints: dict[str, EndpointData | None]) -> None:
    """The people the school excluded, and every record naming them left out
    of the endpoints read (as the XoD fetcher leaves them out of a snapshot)."""
    gdpr = endpoints.get(GDPR_ENDPOINT)
    if gdpr is None:
        return
    excluded, warnings = excluded_ids(gdpr.records)
    export.warnings.extend(warnings)
    export.excluded = {(t, mis_id) for t in PersonType for mis_id in excluded[t.value]}
    for name, endpoint in endpoints.items():
        if endpoint is not None and name != GDPR_ENDPOINT:
            endpoint.records = without_excluded(name, RESULT_SETS[name], endpoint.records, excluded)
            for result_set, records in endpoint.extra.items():
                endpoint.extra[result_set] = without_excluded(name, result_set, records, excluded)


def folder_digest(folder: Path, data: DataSettings) -> str:
    """The digest ``read_export`` would give the folder's files as they are
    now, without parsing them: it moves when any file read changes, appears or
    goes (a file that cannot be read counts as changed)."""
    parts = {}
    for name in _endpoint_names(data):
        path = endpoint_path(Path(folder), name)
        parts[name] = (path.name, file_digest(path)) if path else None
    return _digest(parts)


def _digest(parts: dict[str, tuple[str, str | None] | None]) -> str:
    """One sha256 over each endpoint's file name and file digest, in the
    order read; an absent endpoint counts too."""
    combined = hashlib.sha256()
    for name, part in parts.items():
        file_name, digest = part or ("-", "-")
        combined.update(f"{name}\0{file_name}\0{digest}\n".encode())
    return combined.hexdigest()


def _read_provenance(export: Export, endpoints: dict[str, EndpointData | None]) -> None:
    """Digest, extract time and MIS name of the files read. The export is only
    as fresh as its oldest file; the MIS is the first file's that says."""
    read = [e for e in endpoints.values() if e is not None]
    export.digest = _digest({name: (e.path.name, e.digest) if e else None for name, e in endpoints.items()})
    export.extract_time = min((e.extract_time for e in read if e.extract_time), default=None)
    export.mis_name = next((e.mis_name for e in read if e.mis_name), None)


def _required(folder: Path, name: str) -> EndpointData:
    endpoint = load_endpoint(folder, name)
    if endpoint is None:
        raise ExportError(f"{name}.json (or .xml): missing from {folder}")
    return endpoint


def _read_estab(export: Export, endpoint: EndpointData | None) -> None:
    """The school's establishment number; one that cannot be stored is
    rejected (the run goes on as if SchoolInfo did not say)."""
    if endpoint is None or not endpoint.records:
        return
    key = FieldMap(endpoint.records).key("EstabId")
    try:
        estab = identifier(endpoint.records[0].get(key) if key else None, "EstabId")
        problem = column_problem(SyncRun.__table__.c.estab, estab)
        if problem:
            raise FieldProblem("EstabId", problem)
    except FieldProblem as problem:
        export.rejections.append(Rejection(endpoint.path.name, "school", problem.field, problem.reason))
        return
    export.estab = estab


def _people(export: Export, endpoint: EndpointData, person_type: PersonType,
            today: date) -> list[tuple[Person, dict]]:
    """Each usable person with the record it came from."""
    reader = PersonReader(person_type, endpoint.records, today)
    file_name = endpoint.path.name
    record_ids = [reader.record_id(r) for r in endpoint.records]
    # Ids the library's unique index would take for one (see unique_key).
    same_ids: dict[str, list[str]] = defaultdict(list)
    for record_id in record_ids:
        if record_id is not None:
            same_ids[unique_key(record_id)].append(record_id)
    people = []
    for position, (record, record_id) in enumerate(zip(endpoint.records, record_ids), start=1):
        export.seen[person_type] += 1
        label = f"{person_type} {record_id}" if record_id else f"record #{position}"
        if record_id is not None:
            export.present.add((person_type, record_id))
            clash = same_ids[unique_key(record_id)]
            if len(clash) > 1:
                export.rejections.append(Rejection(file_name, label, "Id", _duplicate_reason(record_id, clash)))
                continue
        try:
            people.append((reader.person(record), record))
        except FieldProblem as problem:
            export.rejections.append(Rejection(file_name, label, problem.field, problem.reason))
    return people


def _duplicate_reason(record_id: str, clash: list[str]) -> str:
    others = sorted(set(clash) - {record_id})
    if not others:
        return f"appears {len(clash)} times in this export; none of them is used"
    return (f"Id {record_id} and Id {', '.join(others)} differ only in case, accents or trailing spaces, which "
            "the library cannot tell apart; none of them is used")


class _Extras:
    """Attaches the optional data the school has switched on to each person.
    A piece of optional data that cannot be used is rejected on its own (file,
    record, field, reason) and the rest of the record goes on; only a staff
    member without a year group is skipped whole."""

    def __init__(self, export: Export, endpoints: dict[str, EndpointData | None], data: DataSettings):
        self.export, self.data = export, data
        # Endpoint -> its file's name in this export (.json or .xml), for rejections.
        self.files = {name: e.path.name for name, e in endpoints.items() if e is not None}
        self.sources = OptionalSources.read(endpoints, data)
        export.rejections.extend(Rejection(p.file, p.record, p.problem.field, p.problem.reason)
                                 for p in self.sources.problems)
        groups = endpoints.get(GROUPS.name)
        self.tutored = tutored_groups(groups.records, groups.extra.get("StaffMembers", [])) if groups else {}
        self.group_years: dict[str, int] = {}

    def learn_tutor_group_years(self, students: list[Person]) -> None:
        self.group_years = tutor_group_years(students)

    def add(self, person: Person, source: OwnRecord) -> Person | None:
        changes: dict[str, object] = {}
        if person.person_type is PersonType.STAFF:
            year = staff_year(person, self.tutored.get(person.mis_id, []), self.group_years,
                              self.data.staff_year_group)
            # A leaver needs no year: they are only ever recycled.
            if year is None and person.presence is not Presence.LEFT:
                self._reject(source.file, person, FieldProblem(
                    "YearGroup", "no numerical year group: tutors no registration group with a known year, and "
                                 "data.staff_year_group is 0; this staff member is skipped"))
                return None
            changes["year_group"] = year_label(str(year)) if year is not None else None
        for setting, parse in PARSERS.items():
            if not getattr(self.data, setting):
                continue
            try:
                changes.update(parse(person, source, self.sources))
            except FieldProblem as problem:
                self._reject(source.file, person, problem)
            except Unusable as unusable:
                self._reject(self.files.get(unusable.endpoint, unusable.endpoint), person, unusable.problem)
        return dataclasses.replace(person, **changes) if changes else person

    def _reject(self, file_name: str, person: Person, problem: FieldProblem) -> None:
        self.export.rejections.append(Rejection(file_name, person.label, problem.field, problem.reason))
