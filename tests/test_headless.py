"""The engine is headless: importing any of it never loads Textual or Rich, nor
the layers above it (the TUI, the command line). The import contracts in
pyproject.toml say the same statically; ``lint-imports`` checks them."""
from __future__ import annotations

import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).parents[1]
UI_PACKAGES = ("textual", "rich")
ABOVE_ENGINE = ("tui", "cli")


def engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(engine.__path__, prefix="engine."))


def loaded_after(statements: str, packages: tuple[str, ...] = UI_PACKAGES) -> list[str]:
    """Run some imports in a fresh interpreter; which of these packages' modules got loaded?"""
    probe = "\n".join(["import json, sys", statements,
                       f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})))"])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_engine_module_is_found():
    modules = engine_modules()
    assert {"engine.sync", "engine.plan", "engine.apply", "engine.matching", "engine.config",
            "engine.export.files", "engine.borrower_import"} <= set(modules)


def test_importing_every_engine_module_never_loads_textual_rich_the_tui_or_the_cli():
    imports = "\n".join(["for name in %r:" % engine_modules(), "    __import__(name)"])
    assert loaded_after(imports, UI_PACKAGES + ABOVE_ENGINE) == []


def test_a_headless_sync_never_loads_textual_or_rich(tmp_path):
    from tests.builders import student, write_export
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n[library]\nurl = "sqlite:///{tmp_path / "l.sqlite"}"\n'
                      f'[sync]\nlog_file = "mislink.log"\n', encoding="utf-8")
    statements = (f"from cli.main import main\n"
                  f"code = main(['--config', {str(config)!r}, '--sync', '--json'])\n"
                  f"assert code == 0, code")
    assert loaded_after(statements, UI_PACKAGES + ("tui",)) == []


def test_python_m_cli_help_works_without_loading_textual_or_the_tui():
    """``python -m cli --help``, run as ``-m`` runs it, inside the probe."""
    statements = ("import runpy\nsys.argv = ['mislink', '--help']\ntry:\n"
                  "    runpy.run_module('cli', run_name='__main__', alter_sys=True)\n"
                  "except SystemExit as done:\n    assert not done.code, done.code\n"
                  "else:\n    raise AssertionError('python -m cli did not exit')")
    assert loaded_after(statements, UI_PACKAGES + ("tui",)) == []
    done = subprocess.run([sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0 and "--sync" in done.stdout, done.stderr


def test_the_probe_would_see_textual_or_the_tui_if_they_were_imported():
    """Guard against a probe that cannot fail: importing textual or the TUI is noticed."""
    assert "textual" in loaded_after("import textual")
    assert loaded_after("import tui", UI_PACKAGES + ABOVE_ENGINE) == ["tui"]


# --- The import contracts (pyproject.toml), as CI runs them -----------------------

def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the packages under ``root``, with its contracts."""
    script = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(script)], capture_output=True, text=True, cwd=root, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)})


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# Each forbidden import (some inside a function, where only a static check sees
# them) and what lint-imports says of it.
FORBIDDEN = [
    ("engine/text.py", "import textual\n", "engine.text -> textual"),
    ("engine/db.py", "from rich.text import Text\n", "engine.db -> rich"),
    ("engine/sync.py", "def later():\n    from tui import app\n", "engine.sync -> tui.app"),
    ("engine/config.py", "def later():\n    import cli.main\n", "engine.config -> cli.main"),
    ("tui/app.py", "import cli.main\n", "tui.app -> cli.main"),
    ("engine/text.py", "def later():\n    import engine.sync\n", "No cycles are allowed in engine."),
    ("cli/common.py", "def later():\n    from cli.main import main\n", "No cycles are allowed in cli."),
    ("tui/panes/intake.py", "from engine.intake import decide\n", "tui.panes.intake -> engine.intake"),
    ("tui/library.py", "from engine import session\n", "tui.library -> engine.session"),
    ("cli/intake.py", "def later():\n    from engine.intake import queue\n", "cli.intake -> engine.intake.queue"),
]


def test_every_kind_of_forbidden_import_breaks_a_contract(tmp_path):
    """The contracts can fail: in a copy of the code with forbidden imports
    added, lint-imports exits 1 and names each one."""
    for package in ("engine", "tui", "cli"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for module, code, _ in FORBIDDEN:
        with open(tmp_path / module, "a", encoding="utf-8") as source:
            source.write("\n" + code)
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [said for _, _, said in FORBIDDEN if said not in done.stdout] == [], done.stdout


# --- The public face: engine.api, and one Refusal ------------------------------

# Exceptions the engine defines that are not refusals, by name, and why.
NOT_REFUSALS = {
    # The database did not save what it was asked to: a failure, not advice.
    "CommitFailed",
    # An export that cannot be read, or a live feed that cannot be fetched
    # (an ExportError): the sync records a failed run (exit 1) and never
    # raises it to its caller.
    "ExportError", "FeedError",
    # A problem with one value, reported beside the record, never raised out.
    "FieldProblem", "Unusable", "BarcodeError", "EncodingProblem",
}


def engine_exceptions() -> dict[str, type]:
    import importlib
    found = {}
    for name in engine_modules():
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == name \
                    and not value.__name__.startswith("_"):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exception_the_engine_raises_is_a_refusal_or_a_named_failure():
    from engine.errors import Refusal
    exceptions = engine_exceptions()
    assert {"engine.intake.queue.IntakeError", "engine.lock.LibraryBusy", "engine.config.ConfigError"} <= \
        set(exceptions)
    assert sorted(cls.__name__ for cls in exceptions.values() if not issubclass(cls, Refusal)) == sorted(NOT_REFUSALS)


def test_the_api_exports_every_refusal_and_commit_failed_and_names_only_what_it_has():
    import engine.api as api
    assert all(hasattr(api, name) for name in api.__all__) and len(set(api.__all__)) == len(api.__all__)
    refusals = {cls for name, cls in engine_exceptions().items() if issubclass(cls, api.Refusal)}
    exported = {value for value in map(api.__dict__.get, api.__all__) if isinstance(value, type)}
    internal = {"engine.decisions.UndoRefused"}  # engine.intake turns it into an IntakeError
    assert {cls for cls in refusals if f"{cls.__module__}.{cls.__qualname__}" not in internal} <= exported
    assert api.CommitFailed in exported and not issubclass(api.CommitFailed, api.Refusal)
