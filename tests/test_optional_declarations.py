"""The optional-data table (engine/optional_data.py) cannot drift: every
optional ``data`` switch is declared exactly once, with one parser, and what
it declares (borrower columns, Intake record keys, attachment tables) exists.
Export, plan and purge follow the table for every field it declares."""
from __future__ import annotations

import dataclasses
import json
import typing
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from engine.config import DataSettings
from engine.export import Export, read_export
from engine.export.optional import PARSERS
from engine.models import Borrower
from engine.optional_data import ENDPOINTS, OPTIONAL_FIELDS, REMOVED, endpoints_read, shown
from engine.person import Guardian, Person, PersonType, Photo, person_to_record
from engine.plan import Snapshot, desired_values, plan_sync
from tests.builders import borrower_row, make_config, student, write_export

# data switches that are not optional fields: staff and pre-admissions bring people, not fields.
NOT_OPTIONAL = {"staff", "pre_admissions"}
# Borrower columns the library keeps for itself, never from the MIS.
BOOKKEEPING = {"id", "barcode", "status", "created_at", "updated_at", "recycled_at", "recycled_reason",
               "group_before_recycle", "held_at", "held_by"}
EVERYTHING_ON = {f.setting: True for f in OPTIONAL_FIELDS}
FIELD_IDS = [f.setting for f in OPTIONAL_FIELDS]


def switches() -> set[str]:
    hints = typing.get_type_hints(DataSettings)
    return {f.name for f in dataclasses.fields(DataSettings) if hints[f.name] is bool}


def full_person() -> Person:
    """A person holding every kind of optional data."""
    return Person(PersonType.STUDENT, "7", "Ann", "Pupil", email="ann@school.example", phone="01632 960100",
                  address="3 Penrith Grove", postcode="PE4 7FQ", photo=Photo("image/png", b"png", "d" * 64),
                  guardians=(Guardian("C1", "Hilda", "Mother", 1, True, None, None),))


def test_every_optional_data_switch_is_declared_exactly_once_with_one_parser():
    declared = Counter(f.setting for f in OPTIONAL_FIELDS)
    assert [s for s, n in declared.items() if n > 1] == []
    assert set(declared) == switches() - NOT_OPTIONAL
    assert set(PARSERS) == set(declared)


@pytest.mark.parametrize("field", OPTIONAL_FIELDS, ids=FIELD_IDS)
def test_what_a_field_declares_exists_in_the_models_and_the_record(field):
    assert set(field.columns) <= set(Borrower.__table__.c.keys())
    assert set(field.record_keys) <= set(person_to_record(full_person()))
    assert set(field.endpoints) <= set(ENDPOINTS)
    if field.attachment is not None:
        assert field.attachment.digest_column in field.columns
        assert field.attachment.key in field.record_keys
        assert "borrower_id" in field.attachment.model.__table__.c
        assert field.attachment.rows(full_person())


def test_every_borrower_column_is_the_mis_s_or_bookkeeping_and_the_switched_ones_are_declared():
    on = desired_values(full_person(), DataSettings(**EVERYTHING_ON))
    off = desired_values(full_person(), DataSettings())
    assert set(Borrower.__table__.c.keys()) == set(on) | BOOKKEEPING
    assert {c for c in on if on[c] != off[c]} == {c for f in OPTIONAL_FIELDS for c in f.columns}


@pytest.mark.parametrize("field", OPTIONAL_FIELDS, ids=FIELD_IDS)
def test_each_record_key_of_a_field_feeds_one_of_its_columns(field):
    person = full_person()
    for key in field.record_keys:
        alone = dataclasses.replace(person, **{k: None for k in field.record_keys if k != key})
        assert any(read(alone) is not None for read in field.columns.values()), key


@pytest.mark.parametrize("field", OPTIONAL_FIELDS, ids=FIELD_IDS)
def test_a_field_reaches_the_borrower_only_when_its_switch_is_on(field):
    person = full_person()
    on = desired_values(person, DataSettings(**EVERYTHING_ON))
    off = desired_values(person, DataSettings(**{**EVERYTHING_ON, field.setting: False}))
    optional_columns = {c for f in OPTIONAL_FIELDS for c in f.columns}
    assert all(on[c] is not None for c in optional_columns)
    assert {c for c in optional_columns if off[c] is None} == set(field.columns)


@pytest.mark.parametrize("field", OPTIONAL_FIELDS, ids=FIELD_IDS)
def test_switching_a_field_off_plans_the_purge_of_exactly_what_it_declares(field, tmp_path):
    person = full_person()
    stored = {c: "stored" for f in OPTIONAL_FIELDS for c in f.columns}
    snapshot = Snapshot(borrowers=[borrower_row(1, "Bea", "Other", **stored)],
                        intake={person.key: {"id": 5, "status": "pending", "reason": "no_match",
                                             "record": json.dumps(person_to_record(person))}},
                        loans_out={})
    config = make_config(tmp_path, "sqlite://", data={**EVERYTHING_ON, field.setting: False})
    plan = plan_sync(Export(folder=tmp_path), snapshot, config, today=date(2026, 9, 1))
    assert set(plan.purged) == {*field.columns, *(f"intake.{k}" for k in field.record_keys)}
    purges = [c for update in plan.updates for c in update.changes]
    assert {(c.field, c.hidden) for c in purges} == {(c, True) for c in field.columns}


@pytest.mark.parametrize("field", OPTIONAL_FIELDS, ids=FIELD_IDS)
def test_a_field_reads_its_declared_endpoints_and_says_what_a_missing_one_means(field, tmp_path):
    folder = write_export(tmp_path / "export", Students=[student("Ann", "Pupil", Id="7")])
    data = DataSettings(**{field.setting: True})
    assert endpoints_read(data) == [e for e in ENDPOINTS if e in field.endpoints]
    export = read_export(Path(folder), data)
    assert export.warnings == [f"{e.name}.json (or .xml): not in the export, so {e.missing}"
                               for e in ENDPOINTS if e in field.endpoints]


def test_an_attachment_is_described_in_the_audit_trail_never_copied():
    record = person_to_record(full_person())
    for field in OPTIONAL_FIELDS:
        if field.attachment is None:
            continue
        key = field.attachment.key
        described = shown(key, record[key])
        assert isinstance(described, str) and described.startswith("(")
        assert "d" * 64 not in described and "Hilda" not in described
        assert shown(key, None) is None and shown(key, REMOVED) == REMOVED
    assert shown("email", "ann@school.example") == "ann@school.example"
