"""Bringing a library made by an earlier mislink up to today's tables.

New tables are made by ``create_all``; a column added to an existing table
since (always nullable, so old rows need no value) is added here, on every
database the models run on. Nothing is ever dropped or changed.
"""
from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from engine.models import Base


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the models' columns an existing table lacks; returns them as
    ``table.column``. Two processes upgrading at once is harmless: a column
    the other one added first is taken as added."""
    inspector = inspect(engine)
    existing_tables = set(inspector.get_table_names())
    added = []
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            assert column.nullable, f"{table.name}.{column.name}: a column added later must be nullable"
            ddl = CreateColumn(column).compile(dialect=engine.dialect)
            preparer = engine.dialect.identifier_preparer
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"ALTER TABLE {preparer.format_table(table)} ADD {ddl}")
            except SQLAlchemyError:
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise
            added.append(f"{table.name}.{column.name}")
    return added
