"""``mislink koha setup``: the patron attribute types mislink keeps the MIS
id, UPN and admission number in, created where this Koha lacks them, as a
Koha librarian would create them (unique, not repeatable). Nothing else in
Koha is made or changed."""
from __future__ import annotations

from sqlalchemy import create_engine, insert, select

from engine.config import Config
from engine.koha.tables import KohaMismatch, KohaTables, attribute_codes, looks_like_koha

DESCRIPTIONS = {"attribute_mis_id": "mislink: MIS id", "attribute_upn": "mislink: UPN",
                "attribute_admission_no": "mislink: admission number"}


def setup_attribute_types(config: Config) -> list[str]:
    """Create the configured attribute types that are missing; the codes created."""
    if config.library.kind != "koha":
        raise KohaMismatch('library.kind: must be "koha" to set up a Koha library')
    engine = create_engine(config.library_url)
    try:
        with engine.begin() as connection:
            looks_like_koha(connection, config.library_url)
            types = KohaTables.reflect(connection).attribute_types
            existing = set(connection.scalars(select(types.c.code)))
            created = [(key, code) for key, code in attribute_codes(config.koha).items() if code not in existing]
            for key, code in created:
                connection.execute(insert(types).values(code=code, description=DESCRIPTIONS[key], unique_id=1,
                                                        repeatable=0))
    finally:
        engine.dispose()
    return [code for _, code in created]
