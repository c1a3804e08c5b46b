"""config.toml: validated as a whole before anything runs, every problem named
by its key; the README's table of keys generated from the schema; the library
password never shown."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cli.main import ExitCode, main
from engine.config import (SECTIONS, TABLE_END, TABLE_START, Config, ConfigError, config_from_dict,
                           configuration_table, has_password, load_config, mask_url, readme_with_table,
                           replace_section)

ROOT = Path(__file__).parents[1]
SECRET_URL = "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"


def problems_of(raw: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw)
    assert str(caught.value) == "; ".join(str(p) for p in caught.value.problems)
    return {p.key: p.message for p in caught.value.problems}


def test_an_empty_file_gives_the_documented_defaults(tmp_path):
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    assert config == Config()
    assert (config.data.staff, config.data.photos, config.data.forename, config.barcodes.scheme) == (
        False, False, "preferred", "sequence")
    assert config.base_dir == tmp_path


def test_the_demo_configuration_is_valid():
    assert load_config(ROOT / "config.toml").source.path == "demo/school"


# One raw config per kind of mistake, and the key its error must name.
INVALID = {
    "unknown section": ({"photos": {"on": True}}, "photos", "unknown section [photos]"),
    "section not a table": ({"data": "photos"}, "data", "must be a [data] table"),
    "unknown key": ({"data": {"photo": True}}, "data.photo", "unknown key"),
    "text for a switch": ({"data": {"photos": "yes"}}, "data.photos", 'must be true or false, not text "yes"'),
    "number for a switch": ({"data": {"email": 1}}, "data.email", "must be true or false"),
    "switch for a number": ({"data": {"staff_year_group": True}}, "data.staff_year_group", "must be a whole number"),
    "fraction for a whole number": ({"barcodes": {"digits": 6.5}}, "barcodes.digits", "must be a whole number"),
    "text for a number": ({"sync": {"max_recycle_share": "10%"}}, "sync.max_recycle_share", "must be a number"),
    "number for text": ({"source": {"path": 7}}, "source.path", "must be text"),
    "list for text": ({"library": {"url": ["sqlite://"]}}, "library.url", "must be text"),
    "not one of the choices": ({"data": {"forename": "nickname"}}, "data.forename",
                               'must be one of "preferred", "legal", not "nickname"'),
    "unknown source kind": ({"source": {"kind": "sftp"}}, "source.kind", 'must be one of "xporter-folder"'),
    "unknown barcode scheme": ({"barcodes": {"scheme": "upn"}}, "barcodes.scheme", "must be one of"),
    "below the range": ({"data": {"photo_max_kb": 0}}, "data.photo_max_kb", "must be between 1 and 4096, not 0"),
    "above the range": ({"data": {"staff_year_group": 100}}, "data.staff_year_group", "between 0 and 99"),
    "share above one": ({"sync": {"max_recycle_share": 1.5}}, "sync.max_recycle_share", "between 0.0 and 1.0"),
    "not a number": ({"sync": {"min_export_share": float("nan")}}, "sync.min_export_share", "between 0.0 and 1.0"),
    "negative score": ({"intake": {"auto_accept_score": -1}}, "intake.auto_accept_score", "between 0 and 100"),
    "empty source path": ({"source": {"path": "  "}}, "source.path", "must not be empty"),
    "empty log file": ({"sync": {"log_file": ""}}, "sync.log_file", "must not be empty"),
    "empty library url": ({"library": {"url": ""}}, "library.url", "must not be empty"),
    "not a database url": ({"library": {"url": "library.sqlite"}}, "library.url", "not a database URL"),
    "unsupported database": ({"library": {"url": "oracle://u@h/x"}}, "library.url", "unsupported database"),
    "misspelt driver": ({"library": {"url": "postgresql+psycopg3://u@h/x"}}, "library.url",
                        "unknown database driver"),
    "unknown placeholder": ({"sync": {"leaver_group": "Leaver {yr}"}}, "sync.leaver_group",
                            "may use only {year} and {group}"),
    "unbalanced brace": ({"sync": {"leaver_group": "Leaver {year"}}, "sync.leaver_group", "may use only"),
    "empty leaver group": ({"sync": {"leaver_group": " "}}, "sync.leaver_group", "must not be empty"),
    "barcode too long": ({"barcodes": {"prefix": "X" * 60, "digits": 6}}, "barcodes.prefix",
                         "longer than a barcode may be"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_every_kind_of_mistake_is_an_error_naming_the_key(case):
    raw, key, words = INVALID[case]
    problems = problems_of(raw)
    assert list(problems) == [key]
    assert words in problems[key]


def test_every_problem_in_the_file_is_reported_at_once():
    problems = problems_of({"colours": {}, "data": {"photos": "yes", "guardians": 2, "pets": True},
                            "sync": {"leaver_group": "{nope}"}, "library": {"url": "nope"}})
    assert set(problems) == {"colours", "data.photos", "data.guardians", "data.pets", "sync.leaver_group",
                             "library.url"}


def test_the_url_is_never_echoed_in_an_error():
    problems = problems_of({"library": {"url": "oracle://u:s3cret@h/x"}})
    assert "s3cret" not in str(problems)


@pytest.mark.parametrize(("text", "words"), [("[data\nphotos = true", "not valid TOML"),
                                             ("data.photos = maybe", "not valid TOML")])
def test_a_file_that_is_not_toml_is_an_error(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(path)


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nowhere.toml")


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[source]\npath = "export"\n[library]\nurl = "sqlite:///library.sqlite"\n'
                    f'[sync]\nlog_file = "mislink.log"\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize("flags", [["--sync"], ["--sync", "--json"], ["--sync", "--dry-run"]])
def test_a_bad_configuration_stops_the_cli_before_anything_runs(tmp_path, capsys, flags):
    from tests.builders import student, write_export

    write_export(tmp_path / "export", Students=[student("Ann", "Lee")])
    config = write_config(tmp_path, "[data]\nphotos = true\nphone = true\n")
    assert main(["--config", str(config), *flags]) == ExitCode.USAGE == 2
    captured = capsys.readouterr()
    assert "data.phone: unknown key" in captured.err
    if "--json" in flags:  # the error as JSON, and nothing else
        assert json.loads(captured.out) == {"error": captured.err.strip().removeprefix("mislink: "), "exit_code": 2}
    else:
        assert captured.out == ""
    assert not (tmp_path / "library.sqlite").exists(), "a library was created"
    assert not (tmp_path / "mislink.log").exists(), "a run was logged"


# --- Passwords ---------------------------------------------------------------------

@pytest.mark.parametrize(("url", "shown"), [
    (SECRET_URL, "postgresql+psycopg://u:***@127.0.0.1:1/x"),
    ("mysql+pyodbc://root:s3cret@h/db?driver=MariaDB+Unicode", "mysql+pyodbc://root:***@h/db?driver=MariaDB+Unicode"),
    ("mssql+pyodbc://h/db?password=s3cret", "mssql+pyodbc://h/db?password=%2A%2A%2A"),
    ("sqlite:///library.sqlite", "sqlite:///library.sqlite"),
])
def test_mask_url_hides_the_password(url, shown):
    assert mask_url(url) == shown


def test_mask_url_hides_a_password_inside_an_odbc_connection_string():
    masked = mask_url("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Du%3BPWD%3Ds3cret%3BDATABASE%3Dx")
    assert "s3cret" not in masked and "DATABASE" in masked


@pytest.mark.parametrize(("url", "expected"), [(SECRET_URL, True), ("mssql+pyodbc://h/db?pwd=s3cret", True),
                                               ("postgresql+psycopg://u@h/x", False), ("sqlite:///x.db", False)])
def test_has_password(url, expected):
    assert has_password(config_from_dict({"library": {"url": url}})) is expected


@pytest.mark.parametrize("as_json", [False, True])
def test_a_failing_sync_never_prints_or_logs_the_password(tmp_path, capsys, as_json):
    from tests.builders import student, write_export

    write_export(tmp_path / "export", Students=[student("Ann", "Lee")])
    config = write_config(tmp_path, "").read_text().replace("sqlite:///library.sqlite", SECRET_URL)
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    (tmp_path / "config.toml").chmod(0o600)
    code = main(["--config", str(tmp_path / "config.toml"), "--sync", *(["--json"] if as_json else [])])
    captured = capsys.readouterr()
    log = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    assert code == ExitCode.FAILED
    shown = captured.out + captured.err + log
    assert "s3cret" not in shown
    assert "u:***@127.0.0.1:1/x" in log, "the log should still say which database failed"
    if as_json:
        assert json.loads(captured.out)["outcome"] == "failed"


def test_a_password_in_a_config_others_can_read_is_refused(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(f'[library]\nurl = "{SECRET_URL}"\n', encoding="utf-8")
    path.chmod(0o644)
    assert main(["--config", str(path), "--sync"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "other users can read it" in err and "chmod 600" in err and "s3cret" not in err
    path.chmod(0o600)
    assert load_config(path).library.url == SECRET_URL
    path.write_text('[library]\nurl = "sqlite:///library.sqlite"\n', encoding="utf-8")
    path.chmod(0o644)
    assert load_config(path).library.url == "sqlite:///library.sqlite", "no password, nothing to hide"


# --- Changing settings ----------------------------------------------------------------

def test_replace_section_changes_only_the_given_keys():
    config = config_from_dict({"data": {"email": True}})
    changed = replace_section(config, "data", photos=True, photo_max_kb=100)
    assert (changed.data.photos, changed.data.photo_max_kb, changed.data.email) == (True, 100, True)
    assert changed.sync == config.sync and config.data.photos is False


@pytest.mark.parametrize(("section", "changes", "key"), [
    ("data", {"photo_max_kb": 0}, "data.photo_max_kb"),
    ("data", {"photoes": True}, "data.photoes"),
    ("data", {"forename": "first"}, "data.forename"),
    ("pets", {"cat": True}, "pets"),
])
def test_replace_section_refuses_a_bad_change_naming_the_key(section, changes, key):
    with pytest.raises(ConfigError) as caught:
        replace_section(Config(), section, **changes)
    assert caught.value.keys == [key]


# --- The README's table of keys ---------------------------------------------------------

def test_every_key_has_a_help_text():
    for name, cls in SECTIONS.items():
        for spec in dataclasses.fields(cls):
            assert spec.metadata.get("help"), f"{name}.{spec.name} has no help text"


def test_the_table_has_a_row_for_every_key():
    rows = configuration_table().splitlines()[2:]
    keys = [row.split(" | ")[0].strip("| `") for row in rows]
    assert keys == [f"{name}.{spec.name}" for name, cls in SECTIONS.items() for spec in dataclasses.fields(cls)]
    assert "| `data.photo_max_kb` | whole number, 1 to 4096 | `512` |" in configuration_table()


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    between = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    assert between.strip() == configuration_table(), (
        "README.md's configuration table is out of date: run `python -m engine.config README.md`")


def test_rewriting_the_readme_touches_only_the_part_between_the_markers():
    before, after = "# Title\n\nIntro.\n", "\n\nMore text.\n"
    readme = f"{before}{TABLE_START}\nold table\n{TABLE_END}{after}"
    assert readme_with_table(readme) == f"{before}{TABLE_START}\n{configuration_table()}\n{TABLE_END}{after}"
    with pytest.raises(ValueError, match="markers"):
        readme_with_table("# no markers here")
