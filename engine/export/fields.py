"""Field access and value parsing that tolerate Xporter's quirks.

Key casing differs between Groupcall's docs and its data (``DateofBirth`` /
``DateOfBirth``), keys go missing when a consent scope is not granted, values
arrive padded, and JSON gives ints where XML gives text. A ``FieldMap`` resolves
each wanted field to the spelling a file actually uses, once per file.
"""
from __future__ import annotations

import math
import re
from datetime import date

from engine.text import MAX_LENGTHS, clean, storage_problem, whole_number


class FieldProblem(ValueError):
    """One field of one record is unusable; the record is rejected."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class FieldMap:
    """Maps canonical field names to the keys present in one file's records."""

    def __init__(self, records: list[dict]):
        present: set[str] = set()
        for record in records:
            present.update(record)
        self._by_folded: dict[str, list[str]] = {}
        for key in sorted(present):
            self._by_folded.setdefault(key.casefold(), []).append(key)

    def key(self, name: str) -> str | None:
        spellings = self._by_folded.get(name.casefold())
        return spellings[0] if spellings else None

    def getter(self, name: str):
        """A fast accessor for one field: record -> raw value or None. Pages
        from different Xporter versions can spell a key differently within one
        file, so every spelling present is tried."""
        spellings = self._by_folded.get(name.casefold())
        if not spellings:
            return lambda record: None
        if len(spellings) == 1:
            key = spellings[0]
            return lambda record: record.get(key)
        return lambda record: next((record[k] for k in spellings if record.get(k) is not None), None)


def text(record_value: object, field: str, kind: str = "name") -> str | None:
    """A cleaned text value that fits its library column (see
    ``engine.text.storage_problem``). (``clean`` and the check's common case
    inlined: this runs for every field of every record.)"""
    if record_value is None:
        return None
    if type(record_value) in (dict, list):
        raise FieldProblem(field, f"not a single value (a {type(record_value).__name__})")
    value = " ".join((record_value if type(record_value) is str else str(record_value)).split())
    if not value:
        return None
    if len(value) <= MAX_LENGTHS[kind] and value.isprintable():
        return value
    problem = storage_problem(value, kind)
    if problem:
        raise FieldProblem(field, problem)
    return value


def identifier(record_value: object, field: str) -> str | None:
    if type(record_value) is str:  # nearly every id: none of the checks below applies
        return text(record_value, field, "id")
    if isinstance(record_value, (bool, dict, list)):
        raise FieldProblem(field, f"not an identifier ({type(record_value).__name__})")
    if isinstance(record_value, float):
        if not math.isfinite(record_value):
            raise FieldProblem(field, "not an identifier (not a finite number)")
        if record_value.is_integer():
            record_value = int(record_value)
    return text(record_value, field, "id")


# ASCII digits only: \d also matches "٢" and "２", which int() reads.
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?$")
_UK_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def parse_date(record_value: object, field: str, *, today: date | None = None,
               allow_future: bool = True) -> date | None:
    """An ISO date (time part ignored) or a DD/MM/YYYY date; anything else,
    and an impossible date such as 31 February, is a FieldProblem."""
    value = clean(record_value)
    if value is None:
        return None
    iso = _ISO_DATE.match(value)
    uk = None if iso else _UK_DATE.match(value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
    else:
        raise FieldProblem(field, "not a date (expected YYYY-MM-DD)")
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise FieldProblem(field, "not a real calendar date") from None
    if parsed.year < 1900:
        raise FieldProblem(field, "before 1900")
    if not allow_future and parsed > (today or date.today()):
        raise FieldProblem(field, "in the future")
    return parsed


def flag(record_value: object) -> bool:
    value = clean(record_value)
    return value is not None and value.casefold() in ("1", "true", "yes", "y")


def number(record_value: object) -> int | None:
    """A whole number written in ASCII digits, or None for anything else."""
    if type(record_value) is int:
        return record_value
    if type(record_value) is float:  # 2.0 is a whole number; NaN and inf are not
        return int(record_value) if record_value.is_integer() else None
    value = clean(record_value) if type(record_value) is str else None
    return whole_number(value) if value is not None else None

