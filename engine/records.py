"""An Intake entry's stored incoming record, read back into a ``Person``.

The record is JSON the sync wrote (``engine.person.person_to_record``), but a
library's rows can be edited by hand or damaged: ``stored_person`` gives None
for one that cannot be a person's, never an error.
"""
from __future__ import annotations

from dataclasses import fields

from engine.person import Person, person_from_record
from engine.text import json_object

# The Person fields that hold text: a stored record with anything else in one
# cannot be a person's (every reader of a Person takes them as text).
_TEXT_FIELDS = tuple(f.name for f in fields(Person) if f.type in ("str", "str | None"))


def stored_person(record: object) -> Person | None:
    """The person an Intake entry's stored record holds, or None where it
    cannot be read: not JSON, not an object, or not a person's fields."""
    values = json_object(record)
    if values is None:
        return None
    try:
        person = person_from_record(values)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return person if all(isinstance(getattr(person, f), (str, type(None))) for f in _TEXT_FIELDS) else None
