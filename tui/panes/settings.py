"""Settings: every key of ``config.toml`` as a switch, a choice or a box,
labelled and explained by the engine's own help texts (the README's table
comes from the same place).

A change is posted as ``SettingChanged`` the moment it is made (a switch or a
choice) or confirmed (Enter, or leaving a box); the parent saves it through
the engine and hands back the re-read configuration (``show_config``) or the
problems, which appear beside their fields (``show_problems``). Turning a
``data`` switch off is posted as ``SwitchingOff`` instead: the parent first
finds out what the next sync would remove, shows it beside the switch
(``show_removals``) and asks, and saves only if told to. The library URL is
only ever shown with its password masked.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from engine.api import SECTIONS, Config, ConfigProblem, load_config, mask_url, replace_section, save_config

MASK = "***"
# Settings by the words a librarian uses; the rest read as their key's words.
LABELS = {
    "source.kind": "Export comes from", "source.path": "Export folder", "source.url": "Feed address",
    "source.token_url": "Token address", "source.estab": "School number", "source.relying_party": "Registered as",
    "source.school_id": "Wonde school id", "source.secret_file": "Secret file", "source.page_size": "Records per page",
    "source.archive": "Snapshot folder", "source.keep_days": "Keep snapshots, days",
    "source.full_every_days": "Full fetch every, days", "source.max_age_hours": "Oldest export, hours",
    "library.kind": "Library system", "library.url": "Library database", "koha.branchcode": "Koha branch",
    "koha.student_category": "Pupils' category", "koha.staff_category": "Staff category",
    "koha.leaver_category": "Leavers' category", "koha.attribute_mis_id": "MIS id attribute",
    "koha.attribute_upn": "UPN attribute", "koha.attribute_admission_no": "Admission no. attribute",
    "koha.group_column": "Tutor group column", "koha.year_column": "Year column", "sync.log_file": "Run log file",
    "sync.leaver_group": "Leavers' tutor group", "sync.max_recycle_share": "Most recycled at once",
    "sync.min_export_share": "Smallest export", "sync.rollover_from_month": "Roll-over from month",
    "sync.rollover_to_month": "Roll-over to month", "data.pre_admissions": "Pre-admissions",
    "data.photo_max_kb": "Largest photo, KB", "barcodes.scheme": "New barcodes", "barcodes.prefix": "Barcode prefix",
    "barcodes.digits": "Barcode digits", "intake.auto_accept_score": "Auto-accept score",
    "intake.auto_accept_margin": "Auto-accept margin",
}
# Settings naming a place on disk: "folder" (it must exist) or "file" (its folder must).
PATHS = {"source.path": "folder", "source.secret_file": "file", "sync.log_file": "file"}


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    kind: object  # bool, int, float, str or a Literal
    help: str

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def widget_id(self) -> str:
        return f"setting-{self.section}-{self.key}"

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.key.replace("_", " ").capitalize())


def all_settings() -> list[Setting]:
    return [Setting(section, spec.name, typing.get_type_hints(cls)[spec.name], spec.metadata["help"])
            for section, cls in SECTIONS.items() for spec in dataclasses.fields(cls)]


def shown_value(config: Config, setting: Setting) -> object:
    value = getattr(getattr(config, setting.section), setting.key)
    return mask_url(value) if setting.name == "library.url" else value


def save_setting(path: Path, section: str, key: str, value: object) -> Config:
    """Change one key in the file and read it back. The file is read afresh
    first, so that a change someone else made to another key meanwhile is kept.
    Raises ``ConfigError`` (nothing written) if the value is refused."""
    save_config(replace_section(load_config(path), section, **{key: value}), path)
    return load_config(path)


class OnOff(Checkbox):
    """A switch that says "on" or "off" and leaves its box empty when off:
    its state never rests on colour."""

    @property
    def BUTTON_INNER(self) -> str:
        return "X" if self.value else " "

    def watch_value(self) -> None:
        self.label = "on" if self.value else "off"
        super().watch_value()


class SettingsPane(VerticalScroll):
    @dataclass
    class SettingChanged(Message):
        section: str
        key: str
        value: object

    @dataclass
    class SwitchingOff(Message):
        """A ``data`` switch turned off, not saved yet."""
        key: str

    def __init__(self, config: Config, config_path: Path, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.config_path = config_path
        self.settings = {s.widget_id: s for s in all_settings()}
        # Per setting switched off: what the next sync will remove, as a sentence.
        self._removing: dict[str, str] = {}
        # Per path setting: the missing path the librarian was warned of (Enter again saves it).
        self._warned: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label(f"Saved to {self.config_path} as soon as you change something (Enter, or leave a box).",
                    id="settings-help", markup=False)
        section = None
        for setting in self.settings.values():
            if setting.section != section:
                section = setting.section
                doc = (SECTIONS[section].__doc__ or "").split("\n")[0]
                yield Label(f"[{section}] {doc}", classes="settings-section", markup=False)
            with Horizontal(classes="setting"):
                yield Label(setting.label, classes="setting-label")
                yield self._widget(setting)
                yield Label(setting.help.replace("`", ""), classes="setting-help", markup=False)
            yield Label("", id=f"{setting.widget_id}-note", classes="setting-note", markup=False)

    def _widget(self, setting: Setting) -> Widget:
        value = shown_value(self.config, setting)
        if setting.kind is bool:
            return OnOff("on" if value else "off", value=value, id=setting.widget_id, compact=True)
        if typing.get_origin(setting.kind) is Literal:
            choices = typing.get_args(setting.kind)
            return Select([(c, c) for c in choices], value=value, allow_blank=False, id=setting.widget_id,
                          compact=True)
        kind = {int: "integer", float: "number"}.get(setting.kind, "text")
        return Input(str(value), type=kind, id=setting.widget_id, compact=True, select_on_focus=False,
                     classes="-text" if kind == "text" else "")

    def focus_first(self) -> None:
        self.query_one(f"#{next(iter(self.settings))}").focus()

    # --- changes -------------------------------------------------------------------

    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _chosen(self, event: Checkbox.Changed | Select.Changed) -> None:
        event.stop()
        self._changed(self.settings[event.control.id], event.value)

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _typed(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        setting = self.settings[event.input.id]
        text = event.input.value.strip()
        if text == str(shown_value(self.config, setting)):
            self._warned.pop(setting.name, None)
            self._clear_problem(setting)  # put back as saved: an error about another value is stale
            return
        if setting.name == "library.url" and MASK in text:
            self._note(setting, "✗ type the whole URL, its password included", error=True)
            return
        try:
            value = setting.kind(text) if setting.kind in (int, float) else text
        except ValueError:
            self._note(setting, f"✗ must be {'a whole number' if setting.kind is int else 'a number'}", error=True)
            return
        missing = self._missing(setting, text)
        if missing and (self._warned.get(setting.name) != text or not isinstance(event, Input.Submitted)):
            self._warned[setting.name] = text
            self._note(setting, f"⚠ {missing}: not saved yet. Enter saves it anyway", warning=True)
            return
        self._warned.pop(setting.name, None)
        self._changed(setting, value)

    def _missing(self, setting: Setting, text: str) -> str:
        """What is missing on disk for a path setting, or "" (relative paths are from config.toml's folder)."""
        kind = PATHS.get(setting.name)
        if kind is None or not text:
            return ""
        path = self.config_path.parent / Path(text).expanduser()
        if kind == "folder" and not path.is_dir():
            return f"there is no folder {path}"
        if kind == "file" and not path.parent.is_dir():
            return f"there is no folder {path.parent} for it"
        return ""

    def _clear_problem(self, setting: Setting) -> None:
        note = self.query_one(f"#{setting.widget_id}-note", Label)
        if note.has_class("-error") or note.has_class("-warning"):
            self._note(setting, "")

    def _changed(self, setting: Setting, value: object) -> None:
        if value == getattr(getattr(self.config, setting.section), setting.key):
            return
        self._removing.pop(setting.name, None)
        if setting.section == "data" and value is False:
            self._note(setting, "not saved yet: finding what the next sync would remove…")
            self.post_message(self.SwitchingOff(setting.key))
        else:
            self._note(setting, "saving…")
            self.post_message(self.SettingChanged(setting.section, setting.key, value))

    # --- what the engine said --------------------------------------------------------

    def show_config(self, config: Config, saved: str) -> None:
        """The configuration as re-read from the file, after ``saved`` was written."""
        self.config = config
        with self.prevent(Checkbox.Changed, Select.Changed):
            for setting in self.settings.values():
                widget = self.query_one(f"#{setting.widget_id}")
                value = shown_value(config, setting)
                widget.value = value if not isinstance(widget, Input) else str(value)
                if setting.name == saved:
                    removing = self._removing.get(saved)
                    self._note(setting, f"✓ saved to {self.config_path.name}" +
                               (f": the next sync will remove {removing}" if removing else ""))
                elif setting.name in self._removing and value:
                    del self._removing[setting.name]
                    self._note(setting, "kept on: nothing saved, nothing will be removed")
                else:
                    self._clear_problem(setting)  # shown as saved again: its old error no longer applies

    def show_removals(self, key: str, removing: str) -> None:
        """What the next sync will remove if switch ``data.key`` is saved off."""
        setting = self.settings[f"setting-data-{key}"]
        self._removing[setting.name] = removing
        self._note(setting, f"not saved yet: if it is, the next sync will remove {removing}")

    def show_problems(self, problems: list[ConfigProblem]) -> list[ConfigProblem]:
        """Show each problem beside its field; return those about no one field."""
        elsewhere = []
        for problem in problems:
            setting = self.settings.get(f"setting-{problem.key.replace('.', '-')}")
            if setting is None:
                elsewhere.append(problem)
            else:
                self._note(setting, f"✗ {problem.message} (not saved)", error=True)
        return elsewhere

    def _note(self, setting: Setting, text: str, error: bool = False, warning: bool = False) -> None:
        note = self.query_one(f"#{setting.widget_id}-note", Label)
        note.update(text)
        note.set_class(error, "-error")
        note.set_class(warning, "-warning")
        note.display = bool(text)
        if text:
            note.scroll_visible(animate=False)
