"""Saving settings (what the TUI's settings pane calls): validated first,
written atomically, header kept, owner-only when the file holds a password."""
from __future__ import annotations

import dataclasses
import errno
import os
import stat
import tomllib
from pathlib import Path

import pytest

from engine import config as config_module
from engine.config import HEADER, ConfigError, config_from_dict, load_config, replace_section, save_config

SECRET_URL = "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"
OLD_TEXT = "# the old file\n[data]\nphotos = false\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    """Anything in the folder besides config.toml: a temporary file left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name != "config.toml")


@pytest.fixture
def old_file(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(OLD_TEXT, encoding="utf-8")
    path.chmod(0o644)
    return path


def changed(tmp_path) -> config_module.Config:
    return replace_section(config_from_dict({"source": {"path": "export"}}, base_dir=tmp_path), "data",
                           photos=True, staff=True, staff_year_group=14)


def test_a_saved_file_loads_back_as_the_same_settings(old_file, tmp_path):
    config = replace_section(changed(tmp_path), "sync", leaver_group="Left {year} ({group})")
    save_config(config, old_file)
    assert load_config(old_file) == config
    assert leftovers(tmp_path) == []


def test_the_header_comment_is_kept_above_the_settings(old_file, tmp_path):
    save_config(changed(tmp_path), old_file)
    text = old_file.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert "README.md" in HEADER
    assert tomllib.loads(text)["data"]["photos"] is True


def test_an_invalid_config_is_refused_and_the_file_left_alone(old_file, tmp_path):
    broken = dataclasses.replace(changed(tmp_path), data=dataclasses.replace(changed(tmp_path).data,
                                                                             photo_max_kb=0))
    with pytest.raises(ConfigError) as caught:
        save_config(broken, old_file)
    assert caught.value.keys == ["data.photo_max_kb"]
    assert old_file.read_text(encoding="utf-8") == OLD_TEXT
    assert leftovers(tmp_path) == []


class FailingWrites:
    """A file handle that writes part of its text, then finds the disk full."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False

    def write(self, text: str) -> int:
        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def fail_mid_write(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(config_module.os, "fdopen", lambda *a, **k: FailingWrites(real_fdopen(*a, **k)))


def fail_at(name: str):
    def install(monkeypatch):
        def refuse(*args, **kwargs):
            raise OSError(errno.EIO, f"{name} failed")
        monkeypatch.setattr(config_module.os, name, refuse)
    return install


@pytest.mark.parametrize("failure", [fail_mid_write, fail_at("fsync"), fail_at("chmod"), fail_at("replace")],
                         ids=["write", "fsync", "chmod", "rename"])
def test_a_failure_mid_save_leaves_the_old_file_whole_and_no_temporary_file(old_file, tmp_path, monkeypatch,
                                                                            failure):
    failure(monkeypatch)
    with pytest.raises(OSError):
        save_config(changed(tmp_path), old_file)
    monkeypatch.undo()
    assert old_file.read_text(encoding="utf-8") == OLD_TEXT
    assert leftovers(tmp_path) == []


def test_the_new_text_appears_only_by_rename(old_file, tmp_path, monkeypatch):
    """Until the rename the old file is untouched, so no reader ever sees half a file."""
    seen = {}
    real_replace = os.replace

    def watch(source, target):
        seen["target before rename"] = Path(target).read_text(encoding="utf-8")
        seen["source"] = Path(source).read_text(encoding="utf-8")
        real_replace(source, target)

    monkeypatch.setattr(config_module.os, "replace", watch)
    save_config(changed(tmp_path), old_file)
    assert seen["target before rename"] == OLD_TEXT
    assert seen["source"] == old_file.read_text(encoding="utf-8")


def test_a_file_with_a_password_is_readable_by_its_owner_only(old_file, tmp_path):
    config = replace_section(changed(tmp_path), "library", url=SECRET_URL)
    save_config(config, old_file)
    assert mode(old_file) == 0o600
    assert load_config(old_file).library.url == SECRET_URL


def test_a_file_without_a_password_keeps_its_mode(old_file, tmp_path):
    old_file.chmod(0o640)
    save_config(changed(tmp_path), old_file)
    assert mode(old_file) == 0o640


def test_a_new_file_without_a_password_is_readable_by_others(tmp_path):
    save_config(changed(tmp_path), tmp_path / "config.toml")
    assert mode(tmp_path / "config.toml") == 0o644


def test_saving_through_a_symlink_replaces_the_real_file(tmp_path):
    real = tmp_path / "settings" / "mislink.toml"
    real.parent.mkdir()
    real.write_text(OLD_TEXT, encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_config(changed(tmp_path), link)
    assert link.is_symlink()
    assert tomllib.loads(real.read_text(encoding="utf-8"))["data"]["staff"] is True


def test_saving_never_prints_the_password(old_file, tmp_path, capsys):
    save_config(replace_section(changed(tmp_path), "library", url=SECRET_URL), old_file)
    captured = capsys.readouterr()
    assert "s3cret" not in captured.out + captured.err
