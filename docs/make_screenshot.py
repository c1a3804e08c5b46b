"""docs/mislink.svg, the README's picture of the terminal UI: the demo school
synced into a fresh library, the app opened on it and a suggestion shown,
saved with Textual's own screenshot.

    .venv/bin/python -m docs.make_screenshot
"""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from cli.main import main as mislink
from engine.api import load_config
from tui.app import make_app

ROOT = Path(__file__).resolve().parent.parent
SIZE = (100, 30)
# Down to the third record, which has a suggestion to compare.
KEYS = ("down", "down")


def demo_library(folder: Path) -> Path:
    """The demo's borrower list imported and its export synced, as the README's quick start does."""
    template = (ROOT / "config.toml").read_text()
    config = folder / "config.toml"
    config.write_text(template.replace('"demo/school"', f'"{ROOT / "demo" / "school"}"')
                      .replace("sqlite:///demo/library.sqlite", f"sqlite:///{folder / 'library.sqlite'}")
                      .replace('"demo/mislink.log"', f'"{folder / "mislink.log"}"'))
    for command in (["borrowers", "import", str(ROOT / "demo" / "borrowers.csv")], ["--sync"]):
        if mislink(["--config", str(config), *command]):
            raise SystemExit(f"mislink {' '.join(command)} failed")
    return config


async def shoot(config: Path, out: Path) -> None:
    app = make_app(load_config(config), config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)  # the queue, the index and the first suggestions
        for key in KEYS:
            await pilot.press(key)
        await pilot.pause(1.0)
        app.save_screenshot(filename=out.name, path=str(out.parent))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(shoot(demo_library(Path(folder)), ROOT / "docs" / "mislink.svg"))
