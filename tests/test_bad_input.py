"""Bad input never harms the library: each case ends in a clear error naming
the file (nothing written) or a rejection naming the record and field (the rest
of the run goes on), and what the library already holds is untouched."""
from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest

from tests.builders import Library, student, sync

GOOD = [student("Ada", "Lovelace", Id="1"), student("Alan", "Turing", Id="2")]

# Billion laughs: ten levels of ten references; expanded it would be gigabytes.
ENTITY_BOMB = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a0 "lol">'
               + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
               + ']><Response><Students><Student><Id>&a9;</Id></Student></Students></Response>')


def _seeded(tmp_path: Path, library_url: str) -> Library:
    """A library that already holds a borrower and a first sync's work."""
    library = Library(library_url)
    library.add_borrower("B1", "Ada", "Lovelace", mis_id="1", tutor_group="7A")
    assert sync(tmp_path, library_url, GOOD).outcome == "ok"
    return library


def _write(tmp_path: Path, name: str, content: bytes | str) -> None:
    folder = tmp_path / "export"
    for old in folder.iterdir():
        old.unlink()
    data = content.encode("utf-8") if isinstance(content, str) else content
    (folder / name).write_bytes(data)


# UTF-8 accented names and one stray Windows-1252 byte: read as Windows-1252
# it would garble "Zoë Brontë" and succeed.
DAMAGED_UTF8 = json.dumps({"Students": [*GOOD, student("Zoë", "Brontë", Id="3")]},
                          ensure_ascii=False).encode().replace(b"Turing", b"Tur\xefng")

FILE_ERRORS = {
    "malformed JSON": ("Students.json", '{"Students": [{"Id": "1",}]}', "not valid JSON"),
    "truncated JSON": ("Students.json", json.dumps({"Students": GOOD})[:120], "not valid JSON"),
    "malformed XML": ("Students.xml", "<Response><Students><Row><Id>1</Id></Students>", "not valid XML"),
    "truncated XML": ("Students.xml", "<Response><Students><Row><Id>1</Id><Fore", "not valid XML"),
    "XML entity bomb": ("Students.xml", ENTITY_BOMB, "entity declarations is refused"),
    "XML external entity": ("Students.xml", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
                            '"file:///etc/hostname">]><Response><Students><Row><Id>&x;</Id></Row></Students>'
                            "</Response>", "entity declarations is refused"),
    "Xporter error envelope": ("Students.json", '{"ExceptionMessage": "Token expired"}', "Token expired"),
    "missing endpoint file": ("Staff.json", json.dumps({"Staff": []}), "Students.json (or .xml): missing"),
    "not even text": ("Students.json", b"\x81\x8d\x8f\x90\x9d" * 10, "neither UTF-8 nor Windows-1252"),
    "UTF-8 with one bad byte": ("Students.json", DAMAGED_UTF8, "is not valid UTF-8"),
    # Numbers no export holds, and structures no export has: the file's error,
    # never an unexpected one.
    "NaN": ("Students.json", '{"Students": [{"Id": NaN, "Forename": "A", "Surname": "B"}]}', "NaN is not"),
    "Infinity": ("Students.json", '{"Students": [{"Id": Infinity}]}', "Infinity is not"),
    "-Infinity": ("Students.json", '{"Students": [{"Id": -Infinity}]}', "-Infinity is not"),
    "float overflow": ("Students.json", '{"Students": [{"Id": 1e400}]}', "too large"),
    "integer of 5000 digits": ("Students.json", '{"Students": [{"Id": ' + "9" * 5000 + "}]}", "too long"),
    "JSON nested 100,000 deep": ("Students.json", '{"Students": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                 "nested"),
    "JSON field nested 900 deep": ("Students.json", '{"Students": [{"Id": "1", "Forename": '
                                   + "[" * 900 + "]" * 900 + "}]}", "nested"),
    "XML nested 100,000 deep": ("Students.xml", "<Response><Students><Row><Id>1</Id><Forename>" + "<a>" * 100_000
                                + "</a>" * 100_000 + "</Forename></Row></Students></Response>", "nested"),
    "page count NaN": ("Students.json", '{"Students": [], "__pagination__": [{"PageNumber": 1, "PageCount": "NaN"}]}',
                       "PageCount is not a whole number"),
    "page count in fullwidth digits": ("Students.json", '{"Students": [], "__pagination__": [{"PageNumber": 1, '
                                       '"PageCount": "\uff12"}]}', "PageCount is not a whole number"),
    "page count beyond any integer": ("Students.json", '{"Students": [], "__pagination__": [{"PageNumber": 1, '
                                      '"PageCount": 1e300}]}', "PageCount is not a whole number"),
}


@pytest.mark.parametrize("case", FILE_ERRORS)
def test_an_unusable_file_fails_the_run_names_the_file_and_changes_nothing(tmp_path, library_url, case):
    library = _seeded(tmp_path, library_url)
    before = library.snapshot()
    name, content, message = FILE_ERRORS[case]
    _write(tmp_path, name, content)
    started = time.monotonic()
    report = sync(tmp_path, library_url)
    assert time.monotonic() - started < 10, "bad input must be refused quickly, never expanded"
    assert report.outcome == "failed"
    assert message in report.message
    assert report.message.startswith("Students.")  # names the file at fault
    assert library.snapshot() == before


def test_an_external_entity_is_never_fetched(tmp_path, library_url):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    library = _seeded(tmp_path, library_url)
    _write(tmp_path, "Students.xml", f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
                                     "<Response><Students><Row><Id>9</Id><Forename>&x;</Forename></Row>"
                                     "</Students></Response>")
    report = sync(tmp_path, library_url)
    assert report.outcome == "failed"
    assert "TOP-SECRET-VALUE" not in repr(library.snapshot()) + report.message


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_utf16_with_bom_and_windows_1252_exports_are_read(tmp_path, library_url, encoding):
    library = _seeded(tmp_path, library_url)
    body = json.dumps({"Students": [*GOOD, student("Zoë", "Brontë", Id="3")]}, ensure_ascii=False)
    _write(tmp_path, "Students.json", body.encode(encoding) if encoding == "cp1252"
           else codecs.BOM_UTF16_LE + body.encode("utf-16-le"))
    report = sync(tmp_path, library_url)
    assert report.outcome == "ok", report.message
    assert [(e["forename"], e["surname"]) for e in library.intake() if e["mis_id"] == "3"] == [("Zoë", "Brontë")]
    if encoding == "cp1252":
        assert any("Windows-1252" in w for w in report.plan.warnings)


RECORD_REJECTIONS = {
    "duplicate MIS id": ([student("Ann", "Twice", Id="7"), student("Ann", "Again", Id="7")], "Id", "appears 2 times"),
    "impossible date": ([student("Feb", "Thirtyfirst", dob="2012-02-31", Id="7")], "DateofBirth",
                        "not a real calendar date"),
    "future date of birth": ([student("Not", "Yetborn", dob="2099-01-01", Id="7")], "DateofBirth", "in the future"),
    "absurdly long name": ([student("A" * 5000, "Long", Id="7")], "Forename", "longer than 100 characters"),
    "absurdly long group": ([student("Ann", "Group", Id="7", RegGroup="X" * 1000)], "RegGroup",
                            "longer than 64 characters"),
    "no id": ([{**student("No", "Id"), "Id": None}], "Id", "missing"),
}


@pytest.mark.parametrize("case", RECORD_REJECTIONS)
def test_a_bad_record_is_rejected_with_reason_and_the_rest_goes_on(tmp_path, library_url, case):
    library = _seeded(tmp_path, library_url)
    before = library.snapshot()
    bad, field, reason = RECORD_REJECTIONS[case]
    report = sync(tmp_path, library_url, [*GOOD, *bad])
    assert report.outcome == "ok", report.message
    assert [(r.field, reason in r.reason) for r in report.plan.rejections] == [(field, True)] * len(
        report.plan.rejections) and report.plan.rejections
    assert all(r.file == "Students.json" for r in report.plan.rejections)
    after = library.snapshot()
    assert after["borrowers"] == before["borrowers"] and after["intake"] == before["intake"]
