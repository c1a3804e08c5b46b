"""`mislink borrowers import FILE.csv`: the library's existing borrowers, checked row by row."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engine.borrower_import import ImportFileError, import_borrowers, read_rows
from engine.cli import ExitCode, main
from engine.config import BarcodeSettings
from tests.builders import Library, library_session

HEADER = "ManagementSystemID,Forename,Surname,DateOfBirth,Gender,TutorGroup,YearGroup"
GOOD = [
    "101,Ada,Lovelace,10/12/2011,F,8A,Year 8",
    "102,Alan,Turing,23/06/2012,Male,8B,8",
    ",Grace,Hopper,09/12/2011,female,8C,Year  8",
]
SETTINGS = BarcodeSettings(scheme="sequence", prefix="S", digits=6)


def csv_file(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "borrowers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def do_import(library_url: str, path: Path, **options):
    with library_session(library_url) as session:
        result = import_borrowers(session, path, SETTINGS, today=date(2024, 3, 1), **options)
        if not result.written:
            session.rollback()
    return result


def test_good_rows_are_imported_with_barcodes(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, *GOOD))
    assert (result.imported, result.already_present, result.problems, result.written) == (3, 0, [], True)
    borrowers = Library(library_url).borrowers()
    assert sorted(borrowers) == ["S000001", "S000002", "S000003"]
    by_name = {row["surname"]: row for row in borrowers.values()}
    ada = by_name["Lovelace"]
    assert (ada["mis_person_type"], ada["mis_id"], ada["date_of_birth"], ada["gender"], ada["tutor_group"],
            ada["year_group"], ada["status"]) == ("student", "101", date(2011, 12, 10), "F", "8A", "Year 8", "active")
    assert (by_name["Turing"]["gender"], by_name["Turing"]["year_group"]) == ("M", "Year 8")
    assert (by_name["Hopper"]["mis_id"], by_name["Hopper"]["mis_person_type"]) == (None, None)


def test_dates_are_day_first(tmp_path, library_url):
    do_import(library_url, csv_file(tmp_path, "1,Ann,March,03/04/2012,F,7A,7", "2,Bea,Xmas,25/12/2011,F,7A,7",
                                    "3,Cat,Iso,2012-01-31,F,7A,7"))
    dates = {row["surname"]: row["date_of_birth"] for row in Library(library_url).borrowers().values()}
    assert dates == {"March": date(2012, 4, 3), "Xmas": date(2011, 12, 25), "Iso": date(2012, 1, 31)}


@pytest.mark.parametrize("row, reason", [
    ("9,Ann,Smith,31/02/2012,F,7A,7", "not a real calendar date"),
    ("9,Ann,Smith,12/25/2011,F,7A,7", "not a real calendar date"),
    ("9,Ann,Smith,yesterday,F,7A,7", "not a date"),
    ("9,Ann,Smith,01/01/2030,F,7A,7", "in the future"),
    ("9,,Smith,01/01/2012,F,7A,7", "Forename is empty"),
    ("9,Ann,,01/01/2012,F,7A,7", "Surname is empty"),
    ("9,Ann,Smith,01/01/2012,X,7A,7", "Gender 'X'"),
    (f"9,Ann,{'S' * 101},01/01/2012,F,7A,7", "Surname is longer than 100"),
])
def test_a_bad_row_is_reported_with_its_line_and_reason_and_nothing_is_imported(tmp_path, library_url, row, reason):
    result = do_import(library_url, csv_file(tmp_path, GOOD[0], row, GOOD[1]))
    assert (result.written, result.imported) == (False, 0)
    assert [p.line for p in result.problems] == [3]
    assert reason in result.problems[0].reason
    assert str(result.problems[0]).startswith("line 3: ")
    assert Library(library_url).borrowers() == {}


def test_every_bad_row_is_reported(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, "1,,A,01/01/2012,F,7A,7", GOOD[0], "", "2,B,,01/01/2012,F,7A,7",
                                             '3,"Multi\nLine",C,bad,F,7A,7'))
    # The multi-line row is reported at the line it starts on.
    assert [(p.line, p.reason.split(" ")[0]) for p in result.problems] == [(2, "Forename"), (5, "Surname"),
                                                                         (6, "DateOfBirth")]


def test_an_unterminated_quote_is_reported_where_it_starts(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, GOOD[0], '9,"Ann,Smith,01/01/2012,F,7A,7', GOOD[1]))
    assert [p.line for p in result.problems] == [3]
    assert result.written is False


def test_a_control_character_is_a_bad_row_not_a_database_error(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, GOOD[0], "9,An\x00n,Smith,01/01/2012,F,7A,7"))
    assert [(p.line, p.reason) for p in result.problems] == [(3, "Forename contains a control character")]
    skipped = do_import(library_url, csv_file(tmp_path, GOOD[0], "9,An\x00n,Smith,01/01/2012,F,7A,7"),
                        skip_invalid=True)
    assert (skipped.written, skipped.imported) == (True, 1)


def test_skip_invalid_imports_the_good_rows(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, GOOD[0], "9,Ann,Smith,31/02/2012,F,7A,7", GOOD[1]),
                       skip_invalid=True)
    assert (result.written, result.imported, len(result.problems)) == (True, 2, 1)
    assert sorted(r["surname"] for r in Library(library_url).borrowers().values()) == ["Lovelace", "Turing"]


def test_importing_the_same_file_twice_changes_nothing(tmp_path, library_url):
    path = csv_file(tmp_path, *GOOD, "103,Mary,Shelley,30/08/2011,F,8A,8")
    do_import(library_url, path)
    library = Library(library_url)
    before = library.snapshot()
    again = do_import(library_url, path)
    assert (again.imported, again.already_present, again.problems) == (0, 4, [])
    assert library.snapshot() == before


def test_the_same_people_typed_differently_are_already_present(tmp_path, library_url):
    do_import(library_url, csv_file(tmp_path, *GOOD))
    again = do_import(library_url, csv_file(tmp_path, ",GRACE,hopper,9/12/2011,F,9C,9", name="again.csv"))
    assert (again.imported, again.already_present) == (0, 1)


def test_given_barcodes_are_kept_and_a_clash_in_the_file_is_an_error(tmp_path, library_url):
    header = HEADER + ",Barcode"
    ok = do_import(library_url, csv_file(tmp_path, "1,Ann,A,01/01/2012,F,7A,7,LIB-1", "2,Bea,B,01/01/2012,F,7A,7,",
                                         header=header))
    assert sorted(Library(library_url).borrowers()) == ["LIB-1", "S000001"]
    assert ok.imported == 2
    clash = do_import(library_url, csv_file(tmp_path, "3,Cat,C,01/01/2012,F,7A,7,LIB-9",
                                            "4,Dan,D,01/01/2012,M,7A,7,LIB-9", header=header, name="clash.csv"))
    assert [(p.line, p.reason) for p in clash.problems] == [(3, "Barcode LIB-9 is also given on line 2")]
    assert clash.written is False


def test_barcodes_differing_only_in_case_are_one_barcode_on_every_database(tmp_path, library_url):
    header = HEADER + ",Barcode"
    clash = do_import(library_url, csv_file(tmp_path, "1,Ann,A,01/01/2012,F,7A,7,lib-1",
                                            "2,Bea,B,01/01/2012,F,7A,7,LIB-1", header=header))
    assert [(p.line, p.reason) for p in clash.problems] == [(3, "Barcode LIB-1 is also given on line 2")]
    Library(library_url).add_borrower("ABC9", "Zed", "Other", "2011-01-01")
    taken = do_import(library_url, csv_file(tmp_path, "3,Cat,C,01/01/2012,F,7A,7,abc9", header=header,
                                            name="taken.csv"))
    assert [p.reason for p in taken.problems] == ["Barcode abc9 already belongs to another borrower"]
    same = do_import(library_url, csv_file(tmp_path, "9,zed,other,01/01/2011,F,7A,7,abc9", header=header,
                                           name="same.csv"))
    assert (same.already_present, same.problems) == (1, [])


def test_a_barcode_belonging_to_another_borrower_in_the_library_is_an_error(tmp_path, library_url):
    Library(library_url).add_borrower("LIB-1", "Zed", "Other", "2011-01-01")
    result = do_import(library_url, csv_file(tmp_path, "1,Ann,A,01/01/2012,F,7A,7,LIB-1", header=HEADER + ",Barcode"))
    assert [(p.line, p.reason) for p in result.problems] == [(2, "Barcode LIB-1 already belongs to another borrower")]
    assert Library(library_url).borrower("LIB-1")["forename"] == "Zed"


def test_a_management_system_id_twice_in_the_file_is_an_error(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, "7,Ann,A,01/01/2012,F,7A,7", "7,Bea,B,02/01/2012,F,7A,7"))
    assert [(p.line, "appears twice" in p.reason) for p in result.problems] == [(3, True)]


def test_optional_columns_type_upn_and_admission_number(tmp_path, library_url):
    header = "managementsystemid,Forename,Surname,Date Of Birth,Gender,TutorGroup,YearGroup,Type,UPN,AdmissionNo"
    do_import(library_url, csv_file(tmp_path, "5,Sev,Snape,09/01/1960,M,,,Staff,,",
                                    "5,Ann,Pupil,01/01/2012,F,7A,7,,a123 456789012,001275", header=header))
    rows = {r["surname"]: r for r in Library(library_url).borrowers().values()}
    assert (rows["Snape"]["borrower_type"], rows["Snape"]["mis_person_type"]) == ("staff", "staff")
    assert (rows["Pupil"]["borrower_type"], rows["Pupil"]["upn"], rows["Pupil"]["admission_no"]) == (
        "student", "A123456789012", "001275")


def test_a_file_without_the_required_columns_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="missing column.*DateOfBirth"):
        read_rows(csv_file(tmp_path, "1,Ann,A", header="ManagementSystemID,Forename,Surname"))
    with pytest.raises(ImportFileError, match="empty"):
        read_rows(csv_file(tmp_path, header="", name="empty.csv"))


def test_a_windows_1252_file_is_read(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(f"{HEADER}\n1,Zoë,Brontë,01/01/2012,F,7A,7\n".encode("cp1252"))
    ((line, row),) = read_rows(path)
    assert (line, row["Forename"], row["Surname"]) == (2, "Zoë", "Brontë")


def write_config(tmp_path: Path, library_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[library]\nurl = "{library_url}"\n[barcodes]\nprefix = "S"\ndigits = 6\n', encoding="utf-8")
    return path


def test_cli_import_reports_bad_rows_and_exits_1(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    path = csv_file(tmp_path, GOOD[0], "9,Ann,Smith,31/02/2012,F,7A,7")
    assert main(["--config", str(config), "borrowers", "import", str(path)]) == ExitCode.FAILED
    captured = capsys.readouterr()
    assert "borrowers.csv line 3: DateOfBirth '31/02/2012' is not a real calendar date" in captured.err
    assert "NOT imported" in captured.out
    assert Library(library_url).borrowers() == {}
    assert main(["--config", str(config), "borrowers", "import", str(path), "--skip-invalid", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["imported"], report["written"], report["problems"]) == (
        1, True, [{"line": 3, "reason": "DateOfBirth '31/02/2012' is not a real calendar date"}])


def test_cli_import_of_a_missing_file_exits_1(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    assert main(["--config", str(config), "borrowers", "import", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv" in capsys.readouterr().err


def test_imported_borrowers_are_then_matched_by_the_sync(tmp_path, library_url):
    from tests.builders import student, sync
    do_import(library_url, csv_file(tmp_path, *GOOD))
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", "2011-12-10", Id="101"),
                                          student("Grace", "Hopper", "2011-12-09", Id="301")])
    assert (report.counts["matched_by_link"], report.counts["matched_by_name_dob"]) == (1, 1)
    assert report.counts["recycled"] == 1  # Alan (MIS id 102) is no longer on roll
