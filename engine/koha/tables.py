"""Koha's tables as this Koha has them, reflected once per connect, and
the checks that make a database one mislink can keep in step.

Nothing here changes Koha's shape: mislink only reads its catalogue and
writes rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, MetaData, Table, inspect, select

from engine.config import KohaSettings, mask_url
from engine.errors import Refusal

KOHA_TABLES = ("borrowers", "borrower_attributes", "borrower_attribute_types", "categories", "branches",
               "issues", "old_issues", "patronimage", "deletedborrowers")


class KohaMismatch(Refusal):
    """The database, or the ``[koha]`` settings, do not fit the Koha found."""


def looks_like_koha(connection: Connection, url: str) -> None:
    """Refuse a database without Koha's borrowers table: mislink must never
    make its own tables in a database that merely sits at a mistyped URL."""
    columns = {c["name"] for c in inspect(connection).get_columns("borrowers")} \
        if inspect(connection).has_table("borrowers") else set()
    if "borrowernumber" not in columns:
        raise KohaMismatch(f"library.url: {mask_url(url)} does not look like a Koha database: "
                           "no borrowers.borrowernumber")


@dataclass(frozen=True)
class KohaTables:
    """Koha's patron tables as reflected from this database."""
    borrowers: Table
    attributes: Table
    attribute_types: Table
    categories: Table
    branches: Table
    issues: Table
    old_issues: Table
    patronimage: Table
    deleted_borrowers: Table

    @classmethod
    def reflect(cls, connection: Connection) -> KohaTables:
        metadata = MetaData()
        metadata.reflect(connection, only=list(KOHA_TABLES))
        found = metadata.tables
        return cls(found["borrowers"], found["borrower_attributes"], found["borrower_attribute_types"],
                   found["categories"], found["branches"], found["issues"], found["old_issues"],
                   found["patronimage"], found["deletedborrowers"])


def attribute_codes(settings: KohaSettings) -> dict[str, str]:
    """The mirror column each configured attribute type holds, by config key."""
    return {"attribute_mis_id": settings.attribute_mis_id, "attribute_upn": settings.attribute_upn,
            "attribute_admission_no": settings.attribute_admission_no}


def check_settings(connection: Connection, tables: KohaTables, settings: KohaSettings) -> None:
    """Refuse, naming the key, a branch, category or attribute type that this
    Koha does not have."""
    branches = set(connection.scalars(select(tables.branches.c.branchcode)))
    if settings.branchcode not in branches:
        raise KohaMismatch(f"koha.branchcode: branch {settings.branchcode!r} does not exist in this Koha")
    categories = set(connection.scalars(select(tables.categories.c.categorycode)))
    for key in ("student_category", "staff_category", "leaver_category"):
        if getattr(settings, key) not in categories:
            raise KohaMismatch(f"koha.{key}: category {getattr(settings, key)!r} does not exist in this Koha")
    types = set(connection.scalars(select(tables.attribute_types.c.code)))
    for key, code in attribute_codes(settings).items():
        if code not in types:
            raise KohaMismatch(f"koha.{key}: patron attribute type {code!r} does not exist in this Koha; "
                               "run `mislink koha setup`")
