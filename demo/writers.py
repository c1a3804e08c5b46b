"""Writing the demo school to disk: each Xporter response as JSON or XML, and the borrower CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator

from demo.library import CSV_COLUMNS
from demo.school import School
from engine.export.files import RESULT_SETS

# Result set -> XML element for one record; anything else (meta, __pagination__) is <Row>.
RECORD_TAGS = {
    "Students": "Student",
    "StudentSiblings": "StudentSibling",
    "Staff": "StaffMember",
    "Contacts": "Contact",
    "StudentContacts": "StudentContact",
    "PersonComms": "PersonComm",
    "Photos": "Photo",
    "Group": "Group",
    "StaffMembers": "StaffMember",
    "StudentMembers": "StudentMember",
    "GroupTypes": "GroupType",
    "SchoolInfo": "SchoolInfo",
}


def write_export(school: School, out_dir: Path, fmt: str = "json") -> None:
    """Write one file per endpoint (Students.json, Groups.json, ...) into ``out_dir``.

    JSON is compact, UTF-8, not ASCII-escaped, byte-identical to
    ``json.dumps(response, ensure_ascii=False, separators=(",", ":"))`` but streamed in
    batches so a 100,000-row export never exists twice in memory.
    """
    if fmt not in ("json", "xml"):
        raise ValueError(f"unknown format {fmt!r}: use 'json' or 'xml'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for endpoint, response in school.responses.items():
        chunks = _iter_json(response) if fmt == "json" else _iter_xml(response, RESULT_SETS[endpoint])
        with open(out_dir / f"{endpoint}.{fmt}", "w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)


def write_borrowers_csv(school: School, path: Path) -> None:
    """The library's borrower list, CRLF line ends as Excel saves it, no byte-order mark."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(school.borrowers)


def render_xml(response: dict, result_set_key: str) -> str:
    """An Xporter response as XML: <Response>, one child per top-level key (the result set
    first), one element per record, one child per field, an empty element for null."""
    return "".join(_iter_xml(response, result_set_key))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_BATCH = 2000


def _iter_json(response: dict) -> Iterator[str]:
    yield "{"
    for position, (key, value) in enumerate(response.items()):
        yield ("," if position else "") + _JSON.encode(key) + ":"
        if isinstance(value, list) and len(value) > _BATCH:
            yield "["
            for start in range(0, len(value), _BATCH):
                # Encoding a slice and dropping its brackets gives exactly the one-shot bytes.
                yield ("," if start else "") + _JSON.encode(value[start : start + _BATCH])[1:-1]
            yield "]"
        else:
            yield _JSON.encode(value)
    yield "}"


def _iter_xml(response: dict, result_set_key: str) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="utf-8"?>\n<Response>\n'
    keys = [result_set_key, *(key for key in response if key != result_set_key)]
    for key in keys:
        records = response[key]
        if records is None or records == []:
            yield f"  <{key}/>\n"
            continue
        if not isinstance(records, (list, dict)):  # e.g. an error envelope's ExceptionMessage
            yield f"  <{key}>{_xml_text(records)}</{key}>\n"
            continue
        if isinstance(records, dict):
            records = [records]
        tag = RECORD_TAGS.get(key, "Row")
        yield f"  <{key}>\n"
        for start in range(0, len(records), _BATCH):
            yield "".join(f"    {_xml_record(tag, record)}\n" for record in records[start : start + _BATCH])
        yield f"  </{key}>\n"
    yield "</Response>\n"


def _xml_record(tag: str, record: dict) -> str:
    fields = "".join(
        f"<{name}/>" if value is None else f"<{name}>{_xml_text(value)}</{name}>"
        for name, value in record.items()
    )
    return f"<{tag}>{fields}</{tag}>"


def _xml_text(value) -> str:
    if isinstance(value, str):
        # Text content keeps spaces and newlines; only \r would be normalised away by a parser.
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as an XML field value")

