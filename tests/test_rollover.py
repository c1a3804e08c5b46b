"""The September roll-over: the recycle guard counts only departures nobody
expected (engine.rollover), so an ordinary roll-over passes without --force
and a broken feed still stops."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest

from benchmarks.rollover import ROLLED_UP_KS3_KS4, june_library, school_config, sync_export
from cli.main import ExitCode, main
from demo.generate_school import build_school
from demo.rollover import SEPTEMBER_DAY, rollover, with_pupils_missing, without_leavers
from engine.config import (Config, ConfigError, SyncSettings, configuration_table, load_config, replace_section,
                           save_config)
from engine.rollover import Departure, Departures, in_season, leaving_years
from engine.sync import run_sync
from tests.builders import Library, make_config, student, write_export

JUNE = date(2026, 6, 20)
SEPTEMBER = date(2026, 9, 10)
MARCH = date(2026, 3, 2)


def pupil(n: int, year: int, **fields) -> dict:
    return student(f"Pupil{n}", f"Family{n}", Id=str(n), YearGroup=f"Year  {year}", RegGroup=f"{year}A", **fields)


def school_of(years: dict[int, int]) -> list[dict]:
    """``years[y]`` pupils in each year group y, numbered from 100."""
    records, n = [], 100
    for year, count in years.items():
        for _ in range(count):
            records.append(pupil(n, year))
            n += 1
    return records


def linked(library_url: str, records: list[dict], **values) -> Library:
    """Each pupil already a borrower linked to them, with their year group."""
    library = Library(library_url)
    for record in records:
        library.add_borrower(f"B{record['Id']}", record["Forename"], record["Surname"], mis_id=record["Id"],
                             year_group=record["YearGroup"].replace("  ", " "), **values)
    return library


def config_for(tmp_path, library_url, **sync):
    return make_config(tmp_path, library_url, sync={"min_export_share": 0.0, **sync})


# --- which year groups leave, and when ----------------------------------------------------

def rows(*years: str | None, borrower_type: str = "student", status: str = "active") -> list[dict]:
    return [{"year_group": y, "borrower_type": borrower_type, "status": status} for y in years]


@pytest.mark.parametrize(("stored", "expected"), [
    (("Year 7", "Year 11", "Year 13", "Year 12"), {11, 13}),  # a sixth form: its final year, and Year 11
    (("Year 7", "Year 10", "Year 11"), {11}),
    (("Reception", "Year 6", "Year  3"), {6}),  # a primary school; the MIS's two spaces too
    (("11", "7"), {11}),
    ((None, "Sixth Form"), set()),  # nothing to go by
])
def test_the_leaving_years_default_to_the_final_year_and_year_11_below_a_sixth_form(stored, expected):
    assert leaving_years(SyncSettings(), rows(*stored)) == expected


def test_staff_and_recycled_borrowers_do_not_make_the_final_year():
    borrowers = rows("Year 11") + rows("Year 99", borrower_type="staff") + rows("Year 13", status="recycled")
    assert leaving_years(SyncSettings(), borrowers) == {11}


def test_the_leaving_years_the_school_sets_replace_the_default():
    assert leaving_years(SyncSettings(leaving_years=[13]), rows("Year 11", "Year 13")) == {13}
    assert leaving_years(replace_section(Config(), "sync", leaving_years="6, 11").sync, rows("Year 13")) == {6, 11}


@pytest.mark.parametrize(("value", "problem"), [
    ([11, 15], "each number must be between 0 and 14, not 15"),
    (["eleven"], "must be a list of whole numbers such as [11, 13]"),
    ("11 and 13", "must be a list of whole numbers such as [11, 13]"),
    ([True], "must be a list of whole numbers such as [11, 13]"),
    (11, "must be a list of whole numbers such as [11, 13]"),
])
def test_leaving_years_that_are_not_year_groups_are_refused_naming_the_key(value, problem):
    with pytest.raises(ConfigError) as refused:
        replace_section(Config(), "sync", leaving_years=value)
    assert refused.value.keys == ["sync.leaving_years"] and problem in str(refused.value)


def test_leaving_years_are_a_list_in_config_toml_and_text_in_the_settings_pane(tmp_path):
    config = replace_section(Config(), "sync", leaving_years=[11, 13])
    save_config(config, tmp_path / "config.toml")
    assert "leaving_years = [\n    11,\n    13,\n]" in (tmp_path / "config.toml").read_text()
    assert load_config(tmp_path / "config.toml").sync.leaving_years == (11, 13)
    assert str(config.sync.leaving_years) == "11, 13" and str(Config().sync.leaving_years) == ""
    assert "| `sync.leaving_years` | list of whole numbers, 0 to 14 | `[]` |" in configuration_table()


@pytest.mark.parametrize(("months", "inside", "outside"), [
    ((6, 10), [date(2026, 6, 1), date(2026, 9, 2), date(2026, 10, 31)], [date(2026, 5, 31), date(2026, 11, 1)]),
    ((11, 2), [date(2026, 12, 1), date(2027, 1, 15), date(2026, 2, 28)], [date(2026, 3, 1), date(2026, 10, 31)]),
])
def test_the_roll_over_season_runs_between_its_months_even_over_the_new_year(months, inside, outside):
    settings = SyncSettings(rollover_from_month=months[0], rollover_to_month=months[1])
    assert [in_season(day, settings) for day in inside] == [True] * len(inside)
    assert [in_season(day, settings) for day in outside] == [False] * len(outside)


def departure(row: dict, today: date = SEPTEMBER, intake: dict | None = None) -> Departure:
    borrower = {"status": "active", "borrower_type": "student", "mis_person_type": "student", "mis_id": "5",
                "leaving_date": None, **row}
    school = [borrower, *rows("Year 7", "Year 12", "Year 13")]
    return Departures(school, intake or {}, SyncSettings(), today).of(borrower)


def test_why_a_departure_was_expected():
    assert departure({"year_group": "Year 13"}) is Departure.LEAVING_YEAR
    assert departure({"year_group": "Year 13"}, today=MARCH) is Departure.UNEXPECTED
    assert departure({"year_group": "Year 9", "leaving_date": date(2026, 7, 17)}, today=MARCH) is \
        Departure.LEAVING_DATE
    pre_admission = {"status": "transferred", "record": json.dumps(
        {"presence": "arriving", "start_date": "2026-09-02"})}
    assert departure({"year_group": "Year 7"}, today=JUNE, intake={("student", "5"): pre_admission}) is \
        Departure.NOT_STARTED
    # Once their first day has come, they are a pupil like any other.
    assert departure({"year_group": "Year 7"}, intake={("student", "5"): pre_admission}) is Departure.UNEXPECTED


# --- the guard, the counts and the report -----------------------------------------------------

def test_leavers_of_the_leaving_years_pass_in_september_and_stop_in_march(tmp_path, library_url):
    school = school_of({7: 10, 11: 3, 12: 4, 13: 3})
    library = linked(library_url, school)
    gone = {"B" + r["Id"] for r in school if r["YearGroup"] in ("Year  11", "Year  13")}
    write_export(tmp_path / "export", Students=[r for r in school if "B" + r["Id"] not in gone])
    config = config_for(tmp_path, library_url)
    stopped = run_sync(config, today=MARCH)
    assert stopped.outcome == "refused", "6 of 20 leaving unannounced in March is a broken feed"
    assert "recycle 6 of 20 active borrowers unexpectedly" in stopped.message
    report = run_sync(config, today=SEPTEMBER)
    assert report.outcome == "ok", report.message
    assert (report.counts["recycled"], report.counts["leavers_expected"], report.counts["leavers_unexpected"]) == (
        6, 6, 0)
    assert "  6 leavers expected at roll-over, 0 unexpected" in report.to_text().splitlines()
    assert report.to_json()["leavers_expected"] == 6
    assert {b for b, row in library.borrowers().items() if row["status"] == "recycled"} == gone


def test_a_school_that_sets_its_leaving_years_is_held_to_them(tmp_path, library_url):
    school = school_of({10: 8, 11: 6, 12: 3, 13: 3})
    linked(library_url, school)
    write_export(tmp_path / "export", Students=[r for r in school if r["YearGroup"] != "Year  11"])
    config = config_for(tmp_path, library_url, leaving_years=[13])
    report = run_sync(config, today=SEPTEMBER)
    assert report.outcome == "refused" and "recycle 6 of 20 active borrowers unexpectedly" in report.message


def test_half_of_years_7_to_10_missing_in_september_still_stops_with_exit_code_3(tmp_path, library_url, capsys):
    school = school_of({7: 6, 8: 6, 9: 6, 10: 6, 11: 4, 13: 4})
    linked(library_url, school)
    missing = {r["Id"] for r in school[:24:2]}
    write_export(tmp_path / "export", Students=[r for r in school if r["Id"] not in missing
                                                and r["YearGroup"] not in ("Year  11", "Year  13")])
    (tmp_path / "config.toml").write_text(
        f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n[sync]\nlog_file = "mislink.log"\n')
    # Pretend it is September: the CLI syncs today, so the season is set to the month it is now.
    month = date.today().month
    with open(tmp_path / "config.toml", "a") as config:
        config.write(f"rollover_from_month = {month}\nrollover_to_month = {month}\n")
    code = main(["--config", str(tmp_path / "config.toml"), "--sync", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.GUARD and out["outcome"] == "refused"
    assert (out["leavers_expected"], out["leavers_unexpected"]) == (8, 12)
    assert "recycle 12 of 32 active borrowers unexpectedly" in out["message"]
    assert "8 more are expected leavers" in out["message"]


def test_the_leaving_date_the_mis_gave_is_kept_and_makes_the_departure_expected(tmp_path, library_url):
    school = school_of({9: 10})
    library = linked(library_url, school)
    dated = [dict(r, LeavingDate="2026-04-01") if r["Id"] in ("100", "101") else r for r in school]
    write_export(tmp_path / "export", Students=dated)
    config = config_for(tmp_path, library_url)
    assert run_sync(config, today=MARCH).outcome == "ok"
    assert {b: r["leaving_date"] for b, r in library.borrowers().items() if r["leaving_date"]} == {
        "B100": date(2026, 4, 1), "B101": date(2026, 4, 1)}
    # The MIS withdraws one of them; both then vanish from the export.
    write_export(tmp_path / "export", Students=[dict(r, LeavingDate=None) if r["Id"] == "101" else r for r in dated])
    assert run_sync(config, today=MARCH).outcome == "ok"
    assert library.borrower("B101")["leaving_date"] is None
    write_export(tmp_path / "export", Students=[r for r in school if r["Id"] not in ("100", "101")])
    report = run_sync(config, today=MARCH)
    assert (report.counts["leavers_expected"], report.counts["leavers_unexpected"]) == (1, 1)
    assert {r.barcode: r.departure for r in report.plan.recycles} == {
        "B100": Departure.LEAVING_DATE, "B101": Departure.UNEXPECTED}


def test_a_pupil_marked_as_a_leaver_is_expected_whenever_they_go(tmp_path, library_url):
    school = school_of({9: 4})
    linked(library_url, school)
    write_export(tmp_path / "export", Students=[dict(school[0], StudentStatus="Leaver"), *school[1:]])
    report = run_sync(config_for(tmp_path, library_url), today=MARCH)
    assert report.outcome == "ok", "1 of 4 is over the share, but the MIS said they were leaving"
    assert (report.counts["leavers_expected"], report.counts["leavers_unexpected"]) == (1, 0)
    assert "  1 leaver expected, 0 unexpected" in report.to_text().splitlines()


def test_a_dry_run_says_why_each_departure_was_expected(tmp_path, library_url):
    school = school_of({9: 8, 13: 2})
    linked(library_url, school)
    write_export(tmp_path / "export", Students=school[:7])
    report = run_sync(config_for(tmp_path, library_url, max_recycle_share=1.0), today=SEPTEMBER, dry_run=True)
    text = report.to_text().splitlines()
    assert "  recycle B107 (Pupil107 Family107): no longer in the MIS export (unexpected)" in text
    assert "  recycle B108 (Pupil108 Family108): no longer in the MIS export (in a leaving year at the roll-over)" \
        in text


# --- the demo school taken through a summer ----------------------------------------------

def test_the_demo_school_rolls_over_without_force_and_a_broken_feed_still_stops(tmp_path, library_url):
    school = build_school(students=300, staff=10)
    year = rollover(school)
    config = school_config(tmp_path, library_url)
    june = june_library(config, year.june)
    assert june.outcome == "ok" and june.counts["recycled"] == 0, june.message
    broken = sync_export(config, with_pupils_missing(school, ROLLED_UP_KS3_KS4), SEPTEMBER_DAY)
    assert broken.outcome == "refused" and broken.counts["leavers_unexpected"] > 0.25 * june.counts["unchanged"]
    report = sync_export(config, school, SEPTEMBER_DAY)
    assert report.outcome == "ok" and not report.guard_stops, report.message
    leavers = sum(1 for row in school.rows("Students") if row["StudentStatus"] == "Leaver")
    assert report.counts["recycled"] == len(year.summer_leavers) + leavers
    assert (report.counts["leavers_expected"], report.counts["leavers_unexpected"]) == (
        len(year.summer_leavers) + leavers, 0)
    assert report.counts["recycled"] > 0.1 * june.counts["unchanged"], "the old guard would have stopped it"
    assert report.counts["intake_added"] == len(year.newcomers)


def test_without_include_leavers_the_dated_leavers_are_expected_and_the_rest_are_not(tmp_path):
    school = build_school(students=300, staff=10)
    year = rollover(school)
    config = school_config(tmp_path, "sqlite:///library.sqlite")
    june_library(config, year.june)
    report = sync_export(config, without_leavers(school), SEPTEMBER_DAY)
    leavers = [row for row in school.rows("Students") if row["StudentStatus"] == "Leaver"]
    dated = [row for row in leavers if row["LeavingDate"] < SEPTEMBER_DAY.replace(month=9, day=1).isoformat()]
    assert dated and len(dated) < len(leavers), "the demo school has both kinds"
    assert report.outcome == "ok", report.message
    assert Counter(r.departure for r in report.plan.recycles) == {
        Departure.LEAVING_YEAR: len(year.summer_leavers), Departure.LEAVING_DATE: len(dated),
        Departure.UNEXPECTED: len(leavers) - len(dated)}
