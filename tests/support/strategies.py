"""Hypothesis strategies for the property tests: exports (lists of pupils in
Xporter's fields) and libraries (lists of borrowers' columns).

Names, dates and ids come from small pools so that twins, duplicates, shared
UPNs, leavers, returners and near-collisions turn up often."""
from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from tests.builders import student

FORENAMES = ["Ava", "Ava-Mae", "Zoë", "Zoe", "Mohammed", "Mo", "Liam"]
SURNAMES = ["Smith", "Smith-Jones", "Khan", "O'Brien"]
DOBS = [date(2012, 3, 4), date(2012, 4, 3), date(2013, 1, 1), None]
UPNS = ["A123456789012", "M926123420001", None]  # two valid UPNs
GROUPS = ["7A", "8B", None]

incoming = st.fixed_dictionaries({
    "Id": st.integers(1, 25).map(str),
    "Forename": st.sampled_from(FORENAMES),
    "Surname": st.sampled_from(SURNAMES),
    "DateofBirth": st.sampled_from(DOBS).map(lambda d: d.isoformat() if d else None),
    "UPN": st.sampled_from(UPNS),
    "RegGroup": st.sampled_from(GROUPS),
    "StudentStatus": st.sampled_from(["OnRoll", "OnRoll", "OnRoll", "Leaver"]),
})
stored = st.fixed_dictionaries({
    "mis_id": st.one_of(st.none(), st.integers(1, 30).map(str)),
    "forename": st.sampled_from(FORENAMES),
    "surname": st.sampled_from(SURNAMES),
    "date_of_birth": st.sampled_from(DOBS),
    "upn": st.sampled_from(UPNS),
    "tutor_group": st.sampled_from(GROUPS),
    "status": st.sampled_from(["active", "active", "recycled"]),
})
exports = st.lists(incoming, max_size=12, unique_by=lambda s: s["Id"])
libraries = st.lists(stored, max_size=12, unique_by=lambda b: b["mis_id"] or object())


def as_student(pupil: dict) -> dict:
    """A drawn pupil as a whole student record (the builder's other fields filled in)."""
    name_and_dob = ("Forename", "Surname", "DateofBirth")
    return student(*(pupil[k] for k in name_and_dob), **{k: v for k, v in pupil.items() if k not in name_and_dob})
