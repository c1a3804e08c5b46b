"""The engine is headless: importing any of it never loads Textual or Rich."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).parents[1]
UI_PACKAGES = ("textual", "rich")


def engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(engine.__path__, prefix="engine."))


def loaded_after(statements: str) -> dict:
    """Run some imports in a fresh interpreter; which UI packages got loaded?"""
    probe = "\n".join(["import json, sys", statements,
                       f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r})))"])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_engine_module_is_found():
    modules = engine_modules()
    assert {"engine.sync", "engine.plan", "engine.apply", "engine.matching", "engine.config",
            "engine.export.files", "engine.borrower_import"} <= set(modules)


def test_importing_every_engine_module_never_loads_textual_or_rich():
    imports = "\n".join(["for name in %r:" % engine_modules(), "    __import__(name)"])
    assert loaded_after(imports) == []


def test_a_headless_sync_never_loads_textual_or_rich(tmp_path):
    from tests.builders import student, write_export
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace")])
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\npath = "export"\n[library]\nurl = "sqlite:///{tmp_path / "l.sqlite"}"\n'
                      f'[sync]\nlog_file = "mislink.log"\n', encoding="utf-8")
    statements = (f"from cli.main import main\n"
                  f"code = main(['--config', {str(config)!r}, '--sync', '--json'])\n"
                  f"assert code == 0, code")
    assert loaded_after(statements) == []


def test_the_probe_would_see_textual_if_it_were_imported():
    """Guard against a probe that cannot fail: importing textual is noticed."""
    assert "textual" in loaded_after("import textual")
