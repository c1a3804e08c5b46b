"""The Intake keys act only on the record shown: moving the selection and
pressing a decision key at once never decides the record just left. Each
key is pressed together with ↓, many times over, at 80×24 and 120×40; after
each press the library database says whether anything was decided, and
anything decided is the record the cursor is on."""
from __future__ import annotations

import asyncio
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine.api import OPEN_INTAKE, load_config, save_config
from engine.intake import match_entry
from tests.builders import Library, make_config, student
from tests.support.schools import library_of, sync_export
from tests.support.tui import (POLL, drives_the_app, keys_handled, messages_handled, running, send_keys, type_keys,
                                until_steady)
from tui.debounce import waiting
from tui.dialogs.confirm_anyway import ConfirmAnyway

NAMES = ("Amara Bilal Chloe Dylan Esme Farid Gemma Harvey Isla Jonah Keira Leon Maisie Nathan Olive Pavel Quinn "
         "Rosa Samir Tilly Umar Violet Wyatt Xena Yusuf Zara Aled Beth Cian Dina Emil Fern Gus Hana Ivo Jade Kai "
         "Lara Milo Nia Owen Pia Rhys Sian").split()
# Each pupil is suggested three borrowers, all alike them: any key could decide.
LOOKALIKES = ("Karter", "Carters", "Cartor")
ROUNDS = 20
SIZES = [(80, 24), (120, 40)]


def build_lookalike_school(tmp_path):
    url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    pupils = [student(name, "Carter", (date(2011, 9, 1) + timedelta(days=7 * i)).isoformat(), Id=str(200 + i))
              for i, name in enumerate(NAMES)]
    library = Library(url)
    for i, pupil in enumerate(pupils):
        for j, surname in enumerate(LOOKALIKES):
            library.add_borrower(f"B{j}{i:02d}", pupil["Forename"], surname, pupil["DateofBirth"], gender="F",
                                 year_group="Year 8", tutor_group="8A")
    path = save_lookalike_config(tmp_path)
    sync_export(tmp_path, pupils)
    return path


def save_lookalike_config(folder: Path) -> Path:
    path = folder / "config.toml"
    save_config(make_config(folder, f"sqlite:///{folder / 'library.sqlite'}", barcodes={"prefix": "S", "digits": 4},
                            sync={"max_recycle_share": 1.0, "min_export_share": 0.0}), path)
    return path


@pytest.fixture(scope="module")
def built_school(tmp_path_factory) -> Path:
    """The lookalike school, built once per test process (135 borrowers and a sync)."""
    return build_lookalike_school(tmp_path_factory.mktemp("lookalikes")).parent


@pytest.fixture
def school(tmp_path, built_school) -> Path:
    """A copy of the lookalike school of this test's own, as it was just after
    its sync; returns the path of its config.toml."""
    for name in ("library.sqlite", "library.sqlite-wal"):
        if (built_school / name).exists():
            shutil.copyfile(built_school / name, tmp_path / name)
    shutil.copytree(built_school / "export", tmp_path / "export")
    return save_lookalike_config(tmp_path)


def decisions(path) -> dict[str, tuple]:
    """Each Intake record's status and borrower, as the database has them."""
    return {row["mis_id"]: (row["status"], row["borrower_id"]) for row in library_of(load_config(path)).intake()}


async def until_the_queue_is_current(pilot, path, timeout: float = 30.0) -> None:
    """Until the app is steady and its queue lists the records the library
    has open, each as it is now: a decision reloads the queue after it is
    made, and the rows shift under the cursor when it lands. Where ↓ goes
    can be worked out only from the rows as they will be when ↓ is handled."""
    deadline = time.monotonic() + timeout
    while True:
        await until_steady(pilot)
        listed = {entry.mis_id: entry.status for entry in pilot.app.intake.queue.entries}
        if listed == {mis_id: status for mis_id, (status, _) in decisions(path).items() if status in OPEN_INTAKE}:
            return
        assert time.monotonic() < deadline, "the queue never caught up with the library"


def landing_row(app):
    """The entry ↓ will move the cursor to."""
    table = app.intake.queue.table
    row = min(table.cursor_row + 1, table.row_count - 1)
    return app.intake.queue.entry_at(row)


async def until_the_suggestions_load(pilot) -> None:
    """Until the move is announced and the pause before loading the new
    record's suggestions has passed: they are loading now (or just shown)."""
    await keys_handled(pilot.app)
    await messages_handled(pilot.app)
    while waiting(pilot.app):
        await asyncio.sleep(POLL)


async def answer_doubts(pilot) -> None:
    """A doubted match asks first; the librarian insists (y)."""
    if isinstance(pilot.app.screen, ConfirmAnyway):
        await type_keys(pilot, "y")
        await until_steady(pilot)


async def decide_and_check(pilot, path, landing, keys, together: bool = True) -> bool:
    """Press ``keys`` (all queued at once, or each acted on before the next);
    True if a record was decided, and then it was ``landing``."""
    before = decisions(path)
    if together:
        send_keys(pilot.app, *keys)
    else:
        await type_keys(pilot, *keys)
    await until_steady(pilot)
    await answer_doubts(pilot)
    changed = {mis_id for mis_id, state in decisions(path).items() if before[mis_id] != state}
    assert changed <= {landing.mis_id}, f"{keys} decided {changed}, not {landing.mis_id} ({landing.name})"
    await until_the_queue_is_current(pilot, path)  # before the next landing is worked out
    return bool(changed)


async def back_to_the_top_if_at_the_end(pilot) -> None:
    table = pilot.app.intake.queue.table
    if table.cursor_row >= table.row_count - 1:
        pilot.app.intake.queue.focus_list()
        await type_keys(pilot, "home")
        await until_steady(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["1", "2", "3", "n", "r"])
@drives_the_app
async def test_a_decision_key_pressed_with_a_move_decides_the_record_moved_to_or_nothing(school, key, size):
    path = school
    decided = 0
    async with running(path, size) as pilot:
        await until_steady(pilot)
        for round_ in range(ROUNDS):
            await back_to_the_top_if_at_the_end(pilot)
            landing = landing_row(pilot.app)
            # Alternately: both keys queued together, and the key once the
            # move is announced but while the suggestions are still loading.
            if round_ % 2:
                send_keys(pilot.app, "down")
                await until_the_suggestions_load(pilot)
                decided += await decide_and_check(pilot, path, landing, (key,))
            else:
                decided += await decide_and_check(pilot, path, landing, ("down", key))
            # Once the record's own suggestions are on screen, the key decides it.
            if round_ % 10 == 0:
                landing = pilot.app.intake.queue.under_cursor
                assert await decide_and_check(pilot, path, landing, (key,))
                decided += 1
    assert decided >= ROUNDS // 10


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@drives_the_app
async def test_a_search_opened_with_a_move_is_for_the_record_moved_to_or_not_opened(school, size):
    path = school
    matched = 0
    async with running(path, size) as pilot:
        app = pilot.app
        await until_steady(pilot)
        for _ in range(ROUNDS):
            await back_to_the_top_if_at_the_end(pilot)
            landing = landing_row(app)
            send_keys(app, "down", "s")
            await until_steady(pilot)
            if not app.intake.searching:
                assert app.intake.entry == landing
                continue
            heading = str(app.query_one("#search-heading").render())
            assert landing.name in heading, heading
            await type_keys(pilot, *landing.forename.lower())
            await until_steady(pilot)
            matched += await decide_and_check(pilot, path, landing, ("down", "m"), together=False)
            await until_steady(pilot)
    # Nothing is decided on the record just left; nothing is lost either.
    assert matched or all(state[0] == "pending" for state in decisions(path).values())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@drives_the_app
async def test_enter_opens_the_suggestions_and_never_decides(school, size):
    path = school
    before = decisions(path)
    async with running(path, size) as pilot:
        app = pilot.app
        await until_steady(pilot)
        for _ in range(ROUNDS):
            send_keys(app, "down", "enter", "enter")
            await until_steady(pilot)
            assert app.focused is app.query_one("#candidates")
            app.intake.queue.focus_list()
        # In the suggestions, ↓ chooses the next one, and its number accepts it.
        await type_keys(pilot, "enter", "down")
        await until_steady(pilot)
        assert app.intake.suggestions.chosen == 1
        shown = app.intake.shown
        barcode = app.intake.suggestions.candidates[1].suggestion.barcode
        await type_keys(pilot, "escape")
        assert app.focused is app.intake.queue.table
        assert decisions(path) == before
        await type_keys(pilot, "2")
        await until_steady(pilot)
        await answer_doubts(pilot)
    after = decisions(path)
    assert {m for m in after if after[m] != before[m]} == {shown.mis_id}
    assert library_of(load_config(path)).borrower(barcode)["mis_id"] == shown.mis_id


@drives_the_app
async def test_u_undoes_the_decision_made_here_even_if_another_was_made_since(school):
    path = school
    async with running(path) as pilot:
        app = pilot.app
        await until_steady(pilot)
        mine = app.intake.shown
        await type_keys(pilot, "n")
        await until_steady(pilot)
        # Meanwhile someone matches another record with the command line.
        config = load_config(path)
        with library_of(config).session() as session:
            other = next(e for e in app.intake.queue.entries if e.id != mine.id)
            match_entry(session, config, other.id, f"B0{int(other.mis_id) - 200:02d}",
                        actor="someone else")
        await type_keys(pilot, "u")
        await until_steady(pilot)
    after = decisions(path)
    assert after[mine.mis_id][0] == "pending"
    assert after[other.mis_id][0] == "matched"
