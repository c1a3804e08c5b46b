"""The sync dialog while a live feed is fetched: one bar per endpoint, pages
done / page count (Wonde: "page N" until its last page), and a failed fetch
explained by endpoint and page. Fetched from fake servers on 127.0.0.1; retry
waits are recorded, never slept."""
from __future__ import annotations

from textual.widgets import Label, ProgressBar

from engine.config import save_config
from tests.builders import Library
from tests.support.fake_wonde import TOKEN, FakeWonde, WondeServer, wonde_student
from tests.support.feeds import feed_config, pupils, wonde_config, xod_source
from tests.support.schools import build_school
from tests.support.tui import drives_the_app, press, running, settle
from tui.dialogs.sync_preview import PageBar, SyncPreview


def app_config(tmp_path, config) -> str:
    """The config as the app's config.toml, its library holding one borrower."""
    Library(config.library_url).add_borrower("S0001", "Alfred", "Smyth", "2012-03-04")
    path = tmp_path / "config.toml"
    save_config(config, path)
    return path


def xod_app(tmp_path, fake):
    url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    return app_config(tmp_path, feed_config(tmp_path, url, xod_source(fake.url)))


def bars(dialog: SyncPreview) -> dict[str, tuple[float | None, float, str]]:
    """Each endpoint's bar as shown: (total, progress, the pages in words)."""
    return {bar.endpoint: (bar.query_one(ProgressBar).total, bar.query_one(ProgressBar).progress,
                           str(bar.query_one(".page-words", Label).content))
            for bar in dialog.query(PageBar)}


def message(dialog: SyncPreview) -> str:
    return str(dialog.query_one("#sync-message", Label).content)


@drives_the_app
async def test_a_xod_fetch_shows_a_bar_per_endpoint_up_to_its_page_count(tmp_path, fake):
    async with running(xod_app(tmp_path, fake)) as pilot:
        await press(pilot, "ctrl+r")
        dialog = pilot.app.screen
        assert dialog.preview.outcome == "dry-run", dialog.preview.message
        # Five pupils, two a page.
        assert bars(dialog) == {"Students": (3, 3, "3/3 pages"), "SchoolInfo": (1, 1, "1/1 pages")}
        assert dialog.query_one("#feed-pages").display


@drives_the_app
async def test_a_failed_xod_fetch_names_endpoint_and_page_and_its_bar_stops(tmp_path, fake):
    fake.fail("Students", 2, "envelope")
    async with running(xod_app(tmp_path, fake)) as pilot:
        await press(pilot, "ctrl+r")
        dialog = pilot.app.screen
        assert dialog.preview.outcome == "failed"
        assert message(dialog) == "Students page 2: Xporter returned an error: Something went wrong"
        assert bars(dialog) == {"Students": (3, 1, "stopped after page 1")}
        assert dialog.query_one("#apply").disabled


def wonde_app(tmp_path, url):
    return app_config(tmp_path, wonde_config(tmp_path, url, f"sqlite:///{tmp_path / 'library.sqlite'}"))


@drives_the_app
async def test_wonde_gives_no_page_count_its_bar_runs_on_until_the_last_page(tmp_path, monkeypatch):
    monkeypatch.setenv("MISLINK_SOURCE_SECRET", TOKEN)
    with WondeServer(FakeWonde(students=[wonde_student(p) for p in pupils(5)])) as url:
        async with running(wonde_app(tmp_path, url)) as pilot:
            await press(pilot, "ctrl+r")
            dialog = pilot.app.screen
            assert dialog.preview.outcome == "dry-run", dialog.preview.message
            assert bars(dialog)["students"] == (3, 3, "3/3 pages")
            # Mid-fetch, a page with more to come: no count to show.
            dialog.show_pages("employees", 1, 2)
            await settle(pilot)
            assert bars(dialog)["employees"] == (None, 1, "page 1")


@drives_the_app
async def test_a_failed_wonde_fetch_names_endpoint_and_page(tmp_path, monkeypatch):
    monkeypatch.setenv("MISLINK_SOURCE_SECRET", TOKEN)
    fake = FakeWonde(students=[wonde_student(p) for p in pupils(5)],
                     faults={("students", 2): (422, {"message": "The given data was invalid."})})
    with WondeServer(fake) as url:
        async with running(wonde_app(tmp_path, url)) as pilot:
            await press(pilot, "ctrl+r")
            dialog = pilot.app.screen
            assert "students page 2: Wonde did not accept the request (HTTP 422): The given data was invalid." \
                in message(dialog)
            assert bars(dialog) == {"students": (2, 1, "stopped after page 1")}


@drives_the_app
async def test_a_folder_source_shows_no_page_bars(tmp_path):
    async with running(build_school(tmp_path)) as pilot:
        await press(pilot, "ctrl+r")
        dialog = pilot.app.screen
        assert dialog.preview.outcome == "dry-run"
        assert not dialog.query(PageBar) and not dialog.query_one("#feed-pages").display
