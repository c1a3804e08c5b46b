"""Xporter on Demand: fetched from a fake server on 127.0.0.1 into a snapshot, then synced.

In every fault the library is exactly as it was and the message names the
endpoint and page. Retry waits are recorded, never slept.
"""
from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine.feeds import http
from engine.models import SyncRun
from engine.sync import run_sync
from tests.builders import TODAY, Library, student
from tests.support.fake_xod import FakeXod, serving
from tests.support.feeds import ESTAB, FRESH, XOD_PUPILS, feed_config, responses_of, school_export, xod_source


def xod_config(tmp_path, library_url, fake, **source):
    return feed_config(tmp_path, library_url, xod_source(fake.url, **source))


def mis_ids(library: Library) -> list[str]:
    """Everyone the library has as on roll: active borrowers and open Intake entries."""
    return sorted([b["mis_id"] for b in library.borrowers().values() if b["status"] == "active" and b["mis_id"]]
                  + [e["mis_id"] for e in library.intake() if e["status"] in ("pending", "new")])


def last_run(library: Library) -> dict:
    return library.rows("sync_runs")[-1]


def test_a_full_fetch_is_saved_as_a_private_snapshot_and_synced(tmp_path, library_url, fake):
    config = xod_config(tmp_path, library_url, fake)
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    library = Library(library_url)
    assert mis_ids(library) == ["10", "11", "12", "13", "14"]
    run = last_run(library)
    snapshot = tmp_path / "snapshots" / run["snapshot"].rsplit("/", 1)[-1]
    assert run["snapshot"] == str(snapshot) and stat.S_IMODE(snapshot.stat().st_mode) == 0o700
    assert sorted(p.name for p in snapshot.iterdir()) == ["GDPRIDs.json", "SchoolInfo.json", "Students.json"]
    assert len(json.loads((snapshot / "Students.json").read_text())) == 3  # five pupils, two a page
    assert run["estab"] == ESTAB and run["mis_name"] == "simsnet"
    # Only what the settings need, with leavers; every data call carries the token.
    asked = [name for method, name, _ in fake.requests if method == "GET"]
    assert asked == ["GDPRIDs", "Students", "Students", "Students", "SchoolInfo"]
    assert fake.data_requests("Students")[0] == {"pageSize": "2", "options": "includeLeavers", "changedRows": "*",
                                                 "page": "1"}
    assert json.loads(run["next_delta"])["tokens"].keys() == {"Students"}


def test_the_same_school_from_the_feed_and_from_a_folder_gives_identical_libraries(tmp_path, sleeps, monkeypatch):
    from tests.optional_builders import write_optional_school
    from tests.support.schools import EVERY_OPTION_ON

    monkeypatch.setenv("MISLINK_SOURCE_SECRET", "s3cret")
    folder = tmp_path / "school"
    write_optional_school(folder, Groups={"Group": [], "StaffMembers": [], "StudentMembers": []})
    school_export(folder, pupils=json.loads((folder / "Students.json").read_text())["Students"] + XOD_PUPILS)
    libraries = []
    with serving(FakeXod(responses_of(folder), estab=ESTAB)) as url:
        for name, source in (("feed", xod_source(url)), ("folder", {"path": str(folder)})):
            (tmp_path / name).mkdir()
            library_url = f"sqlite:///{tmp_path / name}.sqlite"
            config = feed_config(tmp_path / name, library_url, source, data=EVERY_OPTION_ON)
            assert run_sync(config, today=TODAY).outcome == "ok"
            libraries.append(_contents(Library(library_url)))
    assert libraries[0] == libraries[1]
    # Everyone came through, with the optional data the fake served page by page.
    assert len(libraries[0]["intake"]) == 7
    assert sum('"guardians": [{' in entry["record"] for entry in libraries[0]["intake"]) == 1


def _contents(library: Library) -> dict:
    """Every table but the runs' own records (their source and times), without times."""
    return {table: [{k: v for k, v in row.items() if not isinstance(v, datetime)} for row in rows]
            for table, rows in library.snapshot().items() if table not in ("sync_runs", "run_changes")}


# -- faults: the library is exactly as it was, the message names endpoint and page --

@pytest.fixture
def synced_with_delta(tmp_path, library_url, fake):
    """The school after one good full fetch, its delta token stored; the
    server then has a pupil fewer, so any run that got through would change
    the library."""
    config = xod_config(tmp_path, library_url, fake)
    assert run_sync(config, today=TODAY).outcome == "ok"
    fake.responses["Students"]["Students"] = fake.responses["Students"]["Students"][:-1]
    return config, Library(library_url)


@pytest.fixture
def synced(synced_with_delta):
    """The same, but its next run fetches everything (as after a folder sync)."""
    config, library = synced_with_delta
    with library.session() as session:
        session.execute(update(SyncRun).values(next_delta=None))
    return config, library


def fails_unchanged(config, library: Library, message: str, outcome: str = "failed") -> None:
    before = library.snapshot()
    archived = sorted((config.base_dir / "snapshots").iterdir())
    report = run_sync(config, today=TODAY)
    assert (report.outcome, report.message) == (outcome, message)
    assert library.snapshot() == before
    assert sorted((config.base_dir / "snapshots").iterdir()) == archived  # nothing half-fetched is kept


@pytest.mark.parametrize("fault, message", [
    ("timeout", "Students page 2: no answer in time; gave up after retrying"),
    ("truncated", "Students page 2: the answer was cut short; gave up after retrying"),
    ("500", "Students page 2: server error (HTTP 500); gave up after retrying"),
])
def test_a_page_that_keeps_failing_stops_the_run(synced, fake, sleeps, fault, message):
    fake.fail("Students", 2, fault, times=4)
    fails_unchanged(*synced, message)
    assert sleeps == [1, 2, 4]


def test_500_then_success_goes_on(synced, fake, sleeps):
    config, library = synced
    fake.fail("Students", 2, "500")
    assert run_sync(config, today=TODAY).outcome == "ok"
    assert sleeps == [1] and "14" not in mis_ids(library)


def test_429_waits_what_retry_after_says_then_goes_on(synced, fake, sleeps):
    fake.fail("Students", 1, "429")
    assert run_sync(synced[0], today=TODAY).outcome == "ok"
    assert sleeps == [2.0]


def test_a_token_that_expires_mid_run_is_renewed_once(synced, fake):
    config, library = synced
    fake.fail("Students", 2, "expired")
    tokens_before = sum(1 for _, name, _ in fake.requests if name == "token")
    assert run_sync(config, today=TODAY).outcome == "ok"
    assert sum(1 for _, name, _ in fake.requests if name == "token") == tokens_before + 2  # first, then renewed
    assert "14" not in mis_ids(library)


def test_a_page_missing_from_the_sequence(synced, fake):
    fake.skip_page("Students", 2)
    fails_unchanged(*synced, "Students page 2: page 2 is missing: the server answered with page 3")


def test_an_error_envelope_on_http_200(synced, fake):
    fake.fail("Students", 2, "envelope")
    fails_unchanged(*synced, "Students page 2: Xporter returned an error: Something went wrong")


def test_a_paused_authorisation_names_the_school(synced, fake):
    fake.paused = True
    fails_unchanged(*synced, f"token: school {ESTAB} has paused mislink's access to its data in Groupcall's "
                             "portal; nothing was fetched. Ask the school to resume it.")


def test_stale_data_stops_the_run_as_a_guard_does(synced, fake):
    extracted = (datetime.now() - timedelta(hours=37)).replace(microsecond=0)
    fake.responses["Students"]["meta"][0]["DateTime"] = extracted.isoformat()
    fails_unchanged(*synced, f"Students page 1: the school's data was extracted at {extracted:%Y-%m-%d %H:%M}, "
                             "more than 36 hours ago (source.max_age_hours): the school's Xporter agent has "
                             "stopped updating; nothing was synced", outcome="refused")


def test_a_secret_file_others_can_read_is_refused(synced, monkeypatch):
    config, library = synced
    monkeypatch.delenv("MISLINK_SOURCE_SECRET")
    secret = config.base_dir / "secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    config = feed_config(config.base_dir, config.library.url, xod_source(config.source.url, secret_file="secret"))
    fails_unchanged(config, library, f"source.secret_file {secret}: other users can read it; make it private "
                                     f"first: chmod 600 {secret}")
    secret.chmod(0o600)
    assert run_sync(config, today=TODAY).outcome == "ok"


# -- delta, GDPR ------------------------------------------------------------

def test_a_delta_fetch_asks_for_changes_since_the_stored_token(synced_with_delta, fake):
    config, library = synced_with_delta
    token = json.loads(last_run(library)["next_delta"])["tokens"]["Students"]
    fake.deltas["Students"] = ([student("Ada", "Lovelace", Id="10", RegGroup="9Z")], ["11"])
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    assert fake.data_requests("Students")[-1]["changedRows"] == token
    assert "11" not in mis_ids(library) and "14" in mis_ids(library)  # a delta names its leavers
    stored = json.loads(last_run(library)["next_delta"])
    assert stored["tokens"]["Students"] != token and stored["full"] == datetime.now().date().isoformat()


def test_a_failed_run_asks_for_the_same_delta_again(synced_with_delta, fake):
    config, library = synced_with_delta
    token = json.loads(last_run(library)["next_delta"])["tokens"]["Students"]
    fake.fail("SchoolInfo", 1, "envelope")
    assert run_sync(config, today=TODAY).outcome == "failed"
    assert run_sync(config, today=TODAY).outcome == "ok"
    assert [q["changedRows"] for q in fake.data_requests("Students")[-2:]] == [token, token]


def test_a_rejected_delta_token_falls_back_to_a_full_fetch(synced_with_delta, fake):
    config, library = synced_with_delta
    fake.delta_tokens.clear()
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    assert "Xporter refused the stored delta token, so everything was fetched" in report.plan.warnings
    assert fake.data_requests("Students")[-1]["changedRows"] == "*"
    assert "14" not in mis_ids(library)  # a full export shows who has left


def test_a_full_fetch_at_least_every_full_every_days(synced_with_delta, fake):
    config, library = synced_with_delta
    with library.session() as session:
        state = json.loads(session.scalars(select(SyncRun.next_delta)).first())
        state["full"] = (datetime.now().date() - timedelta(days=7)).isoformat()
        session.execute(update(SyncRun).values(next_delta=json.dumps(state)))
    assert run_sync(config, today=TODAY).outcome == "ok"
    assert fake.data_requests("Students")[-1]["changedRows"] == "*"
    assert "14" not in mis_ids(library)


def test_people_the_school_excluded_never_reach_the_library(tmp_path, library_url, fake):
    fake.gdpr = {"StudentIds": ["12"], "Estab": "8232999"}  # another of the school's numbers
    report = run_sync(xod_config(tmp_path, library_url, fake), today=TODAY)
    assert report.outcome == "ok"
    assert mis_ids(Library(library_url)) == ["10", "11", "13", "14"]
    snapshot = last_run(Library(library_url))["snapshot"]
    assert '"Id": "12"' not in (tmp_path / "snapshots" / snapshot.rsplit("/", 1)[-1] / "Students.json").read_text()
    assert "1 person the school excluded (GDPR) left out of the fetch" in report.plan.warnings


def test_what_the_library_holds_about_a_person_the_school_excludes_is_removed(tmp_path, library_url, fake):
    library = Library(library_url)
    library.add_borrower("B-12", "Grace", "Hopper", mis_person_type="student", mis_id="12",
                                       email="grace@pupil.example", phone="01632 960912")
    fake.gdpr = {"StudentIds": ["12"]}
    report = run_sync(xod_config(tmp_path, library_url, fake), today=TODAY)
    assert report.outcome == "ok", report.message
    borrower = library.borrower("B-12")  # the row stays
    assert (borrower["email"], borrower["phone"]) == (None, None)
    purged = {e["field"] for e in library.events(report.run_id) if e["action"] == "purged"}
    assert purged == {"email", "phone"}
    assert "1 person excluded by the school (GDPR): their stored details removed" in report.plan.warnings


# -- the command line ---------------------------------------------------------

def cli(capsys, config, *argv) -> tuple[int, str, str]:
    from cli.main import main
    from engine.config import save_config

    path = config.base_dir / "config.toml"
    save_config(config, path)
    code = main(["--config", str(path), *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fetch_only_prints_the_snapshot_and_a_sync_replays_it(tmp_path, library_url, fake, capsys):
    config = xod_config(tmp_path, library_url, fake)
    code, out, err = cli(capsys, config, "fetch")
    snapshot = tmp_path / "snapshots" / out.strip().rsplit("/", 1)[-1]
    assert (code, out, err) == (0, f"{snapshot}\n", "")  # no terminal: no progress bars
    assert Library(library_url).rows("sync_runs") == []
    fetched = len(fake.requests)
    code, out, err = cli(capsys, config, "--sync", "--snapshot", snapshot)
    assert code == 0, err
    assert len(fake.requests) == fetched  # replayed, not fetched again
    run = last_run(Library(library_url))
    assert (run["snapshot"], run["next_delta"]) == (str(snapshot), None)
    assert len(mis_ids(Library(library_url))) == 5
    assert "s3cret" not in out + err and "tok" not in out + err


def test_the_command_lines_exit_codes_for_a_feed(tmp_path, library_url, fake, capsys):
    config = xod_config(tmp_path, library_url, fake)
    fake.paused = True
    code, out, err = cli(capsys, config, "--sync")
    assert code == 1 and f"school {ESTAB} has paused mislink's access" in err
    code, out, err = cli(capsys, config, "fetch")
    assert code == 1 and err.startswith(f"mislink: fetch failed, nothing kept: token: school {ESTAB} has paused")
    fake.paused = False
    fake.responses["Students"]["meta"][0]["DateTime"] = "2020-01-01T00:00:00"
    assert cli(capsys, config, "--sync")[0] == 3
    assert cli(capsys, config, "fetch")[0] == 3
    folder = feed_config(tmp_path, library_url, {"path": "export"})
    assert cli(capsys, folder, "fetch")[:2] == (2, "")
    assert cli(capsys, config, "--snapshot", tmp_path)[0] == 2


def test_progress_bars_per_endpoint_on_a_terminal_only(tmp_path, library_url, fake):
    import io

    from cli.progress import page_bars
    from engine.source import fetch_snapshot

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert page_bars(io.StringIO()) is None
    screen = Terminal()
    fetch_snapshot(xod_config(tmp_path, library_url, fake), pages=page_bars(screen))
    lines = screen.getvalue().split("\n")
    assert lines[0].split("\r")[1:] == [f"Students         [{'#' * 10}{'.' * 20}] 1/3 pages",
                                        f"Students         [{'#' * 20}{'.' * 10}] 2/3 pages",
                                        f"Students         [{'#' * 30}] 3/3 pages"]
    assert lines[1] == f"\rSchoolInfo       [{'#' * 30}] 1/1 pages"


def test_only_the_endpoints_the_settings_need_are_fetched(tmp_path, library_url, fake):
    from tests.builders import staff_member

    fake.responses.update(
        Staff={"Staff": [staff_member("Tess", "Teacher", Id="900")], "meta": []},
        PersonComms={"PersonComms": [], "meta": []},
        Groups={"Group": [], "StaffMembers": [], "StudentMembers": [], "meta": []})
    config = feed_config(tmp_path, library_url, xod_source(fake.url),
                         data={"staff": True, "staff_year_group": 14, "email": True, "pre_admissions": True})
    assert run_sync(config, today=TODAY).outcome == "ok"
    asked = list(dict.fromkeys(name for method, name, _ in fake.requests if method == "GET"))
    assert asked == ["GDPRIDs", "Students", "Staff", "PersonComms", "Groups", "SchoolInfo"]
    assert fake.data_requests("Students")[0]["options"] == "includeLeavers,includePreAdmissions"
    assert "changedRows" not in fake.data_requests("PersonComms")[0]


@pytest.mark.slow
def test_a_feed_sync_peaks_at_most_a_tenth_above_a_folder_sync_of_the_same_school(tmp_path, fake, monkeypatch):
    """The demo school (900 pupils, 80 staff, every kind of data), fetched in
    pages of 500 and written as they come: the fetch never holds the school."""
    import tracemalloc
    from pathlib import Path

    from tests.support.schools import EVERY_OPTION_ON

    # Traced, the server thread's pages of 500 come slowly: this test is about memory, not time.
    monkeypatch.setattr(http, "DEFAULT_SETTINGS", http.HttpSettings(timeout=60, sleep=lambda _: None))
    demo = Path(__file__).resolve().parent.parent / "demo" / "school"
    fake.responses = responses_of(demo)
    for body in fake.responses.values():
        for meta in body.get("meta") or []:
            meta["DateTime"] = FRESH
    fake.estab = str(fake.responses["SchoolInfo"]["SchoolInfo"][0]["EstabId"])
    peaks = []
    for name, source in (("folder", {"path": str(demo)}), ("feed", xod_source(fake.url, page_size=500,
                                                                              estab=fake.estab))):
        (tmp_path / name).mkdir()
        config = feed_config(tmp_path / name, f"sqlite:///{tmp_path / name}/library.sqlite", source,
                             data=EVERY_OPTION_ON)
        tracemalloc.start()
        try:
            assert run_sync(config, today=TODAY).outcome == "ok"
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] <= 1.10 * peaks[0], peaks


def test_a_previewed_feed_plan_applies_from_its_snapshot_without_fetching_again(synced_with_delta, fake):
    from engine.sync import apply_sync, prepare_sync

    config, library = synced_with_delta
    prepared = prepare_sync(config, today=TODAY)
    assert prepared.report.outcome == "dry-run", prepared.report.message
    fetched = len(fake.requests)
    report = apply_sync(config, prepared)
    assert report.outcome == "ok", report.message
    assert len(fake.requests) == fetched
    run = last_run(library)
    assert run["snapshot"] == str(prepared.source.snapshot)
    assert prepared.source.next_delta and run["next_delta"] == prepared.source.next_delta


def test_each_fetch_removes_snapshots_older_than_keep_days(tmp_path, library_url, fake):
    from engine.feeds.archive import Snapshot
    from engine.source import fetch_snapshot

    old = Snapshot(tmp_path / "snapshots", datetime.now().astimezone() - timedelta(days=3)).complete()
    recent = Snapshot(tmp_path / "snapshots", datetime.now().astimezone() - timedelta(days=1)).complete()
    fetched = fetch_snapshot(xod_config(tmp_path, library_url, fake, keep_days=2))
    assert sorted((tmp_path / "snapshots").iterdir()) == sorted([recent, fetched.snapshot])
    assert not old.exists()


def test_an_excluded_pupil_leaves_nothing_about_them_in_the_snapshot(tmp_path, library_url, sleeps, monkeypatch):
    """Their own record, their comms, photo and guardian links go; a staff
    member with the same id, and the contacts, stay."""
    from engine.source import fetch_snapshot
    from tests.optional_builders import SHARED_ID, write_optional_school
    from tests.support.schools import EVERY_OPTION_ON

    monkeypatch.setenv("MISLINK_SOURCE_SECRET", "s3cret")
    folder = tmp_path / "school"
    write_optional_school(folder, Groups={"Group": [], "StaffMembers": [{"GroupId": "1", "StaffId": SHARED_ID}],
                                          "StudentMembers": [{"GroupId": "1", "StudentId": SHARED_ID}]})
    school_export(folder, pupils=json.loads((folder / "Students.json").read_text())["Students"] + XOD_PUPILS)
    server = FakeXod(responses_of(folder), estab=ESTAB, gdpr={"StudentIds": [SHARED_ID]})
    with serving(server) as url:
        fetched = fetch_snapshot(feed_config(tmp_path, library_url, xod_source(url), data=EVERY_OPTION_ON))

    def records(name, result_set):
        pages = json.loads((fetched.snapshot / f"{name}.json").read_text())
        return [r for page in pages for r in page[result_set]]

    assert SHARED_ID not in {r["Id"] for r in records("Students", "Students")}
    assert {r["Id"] for r in records("Staff", "Staff")} == {SHARED_ID}
    for name in ("PersonComms", "Photos"):
        assert {r["PersonType"] for r in records(name, name) if r["PersonId"] == SHARED_ID} == {"Staff"}
    assert records("StudentContacts", "StudentContacts") == []
    assert len(records("Contacts", "Contacts")) == len(server.responses["Contacts"]["Contacts"])
    assert records("Groups", "StudentMembers") == [] and records("Groups", "StaffMembers")
    assert fetched.excluded == 1
