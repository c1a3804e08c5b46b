"""Reading stored dates that may not be dates.

SQLite keeps whatever text it was given, so a hand edit or an old version can
leave a Date or DateTime column holding something else. Read through these,
such a value is None rather than an error that fails the whole query (and
every sync after it).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, String, Table, TypeDecorator, type_coerce


def stored_time(value: object, kind: type) -> date | datetime | None:
    """A stored Date (kind=date) or DateTime (kind=datetime), or None where the
    database holds something else."""
    if value is None or type(value) is kind:
        return value
    if isinstance(value, str):
        try:
            parsed = kind.fromisoformat(value)
        except ValueError:
            return None
        return parsed if type(parsed) is kind else None
    return None


class _Lenient(TypeDecorator):
    impl = String
    cache_ok = True
    kind: type = date

    def process_result_value(self, value, dialect):
        return stored_time(value, self.kind)


class _LenientDate(_Lenient):
    kind = date
    cache_ok = True


class _LenientDateTime(_Lenient):
    kind = datetime
    cache_ok = True


LENIENT = {Date: _LenientDate, DateTime: _LenientDateTime}
RAW = {Date: String, DateTime: String}


def read_as(column, types: dict):
    """The column read as ``types`` says for its type (``LENIENT`` or ``RAW``), else as it is."""
    kind = types.get(type(column.type))
    return type_coerce(column, kind).label(column.name) if kind else column


def lenient_columns(table: Table, *, leave_out: tuple[str, ...] = ()) -> list:
    """Every column of the table, an unreadable stored date read as None."""
    return [read_as(c, LENIENT) for c in table.columns if c.name not in leave_out]
