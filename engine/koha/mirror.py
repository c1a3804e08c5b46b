"""How a Koha patron reads as a mirror row (``mislink_borrowers``), and how
a mirror column is written back to Koha.

The mirror's own columns that Koha has no place for (the IdaaS and external
ids, holds, the leaving date, the recycle bin's columns, preferred and legal
names, the house, the guardians' digest) are never overwritten from Koha.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Column, String, Text
from sqlalchemy.dialects import mysql

from engine.config import DataSettings, KohaSettings
from engine.models import Borrower
from engine.text import column_problem

# Mirror column -> Koha borrowers column, one to one (the group and year
# columns are the school's choice).
SIMPLE = {"barcode": "cardnumber", "forename": "firstname", "surname": "surname", "middle_name": "middle_name",
          "date_of_birth": "dateofbirth", "gender": "sex", "email": "email", "phone": "phone",
          "address": "address", "postcode": "zipcode"}
# Mirror columns Koha holds only while the school has that data switched on:
# while off, the mirror keeps its last value, so switching off still removes
# what mislink put in Koha and never what was typed into Koha by hand.
OPTIONAL = {"email": "email", "phone": "phones", "address": "address", "postcode": "address",
            "photo_digest": "photos"}
ATTRIBUTES = ("mis_id", "upn", "admission_no")
# What a pull sets; a push compares these and the names and contacts below.
PULLED = ("barcode", "forename", "surname", "middle_name", "date_of_birth", "gender", "tutor_group",
          "year_group", "borrower_type", "status", "mis_person_type", *ATTRIBUTES, *OPTIONAL)
PUSHED = (*PULLED, "preferred_forename", "preferred_surname", "legal_forename", "legal_surname", "leaving_date",
          "guardians_digest")
NAME_COLUMNS = ("forename", "surname", "preferred_forename", "preferred_surname", "legal_forename", "legal_surname")

# Bytes each MariaDB text type holds (a VARCHAR counts characters instead).
_TEXT_BYTES = ((mysql.LONGTEXT, 2**32 - 1), (mysql.MEDIUMTEXT, 2**24 - 1), (mysql.TINYTEXT, 255), (Text, 2**16 - 1))


def koha_columns(settings: KohaSettings) -> dict[str, str]:
    """Mirror column -> the Koha borrowers column it is kept in."""
    return {**SIMPLE, "tutor_group": settings.group_column, "year_group": settings.year_column}


def attribute_columns(settings: KohaSettings) -> dict[str, str]:
    """Mirror column -> the patron attribute code it is kept in."""
    return {"mis_id": settings.attribute_mis_id, "upn": settings.attribute_upn,
            "admission_no": settings.attribute_admission_no}


def pulled_columns(data: DataSettings) -> tuple[str, ...]:
    """The mirror columns a pull reads from Koha under these data settings."""
    return tuple(c for c in PULLED if c not in OPTIONAL or getattr(data, OPTIONAL[c]))


def koha_problem(column: Column, value: object) -> str | None:
    """Why Koha's own patron form would never store ``value`` in this Koha
    column, or None: too long for it (never cut to fit), or a date MariaDB
    cannot hold."""
    if value is None:
        return None
    if isinstance(value, date):
        return None if value.year >= 1000 else "is not a date Koha can store"
    if not isinstance(value, str):
        return None
    kind = column.type
    for text_type, limit in _TEXT_BYTES:
        if isinstance(kind, text_type):
            size = len(value.encode("utf-8"))
            return None if size <= limit else f"is {size} bytes, more than Koha's {column.name} holds ({limit})"
    if isinstance(kind, String) and kind.length and len(value) > kind.length:
        return f"is {len(value)} characters, longer than Koha's {column.name} allows ({kind.length})"
    return None


def mirror_value(column: str, value: object) -> object:
    """A Koha value as the mirror column holds it: text cut to the mirror's
    width (the mirror is for matching; Koha keeps the whole value, and a
    push writes only what mislink changed), empty for a required name."""
    if isinstance(value, str):
        value = value.strip() or None
    model_column = Borrower.__table__.c[column]
    if value is None:
        return "" if not model_column.nullable else None
    if isinstance(value, str) and column_problem(model_column, value):
        return value[:model_column.type.length]
    return value


def other_names(row: dict, data: DataSettings) -> str | None:
    """The name not shown (legal where the preferred is shown, or the other
    way round), for Koha's othernames, when it differs from the shown one."""
    kept = "legal" if data.forename == "preferred" else "preferred"
    kept_surname = "legal" if data.surname == "preferred" else "preferred"
    forename, surname = row.get(f"{kept}_forename"), row.get(f"{kept_surname}_surname")
    if (forename or row["forename"]) == row["forename"] and (surname or row["surname"]) == row["surname"]:
        return None
    return " ".join(part for part in (forename or row["forename"], surname or row["surname"]) if part)
