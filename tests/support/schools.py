"""Small schools that several test files build.

The terminal UI's school: four borrowers typed in by hand; six pupils in the
export: Alfie Smith is Alfred Smyth (a suggestion), Grace Hopper matches on
her own, Zed Newman is new, Rita Stone is to be rejected, Bea and Ben Twin are
twins the library has only one record like. Every time the app shows is
fixed, so screenshots repeat.

The staff school (``staff_school``): six pupils in four registration groups,
and whichever staff and groups a test gives it. The leavers' school
(``linked_school``): Ada, Alan and Grace, each already a linked borrower.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import update

from engine.config import Config, load_config, save_config
from engine.models import SyncEvent, SyncRun
from engine.sync import run_sync
from tests.builders import TODAY, Library, make_config, student, sync, write_export
from tests.optional_builders import groups_response, link_borrower, write_optional_school

SHOWN_AT = datetime(2024, 3, 1, 7, 30)
ALFIE = student("Alfie", "Smith", "2012-03-04", Id="101", LegalForename="Alfred", Gender="M")
GRACE = student("Grace", "Hopper", "2011-12-09", Id="102")
ZED = student("Zed", "Newman", "2011-10-09", Id="103", YearGroup="Year  9", RegGroup="9C", Gender="M")
RITA = student("Rita", "Stone", "2012-06-30", Id="104")
BEA = student("Bea", "Twin", "2012-01-15", Id="105", RegGroup="8B")
BEN = student("Ben", "Twin", "2012-01-15", Id="106", RegGroup="8B", Gender="M")
PUPILS = [ALFIE, GRACE, ZED, RITA, BEA, BEN]

EVERY_OPTION_ON = {"address": True, "phones": True, "email": True, "photos": True, "guardians": True,
                   "staff": True, "staff_year_group": 14}


def build_school(tmp_path: Path, pupils: list[dict] = PUPILS, url: str | None = None) -> Path:
    """The library (SQLite unless ``url`` names another, empty one) after its
    first sync; returns the path of its config.toml."""
    url = url or f"sqlite:///{tmp_path / 'library.sqlite'}"
    library = Library(url)
    library.add_borrower("S0001", "Alfred", "Smyth", "2012-03-04", gender="M", year_group="Year 8",
                         tutor_group="8A")
    library.add_borrower("S0002", "Grace", "Hopper", "2011-12-09", gender="F", year_group="Year 8",
                         tutor_group="8A")
    library.add_borrower("S0003", "Bea", "Twin", "2012-01-15", gender="F", year_group="Year 8", tutor_group="8B")
    library.add_borrower("S0004", "Old", "Leaver", "2010-05-05", gender="M", year_group="Year 10",
                         tutor_group="10A", mis_id="99")
    # A handful of pupils: one leaver is already more than the guards allow.
    config = make_config(tmp_path, url, barcodes={"prefix": "S", "digits": 4},
                         sync={"max_recycle_share": 1.0, "min_export_share": 0.0})
    path = tmp_path / "config.toml"
    save_config(config, path)
    sync_export(tmp_path, pupils)
    return path


def sync_export(tmp_path: Path, pupils: list[dict]):
    """Write the export and sync it as the scheduled ``mislink --sync`` would;
    every time it records is then set to ``SHOWN_AT``."""
    write_export(tmp_path / "export", Students=pupils)
    config = load_config(tmp_path / "config.toml")
    report = run_sync(config, today=TODAY)
    assert report.outcome == "ok", report.message
    with library_of(config).session() as session:
        session.execute(update(SyncRun).values(started_at=SHOWN_AT, finished_at=SHOWN_AT))
        session.execute(update(SyncEvent).values(at=SHOWN_AT))
    return report


def library_of(config: Config) -> Library:
    return Library(config.library_url)


def optional_school(tmp_path: Path) -> Path:
    """The optional school, every kind of data on and synced, as the app's config.toml."""
    url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    pupil, _ = write_optional_school(tmp_path / "export")
    link_borrower(Library(url), pupil, "student")
    path = tmp_path / "config.toml"
    save_config(make_config(tmp_path, url, data=EVERY_OPTION_ON,
                            sync={"max_recycle_share": 1.0, "min_export_share": 0.0}), path)
    assert run_sync(load_config(path), today=TODAY).outcome == "ok"
    return path


def busy_school(tmp_path, library_url) -> tuple[Library, list[dict]]:
    """A library after one sync with something of everything: linked
    borrowers, a leaver with a loan, Intake entries, and a later export that
    changes groups, adds a pupil and drops one."""
    library = Library(library_url)
    first = [student("Ada", "Lovelace", Id="10", RegGroup="8A"), student("Alan", "Turing", Id="11", RegGroup="8B"),
             student("Nia", "Newman", "2013-05-06", Id="20", RegGroup="7N")]
    library.add_borrower("B010", "Ada", "Lovelace")
    library.add_borrower("B011", "Alan", "Turing")
    library.add_borrower("HAND", "Typed", "Byhand", "2010-01-01")
    report = sync(tmp_path, library_url, first)
    assert report.outcome == "ok", report.message
    library.add_loan(library.borrower("B011")["id"])
    later = [student("Ada", "Lovelace", Id="10", RegGroup="9A"), student("Nia", "Newman", "2013-05-06", Id="20",
                                                                         RegGroup="7S"),
             student("Omar", "Okafor", "2013-01-02", Id="21"),
             student("Bad", "Date", "2010-02-31", Id="22")]
    return library, later


# 9B's pupils are mostly in Year 9; 10C's are in Year 10; 11L's have all left.
STAFF_SCHOOL_PUPILS = [
    student("Ava", "One", Id="1", RegGroup="9B", YearGroup="Year  9"),
    student("Ben", "Two", Id="2", RegGroup="9B", YearGroup="Year  9"),
    student("Cat", "Three", Id="3", RegGroup="9B", YearGroup="Year  10"),
    student("Dan", "Four", Id="4", RegGroup="10C", YearGroup="Year 10"),
    student("Eve", "Five", Id="5", RegGroup="11L", YearGroup="Year 11", StudentStatus="Leaver",
            LeavingDate="2023-07-20"),
    student("Fay", "Six", Id="6", RegGroup="RA", YearGroup="Reception")]


def staff_school(tmp_path: Path, staff: list[dict], groups: list[dict] | None = None,
                 members: list[dict] | None = None) -> None:
    """The staff school's export: its pupils, these staff, and these groups
    (with their members) if given."""
    endpoints = {"Students": STAFF_SCHOOL_PUPILS, "Staff": staff}
    if groups is not None:
        endpoints["Groups"] = groups_response(groups, members)
    write_export(tmp_path / "export", **endpoints)


ON_ROLL = [student("Alan", "Turing", Id="11", RegGroup="8B"), student("Grace", "Hopper", Id="12", RegGroup="8C")]


def ada(**fields) -> dict:
    """Ada Lovelace's record (MIS id 10, 8A), these fields changed."""
    return student("Ada", "Lovelace", "2012-03-04", **{"Id": "10", "RegGroup": "8A", **fields})


def linked_school(tmp_path: Path, library_url: str) -> Library:
    """Three pupils, each already a linked borrower (B010, B011, B012)."""
    library = Library(library_url)
    for record in [ada(), *ON_ROLL]:
        library.add_borrower(f"B0{record['Id']}", record["Forename"], record["Surname"], record["DateofBirth"])
    first = sync(tmp_path, library_url, [ada(), *ON_ROLL])
    assert first.counts["matched_by_name_dob"] == 3, first.message
    return library
