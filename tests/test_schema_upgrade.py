"""A library made by an earlier mislink gains today's columns on first use,
its rows kept, on every database."""
from sqlalchemy import Column, ForeignKey, MetaData, Table, create_engine, insert, inspect, select

from engine.db import connect
from engine.models import Base, Borrower, IntakeEntry, utcnow

# The columns added after the first release, as an older library lacks them.
LATER = {"borrowers": {"held_at", "held_by", "leaving_date"}, "intake": {"start_date"},
         "sync_runs": {"mis_name", "undo_of", "undone_by_run", "snapshot", "next_delta"}}


def _older_schema() -> MetaData:
    older = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name == "run_changes":
            continue
        columns = [Column(c.name, c.type, *[ForeignKey(fk.target_fullname) for fk in c.foreign_keys], primary_key=c.primary_key,
                          nullable=c.nullable) for c in table.columns if c.name not in LATER.get(table.name, ())]
        Table(table.name, older, *columns)
    return older


def test_an_older_library_gains_the_new_columns_and_keeps_its_rows(library_url):
    engine = create_engine(library_url)
    Base.metadata.drop_all(engine)
    _older_schema().create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(Borrower.__table__).values(
            id=1, barcode="B1", borrower_type="student", forename="Ada", surname="Lovelace", status="active",
            created_at=utcnow(), updated_at=utcnow()))
    engine.dispose()

    upgraded = connect(library_url)
    try:
        columns = {t: {c["name"] for c in inspect(upgraded).get_columns(t)} for t in LATER}
        for table, added in LATER.items():
            assert added <= columns[table], table
        assert "run_changes" in inspect(upgraded).get_table_names()
        with upgraded.connect() as connection:
            row = connection.execute(select(Borrower.barcode, Borrower.held_at)).one()
            assert tuple(row) == ("B1", None)
            assert connection.execute(select(IntakeEntry.start_date)).all() == []
        # A second connect finds nothing more to add.
        connect(library_url).dispose()
    finally:
        upgraded.dispose()
