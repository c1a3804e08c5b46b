"""Bringing a library's tables up to today's, on every database the models run on.

mislink's tables are all named ``mislink_…``, so that they can sit beside a
library system's own in one database (Koha has a ``borrowers`` table of its
own). A library made by an earlier mislink, whose tables had no prefix, has
them renamed, rows, keys and references kept. A table made since is created;
a column added to an existing table since (always nullable, so old rows need
no value) is added. Nothing is ever dropped or changed otherwise.

The catalogue is read once per connect (one query per kind on PostgreSQL), and
nothing is written when nothing is missing: a library is opened for every
command and every TUI action.
"""
from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from engine.models import Base

PREFIX = "mislink_"
# An earlier mislink's library is recognised by its runs table; Koha has none.
EARLIER_MARKER = "sync_runs"


def bring_up_to_date(engine: Engine, *, create: bool) -> list[str]:
    """Rename an earlier library's tables, make the missing ones if
    ``create``, and add the columns an existing table lacks. Returns what was
    changed (``table``, ``old -> new`` or ``table.column``). Two processes
    upgrading at once is harmless: whatever the other did first is taken as
    done."""
    existing = set(inspect(engine).get_table_names())
    changed = _rename_earlier(engine, existing)
    if changed:
        existing = set(inspect(engine).get_table_names())
    missing = [t for t in Base.metadata.sorted_tables if t.name not in existing]
    if create and missing:
        Base.metadata.create_all(engine, tables=missing)
        changed += [t.name for t in missing]
    present = [t for t in Base.metadata.sorted_tables if t.name in existing]
    if present:
        changed += _add_missing_columns(engine, present)
    return changed


def _rename_earlier(engine: Engine, existing: set[str]) -> list[str]:
    if EARLIER_MARKER not in existing or PREFIX + EARLIER_MARKER in existing:
        return []
    renamed = []
    for table in Base.metadata.sorted_tables:
        old = table.name.removeprefix(PREFIX)
        if old not in existing:
            continue
        _run_ddl(engine, _rename_ddl(engine, old, table.name),
                 done=lambda: table.name in inspect(engine).get_table_names())
        renamed.append(f"{old} -> {table.name}")
    return renamed


def _rename_ddl(engine: Engine, old: str, new: str) -> str:
    quote = engine.dialect.identifier_preparer.quote
    if engine.dialect.name == "mssql":
        return f"EXEC sp_rename '{old}', '{new}'"
    return f"ALTER TABLE {quote(old)} RENAME TO {quote(new)}"


def _add_missing_columns(engine: Engine, tables: list) -> list[str]:
    columns = inspect(engine).get_multi_columns(filter_names=[t.name for t in tables])
    present = {name: {c["name"] for c in found} for (_, name), found in columns.items()}
    added = []
    for table in tables:
        for column in table.columns:
            if column.name in present.get(table.name, ()):
                continue
            assert column.nullable, f"{table.name}.{column.name}: a column added later must be nullable"
            ddl = CreateColumn(column).compile(dialect=engine.dialect)
            table_name = engine.dialect.identifier_preparer.format_table(table)
            _run_ddl(engine, f"ALTER TABLE {table_name} ADD {ddl}",
                     done=lambda: column.name in {c["name"] for c in inspect(engine).get_columns(table.name)})
            added.append(f"{table.name}.{column.name}")
    return added


def _run_ddl(engine: Engine, ddl: str, *, done) -> None:
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(ddl)
    except SQLAlchemyError:
        if not done():
            raise
