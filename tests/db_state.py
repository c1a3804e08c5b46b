"""Reading a whole library database back, to prove that nothing changed."""
from __future__ import annotations

from sqlalchemy import create_engine, select

from engine.models import Base


def table_contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, keyed by table name."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()
