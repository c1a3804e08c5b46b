"""Opening a Koha library: refused, naming the config key, when the database
is not Koha or lacks the configured branch, categories or attribute types;
``mislink koha setup`` makes the attribute types; config checks."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete, inspect, select

from cli.main import main
from engine.api import ConfigError, open_library, purge_recycled, save_config
from engine.config import config_from_dict
from engine.koha.bridge import bridge_for, connect_library
from engine.koha.tables import KohaMismatch
from engine.models import Borrower
from engine.sync import run_sync
from tests.builders import TODAY, make_config, student, write_export
from tests.support.koha import empty_database


def test_a_database_that_is_not_koha_is_refused_before_mislink_makes_any_table(koha, tmp_path):
    with empty_database() as url:
        config = make_config(tmp_path, url, library={"kind": "koha"})
        with pytest.raises(KohaMismatch, match=r"^library\.url: mysql\+pyodbc://.* does not look like a Koha "
                                               r"database: no borrowers\.borrowernumber$"):
            with open_library(config, write=True):
                pass
        engine = create_engine(url)
        assert inspect(engine).get_table_names() == []
        engine.dispose()


@pytest.mark.parametrize("key, value, message", [
    ("branchcode", "NOPE", "koha.branchcode: branch 'NOPE' does not exist in this Koha"),
    ("leaver_category", "GONE", "koha.leaver_category: category 'GONE' does not exist in this Koha"),
    ("staff_category", "X", "koha.staff_category: category 'X' does not exist in this Koha"),
    ("attribute_upn", "UPN2", "koha.attribute_upn: patron attribute type 'UPN2' does not exist in this Koha; "
                              "run `mislink koha setup`"),
])
def test_settings_this_koha_does_not_have_are_refused_naming_the_key(koha, tmp_path, key, value, message):
    with pytest.raises(KohaMismatch) as refused:
        with open_library(koha.config(tmp_path, koha={key: value}), write=False):
            pass
    assert str(refused.value) == message


def test_koha_setup_creates_the_attribute_types_once(koha, tmp_path, capsys):
    types = koha.tables.attribute_types
    koha.execute(delete(types))
    path = tmp_path / "config.toml"
    save_config(koha.config(tmp_path), path)
    assert main(["koha", "setup", "--config", str(path)]) == 0
    assert capsys.readouterr().out == "created the patron attribute types MISID, UPN, ADMNO\n"
    with koha.engine.connect() as connection:
        rows = connection.execute(select(types.c.code, types.c.description, types.c.unique_id, types.c.repeatable)
                                  .order_by(types.c.code)).all()
    assert [tuple(r) for r in rows] == [("ADMNO", "mislink: admission number", 1, 0),
                                        ("MISID", "mislink: MIS id", 1, 0), ("UPN", "mislink: UPN", 1, 0)]
    assert main(["koha", "setup", "--config", str(path)]) == 0
    assert capsys.readouterr().out == "nothing to do: every patron attribute type mislink uses exists\n"


def test_koha_setup_refuses_a_database_that_is_not_koha(koha, tmp_path, capsys):
    path = tmp_path / "config.toml"
    with empty_database() as url:
        save_config(make_config(tmp_path, url, library={"kind": "koha"}), path)
        assert main(["koha", "setup", "--config", str(path)]) == 1
    assert "does not look like a Koha database: no borrowers.borrowernumber" in capsys.readouterr().err


def test_the_recycle_bin_purge_is_refused_on_koha(koha, tmp_path):
    with pytest.raises(Exception, match="a Koha library has no recycle bin to purge"):
        with open_library(koha.config(tmp_path), write=True) as session:
            purge_recycled(session, 0, "mrs.b")
    with open_library(koha.config(tmp_path), write=False) as session:
        assert session.scalars(select(Borrower.id)).all() == []


@pytest.mark.parametrize("sections, message", [
    ({"library": {"kind": "koha", "url": "sqlite:///library.sqlite"}},
     "library.url: a Koha library is Koha's own MariaDB database: use a mysql+pyodbc:// URL"),
    ({"koha": {"year_column": "sort1"}}, "koha.year_column: must not be the same column as koha.group_column"),
    ({"koha": {"group_column": "surname"}}, 'koha.group_column: must be one of "sort1", "sort2", not "surname"'),
    ({"koha": {"branchcode": "A_VERY_LONG_BRANCH"}}, "koha.branchcode: must be 1 to 10 characters (a Koha code)"),
])
def test_koha_settings_are_checked_with_the_rest(sections, message):
    with pytest.raises(ConfigError) as refused:
        config_from_dict(sections)
    assert str(refused.value) == message


def test_a_sync_on_a_koha_that_lacks_a_setting_fails_saying_which(koha, tmp_path):
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    report = run_sync(koha.config(tmp_path, koha={"student_category": "PUPIL"}), today=TODAY)
    assert (report.outcome, report.message) == ("failed", "koha.student_category: category 'PUPIL' does not exist "
                                                          "in this Koha")
    assert koha.patrons() == {}


def test_a_koha_database_opened_as_mislink_s_own_kind_has_no_bridge(koha, tmp_path):
    engine = connect_library(koha.config(tmp_path))
    assert bridge_for(engine) is not None
    again = connect_library(koha.config(tmp_path, library={"kind": "mislink"}))
    assert bridge_for(again) is None and bridge_for(engine) is None
