"""The school's settings: ``config.toml``, read and validated as a whole.

Every section is a dataclass and every key a field with its help text, so the
file's schema, its defaults and the README's table of keys come from one place
(``configuration_table``). ``load_config`` checks the whole file before anything
runs and refuses it with every problem found (unknown section or key, wrong
type, impossible value), each naming its key. ``save_config`` writes atomically
(temporary file, then rename) and keeps a password-bearing file readable by its
owner only. ``mask_url`` is the only way a library URL may be shown.

    python -m engine.config README.md    # rewrite the README's table of keys
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
import sys
import tempfile
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import tomli_w
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from engine.errors import Refusal
from engine.text import MAX_LENGTHS, storage_problem, whole_number


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the configuration, and the key it is about."""
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(Refusal):
    """The configuration cannot be used. ``problems`` lists every key at fault
    (the settings pane marks each one); the message names them all."""

    def __init__(self, problems: list[ConfigProblem] | str):
        if isinstance(problems, str):
            problems = [ConfigProblem("", problems)]
        self.problems = list(problems)
        super().__init__("; ".join(map(str, self.problems)))

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.problems]


def setting(default, meaning: str, *, limits: tuple | None = None):
    """A configuration key: its default, the README's one-line explanation and,
    for numbers, the inclusive range of sensible values."""
    metadata = {"help": meaning} | ({"range": limits} if limits else {})
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class SourceSettings:
    """Where the Xporter export comes from."""
    kind: Literal["xporter-folder", "xod", "wonde"] = setting(
        "xporter-folder", "How the export arrives: `xporter-folder`, a folder of Xporter endpoint files "
        "(`Students.json` or `.xml`, `Staff`, `Contacts`, `StudentContacts`, `PersonComms`, `Photos`, `Groups`); "
        "`xod`, fetched from Groupcall's Xporter on Demand; `wonde`, fetched from Wonde. A fetched feed is saved "
        "as a snapshot folder under `archive` and read from there.")
    path: str = setting("export", "The export folder (`xporter-folder` only).")
    url: str = setting(
        "", "The feed's API base; empty: the feed's own (`https://xporter.groupcall.com` for XoD, "
        "`https://api.wonde.com/v1.0` for Wonde).")
    token_url: str = setting(
        "https://login.groupcall.com/idaas/sts/STS/GetToken", "XoD only: where the school's token is asked for.")
    estab: str = setting("", "XoD: the school's establishment number (e.g. `3281101`).")
    relying_party: str = setting("", "XoD only: the relying party mislink is registered as with Groupcall.")
    school_id: str = setting("", "Wonde only: the school's Wonde id.")
    secret_file: str = setting(
        "", "A file holding the school's secret (XoD) or token (Wonde), readable by its owner only; empty: the "
        "environment variable `MISLINK_SOURCE_SECRET`. The secret never goes in this file.")
    page_size: int = setting(500, "Records asked for per page.", limits=(1, 10000))
    archive: str = setting("snapshots", "The folder fetched snapshots are kept in (each private to its owner).")
    keep_days: int = setting(30, "Snapshots older than this many days are removed.", limits=(1, 3650))
    full_every_days: int = setting(
        7, "Fetch everything at least this often, even when a delta would do: only a full export "
        "shows who has left.", limits=(1, 365))
    max_age_hours: int = setting(
        36, "A feed whose data was extracted longer ago than this stops the sync (exit 3): the school's "
        "agent has stopped updating.", limits=(1, 8760))


@dataclass(frozen=True)
class LibrarySettings:
    """The library database: an SQLAlchemy URL, and which library system it is."""
    kind: Literal["mislink", "koha"] = setting(
        "mislink", "The library system: `mislink`, mislink's own borrower tables; `koha`, a Koha library's "
        "database (MariaDB), whose pupil and staff patrons mislink keeps in step (see `[koha]`).")
    url: str = setting(
        "sqlite:///library.sqlite",
        "The library database as an SQLAlchemy URL: `sqlite:///file`, `postgresql+psycopg://user:password@host/db` "
        "or `mysql+pyodbc://user:password@host/db?driver=MariaDB+Unicode&port=3306&charset=utf8mb4`. "
        "Never printed with its password; a file holding one is kept readable by its owner only.")


@dataclass(frozen=True)
class KohaSettings:
    """With `library.kind = "koha"`: where mislink puts pupils and staff in Koha."""
    branchcode: str = setting("MAIN", "The Koha branch (library) new patrons belong to.")
    student_category: str = setting("ST", "The Koha patron category of pupils.")
    staff_category: str = setting("S", "The Koha patron category of staff.")
    leaver_category: str = setting(
        "LEAVER", "The Koha patron category leavers move to (Koha has no recycle bin); a restore moves them back.")
    attribute_mis_id: str = setting("MISID", "The patron attribute type holding the MIS id (`mislink koha setup` "
                                             "creates the three attribute types).")
    attribute_upn: str = setting("UPN", "The patron attribute type holding the UPN.")
    attribute_admission_no: str = setting("ADMNO", "The patron attribute type holding the admission number.")
    # Koha's two free columns "for any information unique to the library".
    group_column: Literal["sort1", "sort2"] = setting("sort1", "The `borrowers` column holding the tutor group.")
    year_column: Literal["sort1", "sort2"] = setting("sort2", "The `borrowers` column holding the year group.")


class NumberList(tuple):
    """A setting's list of whole numbers: a TOML list in config.toml, shown and
    typed in the settings pane as "11, 13"."""

    def __str__(self) -> str:
        return ", ".join(map(str, self))


def number_list(value: object) -> NumberList | None:
    """A list of whole numbers (``[11, 13]``) or text naming them (``"11, 13"``,
    ``"11 13"``) as a ``NumberList``; None if it is neither."""
    if isinstance(value, str):
        value = [whole_number(item) for item in value.replace(",", " ").split()]
    if not isinstance(value, (list, tuple)) or any(type(n) is not int for n in value):
        return None
    return NumberList(value)


@dataclass(frozen=True)
class SyncSettings:
    """How the nightly sync behaves."""
    log_file: str = setting("mislink.log", "The run log: one block per run, appended; no personal data in it.")
    leaver_group: str = setting(
        "Leaver {year} (Old Group {group})",
        "The tutor group a leaver gets in the recycle bin; `{year}` and `{group}` are filled in. "
        "Restoring the borrower puts the old group back.")
    max_recycle_share: float = setting(
        0.10, "A sync that would recycle more than this share of active borrowers unexpectedly stops unless "
        "`--force`. Expected leavers do not count: marked as leavers or given a leaving date by the MIS, or in a "
        "leaving year during the roll-over season.", limits=(0.0, 1.0))
    min_export_share: float = setting(
        0.50, "A sync whose export holds fewer than this share of the people in the last good sync "
        "stops unless `--force` (a partial or broken feed).", limits=(0.0, 1.0))
    leaving_years: tuple[int, ...] = setting(
        NumberList(), "Year groups whose pupils leave at the summer roll-over (`[11, 13]`; Reception is 0): "
        "their departure in the roll-over season is expected, so `max_recycle_share` does not count it. "
        "Empty: the school's final year group, and Year 11 too where the school has a sixth form.",
        limits=(0, 14))
    rollover_from_month: int = setting(
        6, "The roll-over season, when pupils of the leaving years are expected to go, starts with this month "
        "(6 = June)…", limits=(1, 12))
    rollover_to_month: int = setting(
        10, "…and ends with this month (10 = October).", limits=(1, 12))

    def __post_init__(self):
        # config.toml gives a list; the settings pane, text: held as one kind.
        years = number_list(self.leaving_years)
        if years is None:
            raise ValueError(f"sync.leaving_years: not a list of whole numbers: {self.leaving_years!r}")
        object.__setattr__(self, "leaving_years", years)


@dataclass(frozen=True)
class DataSettings:
    """Which personal data reaches the library. Off means never written, and
    switching a key off removes what was stored on the next sync."""
    forename: Literal["preferred", "legal"] = setting(
        "preferred", "The borrower's shown forename; the other is still kept for matching.")
    surname: Literal["preferred", "legal"] = setting(
        "preferred", "The borrower's shown surname; the other is still kept for matching.")
    address: bool = setting(False, "Copy the postal address and postcode.")
    phones: bool = setting(
        False, "Copy phone numbers: those in `PersonComms` (the default first, then by priority), "
        "then the person's mobile, work and home numbers.")
    photos: bool = setting(False, "Copy photographs (JPEG or PNG, checked as images) into the library.")
    email: bool = setting(False, "Copy the email address: `PersonComms` first, then work, Idaas and home email.")
    guardians: bool = setting(
        False, "Copy students' guardian contacts from `Contacts` + `StudentContacts`: name, relationship, "
        "priority order, parental responsibility, their phones and emails.")
    staff: bool = setting(False, "Import staff as borrowers too (each needs a numerical year group).")
    staff_year_group: int = setting(
        0, "Year group for staff who tutor no registration group with a known year; "
        "0 = none, and such staff are reported and skipped.", limits=(0, 99))
    pre_admissions: bool = setting(
        False, "Put pre-admissions (pupils admitted who have not started: `StudentStatus` `PreAdmission`, or an "
        "`EntryDate` still to come) in Intake, marked with their start date, so their cards can be made early; "
        "off: they are left out. They never count as leavers before they start.")
    # MariaDB keeps an Intake record (photo included, as base64) in a 16 MB
    # MEDIUMTEXT: 4 MB of photo stays well inside it.
    photo_max_kb: int = setting(512, "Largest photo accepted, in KB; a larger one is rejected with a reason.",
                                limits=(1, 4096))


@dataclass(frozen=True)
class BarcodeSettings:
    """How transferred borrowers get their barcode."""
    scheme: Literal["sequence", "mis_id", "admission_no"] = setting(
        "sequence", "A new borrower's barcode: the next number in sequence, the MIS id or the admission number.")
    prefix: str = setting("", "Text put before every new barcode.")
    digits: int = setting(6, "With `sequence`: the zero-padded width of numbers in a library with none yet; "
                          "after that, new barcodes are as wide as the highest one the library has.", limits=(1, 20))


@dataclass(frozen=True)
class IntakeSettings:
    """Intake suggestions and the optional fuzzy auto-accept (0 = off)."""
    auto_accept_score: int = setting(
        0, "Intake suggestions scoring at least this (out of 100) are accepted without a person; "
        "0 = never.", limits=(0, 100))
    auto_accept_margin: int = setting(
        15, "…and only when the best suggestion beats the next one by this many points.", limits=(0, 100))


@dataclass(frozen=True)
class Config:
    source: SourceSettings = SourceSettings()
    library: LibrarySettings = LibrarySettings()
    koha: KohaSettings = KohaSettings()
    sync: SyncSettings = SyncSettings()
    data: DataSettings = DataSettings()
    barcodes: BarcodeSettings = BarcodeSettings()
    intake: IntakeSettings = IntakeSettings()
    # Where the file lives; relative paths in it are relative to this folder.
    base_dir: Path = field(default=Path("."), compare=False)

    @property
    def source_path(self) -> Path:
        return self.base_dir / self.source.path

    @property
    def log_path(self) -> Path:
        return self.base_dir / self.sync.log_file

    @property
    def library_url(self) -> str:
        """The URL with a relative SQLite path made relative to the config file."""
        url = make_url(self.library.url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
                and not os.path.isabs(url.database):
            url = url.set(database=str((self.base_dir / url.database).resolve()))
        return url.render_as_string(hide_password=False)


SECTIONS: dict[str, type] = {name: hint for name, hint in typing.get_type_hints(Config).items()
                             if name != "base_dir"}
_HINTS = {name: typing.get_type_hints(cls) for name, cls in SECTIONS.items()}

HEADER = """\
# mislink configuration.
# This file is read by `mislink --sync` and by the terminal UI, and rewritten by
# the UI's settings pane. Every key is explained in README.md ("Configuration").
# Relative paths are relative to the folder this file is in.
# Data switched off under [data] never reaches the library.
"""


# --- Reading and validating ------------------------------------------------------

def load_config(path: Path | str) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file; check the path") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc}); check the path and the file's "
                          "permissions") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); correct the file there") from exc
    config = config_from_dict(raw, base_dir=path.resolve().parent)
    if has_password(config) and readable_by_others(path):
        raise ConfigError(f"{path}: holds the library database's password but other users can read it; "
                          f"make it private first: chmod 600 {path}")
    return config


def config_from_dict(raw: dict, base_dir: Path = Path(".")) -> Config:
    """The settings in ``raw`` (a parsed config.toml), checked as a whole: every
    problem is collected before ``ConfigError`` is raised."""
    problems = [ConfigProblem(name, f"unknown section [{name}]; known sections: {', '.join(SECTIONS)}")
                for name in sorted(set(raw) - set(SECTIONS))]
    sections = {}
    for name, cls in SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            problems.append(ConfigProblem(name, f"must be a [{name}] table"))
            continue
        section_problems = _section_problems(name, cls, values)
        if not section_problems:
            sections[name] = cls(**values)
            section_problems = [ConfigProblem(f"{name}.{key}", message)
                                for key, message in _SECTION_CHECKS.get(name, _no_checks)(sections[name])]
        problems += section_problems
    if problems:
        raise ConfigError(problems)
    return Config(**sections, base_dir=base_dir)


def _section_problems(name: str, cls: type, values: dict) -> list[ConfigProblem]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems = [ConfigProblem(f"{name}.{key}", f"unknown key; known keys in [{name}]: {', '.join(fields)}")
                for key in sorted(set(values) - set(fields))]
    for key, value in values.items():
        if key in fields:
            message = _value_problem(_HINTS[name][key], fields[key], value)
            if message:
                problems.append(ConfigProblem(f"{name}.{key}", message))
    return problems


# Keys whose value may hold a password: an error never shows their value,
# whatever its type (a URL written as a list or a table still holds it).
_SECRET_KEY = re.compile(r"(?i)url|dsn|passw|pwd|secret|token|credential")


def _value_problem(hint, spec: dataclasses.Field, value) -> str | None:
    """Why ``value`` cannot be this key's value, or None if it can."""
    shown = "(not shown: it may hold a password)" if _SECRET_KEY.search(spec.name) else _toml(value)
    if typing.get_origin(hint) is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            return f"must be one of {', '.join(map(_toml, allowed))}, not {shown}"
        return None
    if typing.get_origin(hint) is tuple:
        return _number_list_problem(spec, value, shown)
    expected = {float: (int, float)}.get(hint, hint)
    # bool is an int in Python but never a valid number of anything here.
    if isinstance(value, bool) and hint is not bool or not isinstance(value, expected):
        return f"must be {_type_name(hint)}, not {_type_name(type(value))} {shown}"
    low_high = spec.metadata.get("range")
    if low_high and not (low_high[0] <= value <= low_high[1]):  # NaN fails this too
        return f"must be between {low_high[0]} and {low_high[1]}, not {shown}"
    # An empty default means "not set"; a key with a real default needs a value.
    if hint is str and spec.name in ("path", "log_file", "url") and spec.default and not value.strip():
        return "must not be empty"
    return None


def _number_list_problem(spec: dataclasses.Field, value, shown: str) -> str | None:
    numbers = number_list(value)
    if numbers is None:
        return f"must be a list of whole numbers such as [11, 13], not {shown}"
    low, high = spec.metadata.get("range", (-math.inf, math.inf))
    outside = [n for n in numbers if not low <= n <= high]
    return f"each number must be between {low} and {high}, not {outside[0]}" if outside else None


def _type_name(hint) -> str:
    return {str: "text", bool: "true or false", int: "a whole number", float: "a number",
            dict: "a table", list: "a list"}.get(hint, getattr(hint, "__name__", str(hint)))


def _toml(value) -> str:
    """A value as it would be written in config.toml."""
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, (dict, list)):
        return str(value)  # tomli-w would write a table or a multi-line array
    try:
        return tomli_w.dumps({"v": value}).partition("=")[2].strip()
    except TypeError:
        return repr(value)


def _no_checks(_section) -> list[tuple[str, str]]:
    return []


def _check_library(library: LibrarySettings) -> list[tuple[str, str]]:
    """The URL must name a database and a driver mislink can use. The URL itself
    is never echoed: it may hold a password."""
    try:
        parsed = make_url(library.url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return [("url", "not a database URL (expected e.g. sqlite:///library.sqlite)")]
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql", "mariadb", "mssql"):
        return [("url", f"unsupported database {backend!r}; use sqlite, postgresql, mysql/mariadb or mssql")]
    if library.kind == "koha" and backend not in ("mysql", "mariadb"):
        return [("url", "a Koha library is Koha's own MariaDB database: use a mysql+pyodbc:// URL")]
    try:
        parsed.get_dialect()
    except ArgumentError:  # NoSuchModuleError: a misspelt driver such as postgresql+psycopg3
        return [("url", f"unknown database driver {parsed.drivername!r} "
                        "(e.g. postgresql+psycopg, mysql+pyodbc, sqlite)")]
    return []


def _check_sync(sync: SyncSettings) -> list[tuple[str, str]]:
    # A bad template would otherwise fail only when the first leaver is recycled.
    try:
        sample = sync.leaver_group.format(year=2024, group="7A")
    except (KeyError, IndexError, ValueError, AttributeError):
        return [("leaver_group", "may use only {year} and {group} as placeholders "
                                 "(write {{ and }} for literal braces)")]
    if not sample.strip():
        return [("leaver_group", "must not be empty")]
    # It becomes a stored tutor group: its own text must fit that column.
    problem = storage_problem(sync.leaver_group.format(year=2024, group=""), "group")
    return [("leaver_group", f"as a tutor group, {problem}")] if problem else []


def _check_barcodes(barcodes: BarcodeSettings) -> list[tuple[str, str]]:
    width = MAX_LENGTHS["barcode"]
    if len(barcodes.prefix) + barcodes.digits > width:
        return [("prefix", f"with {barcodes.digits} digits, longer than a barcode may be ({width} characters)")]
    problem = storage_problem(barcodes.prefix, "barcode")
    return [("prefix", problem)] if problem else []


def _check_source(source: SourceSettings) -> list[tuple[str, str]]:
    """What each live feed cannot do without."""
    needed = {"xod": ("estab", "relying_party", "token_url"), "wonde": ("school_id",)}.get(source.kind, ())
    return [(key, f"must be set for kind {_toml(source.kind)}") for key in needed
            if not getattr(source, key).strip()]


def _check_koha(koha: KohaSettings) -> list[tuple[str, str]]:
    """Every code must be one Koha can hold (varchar(10)); the group and
    the year need a column each."""
    problems = [(spec.name, "must be 1 to 10 characters (a Koha code)") for spec in dataclasses.fields(koha)
                if not spec.name.endswith("_column") and not 0 < len(getattr(koha, spec.name).strip()) <= 10]
    if koha.group_column == koha.year_column:
        problems.append(("year_column", "must not be the same column as koha.group_column"))
    return problems


_SECTION_CHECKS = {"source": _check_source, "library": _check_library, "koha": _check_koha, "sync": _check_sync,
                   "barcodes": _check_barcodes}


# --- Passwords in URLs ---------------------------------------------------------------

# Query-string keys that carry a password (pyodbc's odbc_connect holds a whole
# ODBC connection string, with PWD=...).
_SECRET_QUERY_KEYS = {"password", "pwd", "passwd"}
_ODBC_SECRET = re.compile(r"(?i)\b(pwd|password)\s*=\s*(\{[^}]*\}|[^;]*)")


def mask_url(url: str) -> str:
    """A database URL safe to print: every password replaced by ***."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
    query = {key: _mask_query_value(key, value) for key, value in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def _mask_query_value(key: str, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    if isinstance(value, tuple):
        return tuple(_mask_query_value(key, v) for v in value)
    if key.casefold() in _SECRET_QUERY_KEYS:
        return "***"
    if key.casefold() == "odbc_connect":
        return _ODBC_SECRET.sub(r"\1=***", value)
    return value


def has_password(config: Config) -> bool:
    try:
        parsed = make_url(config.library.url)
    except (ArgumentError, ValueError):
        return False
    return bool(parsed.password) or _query_has_secret(parsed)


def _query_has_secret(parsed: URL) -> bool:
    for key, value in parsed.query.items():
        values = value if isinstance(value, tuple) else (value,)
        if key.casefold() in _SECRET_QUERY_KEYS and any(values):
            return True
        if key.casefold() == "odbc_connect" and any(_ODBC_SECRET.search(v) for v in values):
            return True
    return False


# --- Saving ------------------------------------------------------------------------

def config_to_dict(config: Config) -> dict:
    return {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}


def save_config(config: Config, path: Path | str) -> None:
    """Validate, then replace the file atomically: a crash mid-write leaves the
    old file whole and no temporary file behind. A file holding a password is
    made readable by its owner only; otherwise the file keeps its mode."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()  # replace the file the link points to, not the link
    document = config_to_dict(config)
    config_from_dict(document, base_dir=config.base_dir)
    text = HEADER + "\n" + tomli_w.dumps(document)
    mode = _saved_mode(config, path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _sync_directory(path.parent)


def _saved_mode(config: Config, path: Path) -> int:
    if has_password(config):
        return 0o600
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o644


def _sync_directory(folder: Path) -> None:
    """Make the rename itself durable (a power cut after it keeps the new file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the data itself is already synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))


def replace_section(config: Config, section: str, **changes) -> Config:
    """A copy of the config with some keys of one section changed, validated."""
    if section not in SECTIONS:
        raise ConfigError([ConfigProblem(section, f"unknown section [{section}]; "
                                                  f"known sections: {', '.join(SECTIONS)}")])
    document = config_to_dict(config)
    document[section] = {**document[section], **changes}
    return config_from_dict(document, base_dir=config.base_dir)


# --- The README's table of keys --------------------------------------------------------

TABLE_START = "<!-- configuration-table:start -->"
TABLE_END = "<!-- configuration-table:end -->"


def configuration_table() -> str:
    """Every key as a Markdown table row: key, type, default, meaning."""
    lines = ["| Key | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    for name, cls in SECTIONS.items():
        for spec in dataclasses.fields(cls):
            cells = (f"`{name}.{spec.name}`", _type_text(_HINTS[name][spec.name], spec),
                     f"`{_toml(spec.default)}`", spec.metadata["help"])
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _type_text(hint, spec: dataclasses.Field) -> str:
    if typing.get_origin(hint) is Literal:
        return " or ".join(f"`{_toml(v)}`" for v in typing.get_args(hint))
    low_high = spec.metadata.get("range")
    described = "list of whole numbers" if typing.get_origin(hint) is tuple else \
        {str: "text", bool: "`true` or `false`", int: "whole number", float: "number"}[hint]
    return f"{described}, {low_high[0]} to {low_high[1]}" if low_high else described


def readme_with_table(readme: str) -> str:
    """The README text with the part between the markers replaced by the table."""
    before, start, rest = readme.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not (start and end):
        raise ValueError(f"the README has no {TABLE_START} … {TABLE_END} markers")
    return f"{before}{TABLE_START}\n{configuration_table()}\n{TABLE_END}{after}"


def _rewrite_readme(path: Path) -> None:
    path.write_text(readme_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    _rewrite_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
