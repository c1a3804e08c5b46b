"""A library made by an earlier mislink (tables without the ``mislink_``
prefix, fewer columns) is brought up to today's on first use, its rows kept,
on every database."""
from sqlalchemy import Column, ForeignKey, MetaData, Table, create_engine, insert, inspect, select

from engine.db import connect
from engine.models import Base, Borrower, IntakeEntry, utcnow
from engine.schema import PREFIX, bring_up_to_date

# The columns added after the first release, as an older library lacks them.
LATER = {"borrowers": {"held_at", "held_by", "leaving_date"}, "intake": {"start_date"},
         "sync_runs": {"mis_name", "undo_of", "undone_by_run", "snapshot", "next_delta"}}
LATER_TABLES = {"run_changes"}


def _older_schema() -> MetaData:
    older = MetaData()
    for table in Base.metadata.sorted_tables:
        name = table.name.removeprefix(PREFIX)
        if name in LATER_TABLES:
            continue
        columns = [Column(c.name, c.type, *[ForeignKey(fk.target_fullname.removeprefix(PREFIX))
                                            for fk in c.foreign_keys],
                          primary_key=c.primary_key, nullable=c.nullable)
                   for c in table.columns if c.name not in LATER.get(name, ())]
        Table(name, older, *columns)
    return older


def test_an_older_library_is_renamed_gains_the_new_columns_and_keeps_its_rows(library_url):
    engine = create_engine(library_url)
    Base.metadata.drop_all(engine)
    older = _older_schema()
    older.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(older.tables["borrowers"]).values(
            id=1, barcode="B1", borrower_type="student", forename="Ada", surname="Lovelace", status="active",
            created_at=utcnow(), updated_at=utcnow()))
        connection.execute(insert(older.tables["intake"]).values(
            id=7, person_type="student", mis_id="42", status="matched", reason="no_match", forename="Ada",
            surname="Lovelace", record="{}", borrower_id=1, created_at=utcnow(), updated_at=utcnow()))
    engine.dispose()

    upgraded = connect(library_url)
    try:
        tables = set(inspect(upgraded).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert not tables & {t.name.removeprefix(PREFIX) for t in Base.metadata.sorted_tables}
        for table, added in LATER.items():
            columns = {c["name"] for c in inspect(upgraded).get_columns(PREFIX + table)}
            assert added <= columns, table
        with upgraded.connect() as connection:
            assert tuple(connection.execute(select(Borrower.barcode, Borrower.held_at)).one()) == ("B1", None)
            assert tuple(connection.execute(select(IntakeEntry.borrower_id, IntakeEntry.start_date)).one()) == (1, None)
        # The references moved with the tables: an Intake entry still cannot name a borrower that is not there.
        foreign = inspect(upgraded).get_foreign_keys(IntakeEntry.__tablename__)
        assert {fk["referred_table"] for fk in foreign} == {Borrower.__tablename__}
        assert bring_up_to_date(upgraded, create=True) == []
    finally:
        upgraded.dispose()


def test_a_library_system_s_own_borrowers_table_is_left_alone(library_url):
    """Koha's database has a ``borrowers`` table of its own, and no runs table:
    mislink's tables are made beside it and Koha's is never renamed."""
    engine = create_engine(library_url)
    Base.metadata.drop_all(engine)
    theirs = MetaData()
    Table("borrowers", theirs, Column("borrowernumber", Base.metadata.tables[Borrower.__tablename__].c.id.type,
                                      primary_key=True))
    theirs.create_all(engine)
    try:
        connect(library_url).dispose()
        tables = set(inspect(engine).get_table_names())
        assert {"borrowers", Borrower.__tablename__} <= tables
    finally:
        theirs.drop_all(engine)
        engine.dispose()
