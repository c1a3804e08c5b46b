"""The school's settings: ``config.toml``, read and validated as a whole.

Every section is a dataclass and every key a field, so the file's schema, its
defaults and the README's table of keys come from one place. ``load_config``
refuses a file with an unknown key, a wrong type or an impossible value, naming
the key, before anything runs. ``save_config`` writes atomically (temporary
file, then rename) and keeps a password-bearing file readable by its owner only.
"""
from __future__ import annotations

import dataclasses
import os
import stat
import tempfile
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import tomli_w
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


def _choice(*allowed):
    return {"choices": allowed}


@dataclass(frozen=True)
class SourceSettings:
    """Where the Xporter export comes from."""
    kind: Literal["xporter-folder"] = "xporter-folder"
    path: str = "export"


@dataclass(frozen=True)
class LibrarySettings:
    """The library database: an SQLAlchemy URL."""
    url: str = "sqlite:///library.sqlite"


@dataclass(frozen=True)
class SyncSettings:
    """How the nightly sync behaves."""
    log_file: str = "mislink.log"
    leaver_group: str = "Leaver {year} (Old Group {group})"
    max_recycle_share: float = field(default=0.10, metadata={"range": (0.0, 1.0)})
    min_export_share: float = field(default=0.50, metadata={"range": (0.0, 1.0)})


@dataclass(frozen=True)
class DataSettings:
    """Which personal data reaches the library. Off means never written."""
    forename: Literal["preferred", "legal"] = "preferred"
    surname: Literal["preferred", "legal"] = "preferred"
    address: bool = False
    phones: bool = False
    photos: bool = False
    email: bool = False
    guardians: bool = False
    staff: bool = False
    staff_year_group: int = field(default=0, metadata={"range": (0, 99)})
    photo_max_kb: int = field(default=512, metadata={"range": (1, 20_000)})


@dataclass(frozen=True)
class BarcodeSettings:
    """How transferred borrowers get their barcode."""
    scheme: Literal["sequence", "mis_id", "admission_no"] = "sequence"
    prefix: str = ""
    digits: int = field(default=6, metadata={"range": (1, 20)})


@dataclass(frozen=True)
class IntakeSettings:
    """Intake suggestions and the optional fuzzy auto-accept (0 = off)."""
    auto_accept_score: int = field(default=0, metadata={"range": (0, 100)})
    auto_accept_margin: int = field(default=15, metadata={"range": (0, 100)})


@dataclass(frozen=True)
class Config:
    source: SourceSettings = SourceSettings()
    library: LibrarySettings = LibrarySettings()
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


def load_config(path: Path | str) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return config_from_dict(raw, base_dir=path.resolve().parent)


def config_from_dict(raw: dict, base_dir: Path = Path(".")) -> Config:
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}]; known sections: {', '.join(SECTIONS)}")
    sections = {}
    for name, cls in SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: must be a [{name}] table")
        sections[name] = _section(name, cls, values)
    config = Config(**sections, base_dir=base_dir)
    _check_library_url(config.library.url)
    return config


def _section(name: str, cls: type, values: dict):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown key; known keys: {', '.join(fields)}")
    hints = _HINTS[name]
    for key, value in values.items():
        _check_value(f"{name}.{key}", hints[key], fields[key], value)
    return cls(**values)


def _check_value(key: str, hint, spec: dataclasses.Field, value) -> None:
    if typing.get_origin(hint) is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{key}: must be one of {', '.join(map(repr, allowed))}, not {value!r}")
        return
    expected = {float: (int, float)}.get(hint, hint)
    # bool is an int in Python but never a valid number of anything here.
    if isinstance(value, bool) and hint is not bool or not isinstance(value, expected):
        raise ConfigError(f"{key}: must be {_type_name(hint)}, not {_type_name(type(value))} {value!r}")
    low_high = spec.metadata.get("range")
    if low_high and not low_high[0] <= value <= low_high[1]:
        raise ConfigError(f"{key}: must be between {low_high[0]} and {low_high[1]}, not {value!r}")
    if hint is str and key.endswith(("path", "log_file")) and not value.strip():
        raise ConfigError(f"{key}: must not be empty")


def _type_name(hint) -> str:
    return {str: "text", bool: "true or false", int: "a whole number", float: "a number"}.get(hint, hint.__name__)


def _check_library_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("library.url: not a database URL (expected e.g. sqlite:///library.sqlite)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "mysql", "mariadb", "mssql"):
        raise ConfigError(f"library.url: unsupported database {parsed.get_backend_name()!r}; "
                          "use sqlite, postgresql, mysql/mariadb or mssql")


def mask_url(url: str) -> str:
    """A database URL safe to print: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def has_password(config: Config) -> bool:
    try:
        return bool(make_url(config.library.url).password)
    except ArgumentError:
        return False


def config_to_dict(config: Config) -> dict:
    return {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}


def save_config(config: Config, path: Path | str) -> None:
    """Validate, then replace the file atomically: a crash mid-write leaves the
    old file whole. A file holding a password is made readable by its owner only."""
    path = Path(path)
    document = config_to_dict(config)
    config_from_dict(document, base_dir=config.base_dir)
    text = HEADER + "\n" + tomli_w.dumps(document)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600 if has_password(config) else 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))


def replace_section(config: Config, section: str, **changes) -> Config:
    """A copy of the config with some keys of one section changed, validated."""
    current = getattr(config, section)
    document = config_to_dict(config)
    document[section] = {**dataclasses.asdict(current), **changes}
    return config_from_dict(document, base_dir=config.base_dir)
