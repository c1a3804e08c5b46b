"""Turning Students and Staff records into ``Person`` objects, one at a time.

Each builder raises ``FieldProblem`` for a record that cannot be used, so the
caller can reject that record (file, id, field, reason) and carry on.

A student is a pre-admission (``Presence.ARRIVING``, with ``start_date``) when
the MIS says ``PreAdmission``, or says nothing or ``OnRoll`` but gives an
``EntryDate`` after today: Xporter's ``includePreAdmissions`` sends both kinds.
The EntryDate only ever tells a pre-admission: one that is not a date is
taken as absent, never a reason to refuse the pupil.
"""
from __future__ import annotations

from datetime import date

from engine.export.fields import FieldMap, FieldProblem, identifier, parse_date, text
from engine.person import Person, PersonType, Presence
from engine.text import clean, gender_code, year_label

_STUDENT_PRESENCE = {"onroll": Presence.ON_ROLL, "leaver": Presence.LEFT, "preadmission": Presence.ARRIVING}
_STAFF_PRESENCE = {"current": Presence.ON_ROLL, "previous": Presence.LEFT, "future": Presence.ARRIVING}


class PersonReader:
    """Reads one endpoint's records; field spellings are resolved once."""

    def __init__(self, person_type: PersonType, records: list[dict], today: date):
        self.person_type = person_type
        self.today = today
        fields = FieldMap(records)
        self.get = {name: fields.getter(name) for name in (
            "Id", "IdaasId", "ExternalId", "UPN", "FormerUPN", "AdmissionNo",
            "Forename", "Surname", "LegalForename", "LegalSurname", "MiddleName",
            "Gender", "DateOfBirth", "YearGroup", "RegGroup", "HouseGroup",
            "StudentStatus", "StaffStatus", "LeavingDate", "EmploymentEnd", "StaffCode", "EntryDate")}

    def record_id(self, record: dict) -> str | None:
        try:
            return identifier(self.get["Id"](record), "Id")
        except FieldProblem:
            return None

    def person(self, record: dict) -> Person:
        g = self.get
        mis_id = identifier(g["Id"](record), "Id")
        if mis_id is None:
            raise FieldProblem("Id", "missing")
        forename = text(g["Forename"](record), "Forename")
        surname = text(g["Surname"](record), "Surname")
        legal_forename = text(g["LegalForename"](record), "LegalForename")
        legal_surname = text(g["LegalSurname"](record), "LegalSurname")
        if not (forename or legal_forename):
            raise FieldProblem("Forename", "missing")
        if not (surname or legal_surname):
            raise FieldProblem("Surname", "missing")
        dob_field = "DateofBirth" if self.person_type is PersonType.STUDENT else "DateOfBirth"
        is_student = self.person_type is PersonType.STUDENT
        status_field = "StudentStatus" if is_student else "StaffStatus"
        leaving_field = "LeavingDate" if is_student else "EmploymentEnd"
        leaving_date = parse_date(g[leaving_field](record), leaving_field)
        presence = self._presence(g[status_field](record), leaving_date)
        start_date = self._start_date(g["EntryDate"](record), presence) if is_student else None
        if start_date is not None:
            presence = Presence.ARRIVING
        return Person(
            person_type=self.person_type,
            mis_id=mis_id,
            preferred_forename=forename or legal_forename,
            preferred_surname=surname or legal_surname,
            legal_forename=legal_forename or forename,
            legal_surname=legal_surname or surname,
            middle_name=text(g["MiddleName"](record), "MiddleName"),
            idaas_id=identifier(g["IdaasId"](record), "IdaasId"),
            external_id=identifier(g["ExternalId"](record), "ExternalId"),
            upn=_upn(g["UPN"](record), "UPN"),
            former_upn=_upn(g["FormerUPN"](record), "FormerUPN"),
            admission_no=identifier(g["AdmissionNo"](record), "AdmissionNo"),
            date_of_birth=parse_date(g["DateOfBirth"](record), dob_field, today=self.today, allow_future=False),
            gender=_gender(g["Gender"](record)),
            year_group=year_label(text(g["YearGroup"](record), "YearGroup", "group")) if is_student else None,
            tutor_group=text(g["RegGroup"](record), "RegGroup", "group"),
            house=text(g["HouseGroup"](record), "HouseGroup", "group"),
            presence=presence,
            leaving_date=leaving_date,
            start_date=start_date,
            staff_code=None if is_student else identifier(g["StaffCode"](record), "StaffCode"),
        )

    def _presence(self, status: object, leaving_date: date | None) -> Presence:
        table = _STUDENT_PRESENCE if self.person_type is PersonType.STUDENT else _STAFF_PRESENCE
        value = clean(status)
        if value is not None:
            presence = table.get(value.replace(" ", "").casefold())
            if presence is not None:
                return presence
        if leaving_date is not None and leaving_date <= self.today:
            return Presence.LEFT
        return Presence.ON_ROLL

    def _start_date(self, entry: object, presence: Presence) -> date | None:
        """A pre-admission's first day: the EntryDate of a pupil the MIS calls
        a pre-admission, or of one on roll whose EntryDate is still to come."""
        if presence is Presence.LEFT:
            return None
        try:
            start = parse_date(entry, "EntryDate")
        except FieldProblem:
            return None
        if presence is Presence.ARRIVING or start is not None and start > self.today:
            return start
        return None




def _upn(value: object, field: str) -> str | None:
    upn = identifier(value, field)
    # Checked again once upper-cased: "ß".upper() is two letters.
    return text(upn.replace(" ", "").upper(), field, "id") if upn else None


def _gender(value: object) -> str | None:
    """M or F where the MIS spells it so; any other value the MIS holds is
    kept as it is, since the school chose it."""
    cleaned = clean(value)
    if cleaned is None:
        return None
    return gender_code(cleaned) or text(cleaned, "Gender", "gender")
