"""`mislink borrowers import FILE.csv`: the library's existing borrowers, checked row by row. A row is
refused only when what identifies it is unusable; an unusable optional field is left blank, with a warning."""
from __future__ import annotations

import codecs
import json
import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest
import tomli_w

from engine.barcodes import BarcodeAllocator, BarcodeError
from engine.borrower_import import ImportFileError, read_rows
from cli.main import ExitCode, main
from engine.config import BarcodeSettings
from engine.runs import undo_run
from engine.text import GENDERS, MAX_LENGTHS
from tests.builders import Library, library_session, student, sync
from tests.support.borrower_csv import HEADER, csv_file, do_import

REPO = Path(__file__).resolve().parents[1]

GOOD = [
    "101,Ada,Lovelace,10/12/2011,F,8A,Year 8",
    "102,Alan,Turing,23/06/2012,Male,8B,8",
    ",Grace,Hopper,09/12/2011,female,8C,Year  8",
]


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
    ("9,,Smith,01/01/2012,F,7A,7", "Forename is empty"),
    ("9,Ann,,01/01/2012,F,7A,7", "Surname is empty"),
    (f"9,Ann,{'S' * 101},01/01/2012,F,7A,7", "Surname is longer than 100"),
    (f"{'9' * 65},Ann,Smith,01/01/2012,F,7A,7", "ManagementSystemID is longer than 64"),
    ("9,Ann,Smith,01/01/2012,F,7A,7,teacher", "Type 'teacher' is not student or staff"),
    (f"9,Ann,Smith,01/01/2012,F,7A,7,,{'B' * 65}", "Barcode is longer than 64"),
])
def test_a_row_with_nothing_usable_to_identify_it_is_refused_and_nothing_is_imported(tmp_path, library_url, row,
                                                                                    reason):
    header = HEADER + ",Type,Barcode"
    result = do_import(library_url, csv_file(tmp_path, GOOD[0] + ",,", row, GOOD[1] + ",,", header=header))
    assert (result.written, result.imported) == (False, 0)
    assert [p.line for p in result.problems] == [3]
    assert reason in result.problems[0].reason
    assert str(result.problems[0]).startswith("line 3: ")
    assert Library(library_url).borrowers() == {}


def test_every_bad_row_is_reported(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, "1,,A,01/01/2012,F,7A,7", GOOD[0], "", "2,B,,01/01/2012,F,7A,7",
                                             '3,"Multi\nLine",C,bad,F,7A,7'))
    assert [(p.line, p.reason.split(" ")[0]) for p in result.problems] == [(2, "Forename"), (5, "Surname")]
    # The multi-line row is warned about at the line it starts on.
    assert [(w.line, w.field) for w in result.warnings] == [(6, "DateOfBirth")]


OPTIONAL_PROBLEMS = [
    # The date of birth as the export reader refuses one: a slipped digit, a
    # day-first date read month-first, no date at all, the future, before 1900.
    ("9,Ann,Smith,31/02/2012,F,7A,7,", "date_of_birth", "DateOfBirth", "is not a real calendar date"),
    ("9,Ann,Smith,12/25/2011,F,7A,7,", "date_of_birth", "DateOfBirth", "is not a real calendar date"),
    ("9,Ann,Smith,yesterday,F,7A,7,", "date_of_birth", "DateOfBirth", "is not a date (expected YYYY-MM-DD)"),
    ("9,Ann,Smith,01/01/2030,F,7A,7,", "date_of_birth", "DateOfBirth", "is in the future"),
    ("9,Ann,Smith,01/01/1899,F,7A,7,", "date_of_birth", "DateOfBirth", "is before 1900"),
    ("9,Ann,Smith,01/01/2012,X,7A,7,", "gender", "Gender", "is not M, F, Male or Female"),
    (f"9,Ann,Smith,01/01/2012,F,{'7' * 65},7,", "tutor_group", "TutorGroup", "is longer than 64 characters (65)"),
    ("9,Ann,Smith,01/01/2012,F,7A,Year\x017,", "year_group", "YearGroup", "contains a control character"),
    ("9,Ann,Smith,01/01/2012,F,7A,7,A12345678901２", "upn", "UPN", "holds characters other than A-Z and 0-9"),
]


@pytest.mark.parametrize("row, column, field, reason", OPTIONAL_PROBLEMS,
                         ids=[f"{field} {reason}" for _, _, field, reason in OPTIONAL_PROBLEMS])
def test_a_row_whose_only_problem_is_an_optional_field_is_imported_without_it(tmp_path, library_url, row, column,
                                                                             field, reason):
    result = do_import(library_url, csv_file(tmp_path, GOOD[0] + ",", row, header=HEADER + ",UPN"))
    assert (result.written, result.imported, result.problems) == (True, 2, [])
    (warning,) = result.warnings
    assert (warning.line, warning.field, warning.reason, warning.barcode) == (3, field, reason, "S000002")
    assert str(warning) == f"line 3 (borrower S000002): {field} {reason}; imported without it"
    ann = Library(library_url).borrower("S000002")
    assert (ann["forename"], ann["surname"], ann["mis_id"], ann[column]) == ("Ann", "Smith", "9", None)
    # The other fields are kept.
    kept = {"date_of_birth": date(2012, 1, 1), "gender": "F", "tutor_group": "7A", "year_group": "Year 7"}
    assert {k: ann[k] for k in kept if k != column} == {k: v for k, v in kept.items() if k != column}


def test_a_warning_never_repeats_the_value_and_names_a_given_barcode(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, "9,Ann,Smith,29/02/2013,Q,7A,7,LIB-7",
                                             header=HEADER + ",Barcode"))
    assert [str(w) for w in result.warnings] == [
        "line 2 (borrower LIB-7): DateOfBirth is not a real calendar date; imported without it",
        "line 2 (borrower LIB-7): Gender is not M, F, Male or Female; imported without it"]
    assert not any("29/02" in str(w) or "Q" in w.reason for w in result.warnings)


def test_a_row_imported_without_its_date_of_birth_is_already_present_the_next_time(tmp_path, library_url):
    path = csv_file(tmp_path, ",Ann,Smith,31/02/2012,F,7A,7", "10,Bea,Jones,2012-13-01,F,7A,7")
    first = do_import(library_url, path)
    assert (first.imported, len(first.warnings)) == (2, 2)
    library = Library(library_url)
    before = library.snapshot()
    again = do_import(library_url, path)
    assert (again.imported, again.already_present, again.problems, again.warnings) == (0, 2, [], [])
    assert library.snapshot() == before


def test_warnings_are_given_for_the_rows_to_import_even_when_a_refused_row_stops_the_import(tmp_path, library_url):
    result = do_import(library_url, csv_file(tmp_path, "9,Ann,Smith,31/02/2012,F,7A,7", "8,,Jones,01/01/2012,F,7A,7"))
    assert (result.written, [p.line for p in result.problems]) == (False, [3])
    # Not written: no barcode was allocated for the row to name.
    assert [str(w) for w in result.warnings] == ["line 2: DateOfBirth is not a real calendar date; "
                                                 "imported without it"]


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
    result = do_import(library_url, csv_file(tmp_path, GOOD[0], "9,Ann,,01/02/2012,F,7A,7", GOOD[1],
                                             "8,Cat,Smith,31/02/2012,F,7A,7"), skip_invalid=True)
    assert (result.written, result.imported, len(result.problems), len(result.warnings)) == (True, 3, 1, 1)
    assert sorted(r["surname"] for r in Library(library_url).borrowers().values()) == ["Lovelace", "Smith", "Turing"]


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
    same = do_import(library_url, csv_file(tmp_path, "3,Cat,C,01/01/2012,F,7A,7,abc9", header=header,
                                           name="same.csv"))
    assert (same.imported, same.already_present, same.problems) == (0, 1, [])
    assert sorted(Library(library_url).borrowers()) == ["ABC9"]


def test_a_row_whose_barcode_the_library_has_is_that_borrower_and_the_library_copy_wins(tmp_path, library_url):
    # Behaviour changed: this used to be "Barcode LIB-1 already belongs to
    # another borrower", which made re-importing a file after a sync had
    # corrected a name fail. The barcode is the library's own key.
    Library(library_url).add_borrower("LIB-1", "Zed", "Other", "2011-01-01")
    result = do_import(library_url, csv_file(tmp_path, "1,Ann,A,01/01/2012,F,7A,7,LIB-1", header=HEADER + ",Barcode"))
    assert (result.imported, result.already_present, result.problems, result.written) == (0, 1, [], True)
    assert [(b["forename"], b["mis_id"]) for b in Library(library_url).borrowers().values()] == [("Zed", None)]


def test_a_row_with_an_unlinked_mis_id_is_the_unlinked_borrower_with_its_name_and_date_of_birth(tmp_path,
                                                                                                library_url):
    library = Library(library_url)
    library.add_borrower("B1", "Grace", "Hopper", "2011-12-09")
    library.add_borrower("B2", "Alan", "Turing", "2012-06-23", mis_id="900")
    result = do_import(library_url, csv_file(tmp_path, "301,GRACE,hopper,09/12/2011,F,8C,8",
                                             "102,Alan,Turing,23/06/2012,M,8B,8"))
    # Grace is the unlinked B1; Alan's twin namesake is linked to another MIS
    # person, so this Alan is somebody else and is imported.
    assert (result.imported, result.already_present, result.problems) == (1, 1, [])
    borrowers = library.borrowers()
    assert (borrowers["B1"]["mis_id"], len(borrowers)) == (None, 3)
    assert sorted(b["mis_id"] for b in borrowers.values() if b["surname"] == "Turing") == ["102", "900"]


def test_a_row_without_ids_is_recognised_by_the_name_a_sync_replaced(tmp_path, library_url):
    path = csv_file(tmp_path, ",Elizabeth,Bennet,01/02/2012,F,8A,8")
    do_import(library_url, path)
    report = sync(tmp_path, library_url, [student("Beth", "Bennet", "2012-02-01", Id="55", LegalForename="Elizabeth")])
    assert report.counts["matched_by_name_dob"] == 1
    library = Library(library_url)
    assert [b["forename"] for b in library.borrowers().values()] == ["Beth"]
    before = library.snapshot()
    again = do_import(library_url, path)
    assert (again.imported, again.already_present, again.problems) == (0, 1, [])
    assert library.snapshot() == before


def demo_copy(tmp_path: Path, library_url: str) -> Path:
    """The demo school and its borrower list in a folder of their own, with
    the repository's demo configuration pointed at them."""
    shutil.copytree(REPO / "demo" / "school", tmp_path / "school")
    shutil.copy(REPO / "demo" / "borrowers.csv", tmp_path / "borrowers.csv")
    config = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    config["source"]["path"] = str(tmp_path / "school")
    config["library"]["url"] = library_url
    config["sync"]["log_file"] = str(tmp_path / "mislink.log")
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def run_quick_start(config: Path, tmp_path: Path, capsys) -> tuple[dict, dict]:
    """`mislink borrowers import demo/borrowers.csv && mislink --sync`, as the
    README has it: the import's and the sync's JSON reports."""
    csv_path = str(tmp_path / "borrowers.csv")
    assert main(["--config", str(config), "borrowers", "import", csv_path, "--json"]) == ExitCode.OK, \
        capsys.readouterr()
    imported = json.loads(capsys.readouterr().out)
    assert main(["--config", str(config), "--sync", "--json"]) == ExitCode.OK, capsys.readouterr()
    return imported, json.loads(capsys.readouterr().out)


def test_the_readme_quick_start_twice_succeeds_and_changes_nothing_the_second_time(tmp_path, library_url, capsys):
    config = demo_copy(tmp_path, library_url)
    first_import, first_sync = run_quick_start(config, tmp_path, capsys)
    assert first_import["imported"] > 0 and first_sync["updated"] > 0
    library = Library(library_url)
    before = library.snapshot()
    second_import, second_sync = run_quick_start(config, tmp_path, capsys)
    assert (second_import["imported"], second_import["problems"]) == (0, [])
    assert second_import["already_present"] == first_import["imported"]
    assert (second_sync["updated"], second_sync["intake_added"], second_sync["recycled"]) == (0, 0, 0)
    after = library.snapshot()
    # Each sync is recorded as a run; nothing else may change.
    assert len(after.pop("sync_runs")) == len(before.pop("sync_runs")) + 1
    assert after == before


def test_taken_barcodes_are_compared_without_regard_to_case():
    allocator = BarcodeAllocator(BarcodeSettings(scheme="mis_id", prefix="S"), {"lib-1", "s101"})
    with pytest.raises(BarcodeError, match="LIB-1 already belongs"):
        allocator.claim("LIB-1", "line 2")
    with pytest.raises(BarcodeError, match="S101 .*already belongs"):
        allocator.allocate(mis_id="101", label="Ann")
    allocator.claim("New-1")
    with pytest.raises(BarcodeError):
        allocator.claim("NEW-1")


def test_a_new_barcode_never_differs_from_a_library_barcode_only_in_case(tmp_path, library_url):
    # A librarian typed "s000001" by hand; MariaDB would refuse "S000001" as a
    # duplicate, so no database may be given it.
    Library(library_url).add_borrower("s000001", "Zed", "Other", "2011-01-01")
    result = do_import(library_url, csv_file(tmp_path, GOOD[0]))
    assert (result.imported, result.problems) == (1, [])
    assert sorted(Library(library_url).borrowers()) == ["S000002", "s000001"]


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


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["no BOM", "UTF-8 BOM"])
def test_a_utf8_file_with_one_bad_byte_is_refused_not_read_as_windows_1252(tmp_path, bom):
    path = tmp_path / "damaged.csv"
    path.write_bytes(bom + f"{HEADER}\n1,Zoë,Brontë,01/01/2012,F,7A,7\n".encode()
                     + b"2,Ann,Sm\xffith,01/01/2012,F,7A,7\n")
    offset = path.read_bytes().index(b"\xff")
    with pytest.raises(ImportFileError, match=rf"damaged\.csv: byte {offset} \(line 3\) is not valid UTF-8"):
        read_rows(path)


def test_the_import_checks_text_by_the_same_rules_as_the_export_reader(tmp_path, monkeypatch):
    # One table of widths and genders (engine.text) for both readers: change
    # it and the import follows, as the export reader does (test_export_parsing).
    monkeypatch.setitem(MAX_LENGTHS, "name", 5)
    monkeypatch.setitem(GENDERS, "x", "X")
    url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    result = do_import(url, csv_file(tmp_path, "1,Annabel,A,01/01/2012,F,7A,7", "2,Ann,B,01/01/2012,x,7A,7"),
                       skip_invalid=True)
    assert [(p.line, p.reason) for p in result.problems] == [(2, "Forename is longer than 5 characters (7)")]
    assert [b["gender"] for b in Library(url).borrowers().values()] == ["X"]


def write_config(tmp_path: Path, library_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[library]\nurl = "{library_url}"\n[barcodes]\nprefix = "S"\ndigits = 6\n', encoding="utf-8")
    return path


def test_cli_import_reports_bad_rows_and_exits_1(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    path = csv_file(tmp_path, GOOD[0], "9,Ann,,01/02/2012,F,7A,7")
    assert main(["--config", str(config), "borrowers", "import", str(path)]) == ExitCode.FAILED
    captured = capsys.readouterr()
    assert "borrowers.csv line 3: Surname is empty" in captured.err
    assert captured.out == ""
    assert ("borrowers.csv: nothing imported: 1 bad row (listed above); fix it, or import the rest with "
            f"`mislink borrowers import {path} --skip-invalid`") in captured.err
    assert Library(library_url).borrowers() == {}
    assert main(["--config", str(config), "borrowers", "import", str(path), "--skip-invalid", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["imported"], report["written"], report["problems"], report["warnings"]) == (
        1, True, [{"line": 3, "reason": "Surname is empty"}], [])


def test_cli_import_keeps_a_row_with_an_impossible_date_of_birth_and_warns(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    path = csv_file(tmp_path, GOOD[0], "9,Ann,Smith,01/01/2031,F,7A,7")
    assert main(["--config", str(config), "borrowers", "import", str(path)]) == ExitCode.OK
    captured = capsys.readouterr()
    assert ("warning: borrowers.csv line 3 (borrower S000002): DateOfBirth is in the future; imported without it"
            in captured.err)
    assert "2031" not in captured.err + captured.out
    assert "2 borrowers imported" in captured.out and "1 with a field left blank" in captured.out
    assert Library(library_url).borrower("S000002")["date_of_birth"] is None
    path = csv_file(tmp_path, "7,Cat,Jones,30/02/2012,F,7A,7", name="more.csv")
    assert main(["--config", str(config), "borrowers", "import", str(path), "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert (report["imported"], report["problems"], report["warnings"]) == (1, [], [
        {"line": 2, "field": "DateOfBirth", "reason": "is not a real calendar date", "barcode": "S000003"}])


def test_cli_import_of_a_missing_file_exits_1(tmp_path, library_url, capsys):
    config = write_config(tmp_path, library_url)
    assert main(["--config", str(config), "borrowers", "import", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv" in capsys.readouterr().err


def test_imported_borrowers_are_then_matched_by_the_sync(tmp_path, library_url):
    do_import(library_url, csv_file(tmp_path, *GOOD))
    report = sync(tmp_path, library_url, [student("Ada", "Lovelace", "2011-12-10", Id="101"),
                                          student("Grace", "Hopper", "2011-12-09", Id="301")])
    assert (report.counts["matched_by_link"], report.counts["matched_by_name_dob"]) == (1, 1)
    assert report.counts["recycled"] == 1  # Alan (MIS id 102) is no longer on roll


def test_an_import_can_be_undone_as_a_run(tmp_path, library_url):
    Library(library_url).add_borrower("B1", "Ann", "Smith")
    do_import(library_url, csv_file(tmp_path, *GOOD))
    library = Library(library_url)
    run_id = next(r["id"] for r in library.rows("sync_runs") if r["kind"] == "import")
    with library_session(library_url) as session:
        undo_run(session, run_id, actor="librarian")
    assert sorted(Library(library_url).borrowers()) == ["B1"]
