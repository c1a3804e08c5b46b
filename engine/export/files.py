"""Reading one Xporter endpoint file (JSON or XML) into plain record dicts.

An export folder holds one file per endpoint, named after it: ``Students.json``
or ``Students.xml``. A JSON file is one Xporter response or a list of its pages;
an XML file is the same response rendered as elements (see README). Anything
that makes a whole file unusable raises ``ExportError`` naming the file, so the
run stops before a single row is written.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import xmltodict

from engine.export.fields import FieldProblem, identifier, number, text
from engine.text import INTEGER_RANGE, EncodingProblem, decode_windows_text

# Endpoint file name -> the result-set key inside its response.
RESULT_SETS = {
    "Students": "Students",
    "Staff": "Staff",
    "Contacts": "Contacts",
    "StudentContacts": "StudentContacts",
    "PersonComms": "PersonComms",
    "Photos": "Photos",
    "Groups": "Group",
    "SchoolInfo": "SchoolInfo",
    # The people the school excluded (engine.export.gdpr).
    "GDPRIDs": "GDPR",
}
# Groups responses carry their memberships as sibling result sets.
EXTRA_SETS = {"Groups": ("StaffMembers", "StudentMembers")}

# The whole file is read, decoded and parsed in memory, and parsed records take
# about five times the file's size (measured on the demo export): 512 MB is
# already some 3 GB at the peak. A 100,000-person Students file is about
# 110 MB; only a Photos file of a large school comes near this. Anything bigger
# is not an export we can hold, so it is refused by name rather than left to
# exhaust the server's memory halfway through a run.
MAX_FILE_BYTES = 512 * 1024**2
# An Xporter response is a list of pages, each a dict of result sets, each a
# list of flat records: nothing in a real export is nested deeper than this.
MAX_DEPTH = 8
_CONTAINERS = {dict, list}


class ExportError(Exception):
    """A whole export file cannot be used; the message names it."""


@dataclass
class EndpointData:
    name: str
    path: Path
    records: list[dict]
    extra: dict[str, list[dict]] = field(default_factory=dict)
    deleted_ids: list[str] = field(default_factory=list)
    is_delta: bool = False
    pages_seen: int = 1
    page_count: int = 1
    warnings: list[str] = field(default_factory=list)
    # sha256 of the file's bytes, exactly as read.
    digest: str = ""
    # From the response's ``meta``: when Xporter extracted it (as given: the
    # school server's local time) and the MIS it came from; None if not said.
    extract_time: datetime | None = None
    mis_name: str | None = None

    @property
    def complete(self) -> bool:
        return self.pages_seen >= self.page_count


def endpoint_path(folder: Path, name: str) -> Path | None:
    """The endpoint's file in the folder (JSON preferred), or None."""
    for suffix in (".json", ".xml"):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_endpoint(folder: Path, name: str) -> EndpointData | None:
    path = endpoint_path(folder, name)
    if path is None:
        return None
    raw = _read(path)
    digest = hashlib.sha256(raw).hexdigest()
    contents, warnings = _decode(path, raw)
    # The bytes are not needed once decoded: dropped before parsing, whose
    # peak is the run's (a 100,000-pupil Students file is some 100 MB).
    del raw
    if path.suffix == ".json":
        pages = _json_pages(path, contents)
    else:
        pages = [_xml_response(path, contents, RESULT_SETS[name], EXTRA_SETS.get(name, ()))]
    del contents
    data = _combine(name, path, pages)
    data.warnings[:0] = warnings
    data.digest = digest
    return data


def file_digest(path: Path) -> str | None:
    """The sha256 ``load_endpoint`` gives this file, read again without
    parsing it (in blocks: whatever its size); None if it cannot be read."""
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ExportError(f"{path.name}: larger than {MAX_FILE_BYTES // 1024**2} MB; refusing to read it")
        return path.read_bytes()
    except OSError as exc:
        raise ExportError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc


def _decode(path: Path, raw: bytes) -> tuple[str, list[str]]:
    """Text of the file. Xporter runs on Windows, so a UTF-16 or UTF-8 BOM and
    Windows-1252 text are accepted; the latter is reported."""
    try:
        contents, encoding = decode_windows_text(raw)
    except EncodingProblem as problem:
        raise ExportError(f"{path.name}: {problem}") from None
    if encoding == "cp1252":
        return contents, [f"{path.name}: not UTF-8; read as Windows-1252"]
    return contents, []


class _NotANumber(ValueError):
    """A JSON number no export holds: NaN, Infinity, or beyond a float."""


def _refuse_constant(name: str) -> float:
    raise _NotANumber(f"{name} is not a number an export can hold")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotANumber(f"the number {literal[:20]} is too large")
    return value


def _json_pages(path: Path, contents: str) -> list[dict]:
    try:
        document = json.loads(contents, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    except _NotANumber as exc:
        raise ExportError(f"{path.name}: not a valid export: {exc}") from None
    except RecursionError:
        raise ExportError(f"{path.name}: nested too deeply to be an Xporter export") from None
    except ValueError:  # an integer of thousands of digits: Python refuses to read it
        raise ExportError(f"{path.name}: holds a number too long to be read") from None
    if _too_deep(document):
        raise ExportError(f"{path.name}: nested more than {MAX_DEPTH} levels deep; not an Xporter export")
    pages = document if isinstance(document, list) else [document]
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, dict):
            raise ExportError(f"{path.name}: page {number} is not an Xporter response object")
    return pages


def _too_deep(document: object) -> bool:
    """Is any value nested deeper than MAX_DEPTH? Checked level by level,
    without recursion; a flat record costs one C-level pass over its values'
    types. Anything deeper would later break str() with a RecursionError."""
    level, depth = [document], 1
    while level:
        if depth > MAX_DEPTH:
            return True
        deeper = []
        for value in level:
            children = value.values() if type(value) is dict else value
            if not _CONTAINERS.isdisjoint(map(type, children)):
                deeper.extend(child for child in children if type(child) in _CONTAINERS)
        level, depth = deeper, depth + 1
    return False


class _TooDeep(Exception):
    pass


def _depth_guard(path: list, key: str, value: object) -> tuple[str, object]:
    if len(path) > MAX_DEPTH:
        raise _TooDeep
    return key, value


def _xml_response(path: Path, contents: str, result_set: str, extras: tuple[str, ...]) -> dict:
    try:
        # Entities are refused outright: no expansion bombs, no external fetches.
        document = xmltodict.parse(contents, disable_entities=True, postprocessor=_depth_guard)
    except _TooDeep:
        raise ExportError(f"{path.name}: elements nested more than {MAX_DEPTH} deep; not an Xporter export") from None
    except ValueError as exc:
        raise ExportError(f"{path.name}: XML with entity declarations is refused ({exc})") from exc
    except Exception as exc:  # expat's ExpatError carries line and column
        raise ExportError(f"{path.name}: not valid XML ({exc})") from exc
    (root_tag, root), = document.items()
    # Element names are matched without regard to case, as JSON keys are.
    canonical = {n.casefold(): n for n in (result_set, *extras, f"{result_set}_deleted",
                                           "ExceptionMessage", "__pagination__", "__changedRows__", "meta")}
    if root_tag.casefold() == result_set.casefold():
        root = {result_set: root}
    if not isinstance(root, dict):
        root = {}
    response: dict = {}
    for key, value in root.items():
        if key.startswith("@"):
            continue
        name = canonical.get(key.casefold())
        if name == "ExceptionMessage":
            response[name] = _xml_value(value)
        elif name is not None:
            response[name] = _xml_records(value)
        elif key.endswith("_deleted"):
            response[key] = _xml_records(value)
    return response


def _xml_records(container: object) -> list[dict]:
    """All record elements under a result-set element, as flat dicts. A single
    record must still come back as a one-item list."""
    if not isinstance(container, dict):
        return []
    records = []
    for tag, value in container.items():
        if tag.startswith("@"):
            continue
        for element in value if isinstance(value, list) else [value]:
            if isinstance(element, dict):
                records.append({k: _xml_value(v) for k, v in element.items() if not k.startswith("@")})
            else:
                records.append({})
    return records


def _xml_value(value: object) -> str | None:
    if isinstance(value, dict):  # an element with only attributes, e.g. xsi:nil
        return value.get("#text")
    if isinstance(value, list):
        return ",".join(v for v in map(_xml_value, value) if v)
    return value


def _combine(name: str, path: Path, pages: list[dict]) -> EndpointData:
    result_set = RESULT_SETS[name]
    data = EndpointData(name=name, path=path, records=[], pages_seen=len(pages))
    page_numbers: set[int] = set()
    for number, page in enumerate(pages, start=1):
        error = page.get("ExceptionMessage")
        if error:
            raise ExportError(f"{path.name}: Xporter returned an error instead of data: {error}")
        records = page.get(result_set)
        if records is None:
            records = _case_insensitive_get(page, result_set)
        if records is None:
            raise ExportError(f"{path.name}: page {number} has no '{result_set}' result set")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ExportError(f"{path.name}: '{result_set}' on page {number} is not a list of records")
        data.records.extend(records)
        for extra in EXTRA_SETS.get(name, ()):
            data.extra.setdefault(extra, []).extend(r for r in page.get(extra) or [] if isinstance(r, dict))
        for deleted in _case_insensitive_get(page, f"{result_set}_deleted") or []:
            deleted_id = _deleted_id(deleted)
            if deleted_id is not None:
                data.deleted_ids.append(deleted_id)
        if "__changedRows__" in page:
            data.is_delta = True
        _read_meta(data, page)
        pagination = (page.get("__pagination__") or [None])[0]
        if isinstance(pagination, dict):
            page_numbers.add(_count(path, pagination, "PageNumber", number))
            data.page_count = max(data.page_count, _count(path, pagination, "PageCount", 1))
    if page_numbers:
        data.pages_seen = len(page_numbers)
    if not data.complete:
        data.warnings.append(f"{path.name}: holds {data.pages_seen} of {data.page_count} pages; treated as partial")
    return data


def _read_meta(data: EndpointData, page: dict) -> None:
    """The extract time and MIS name from the first page whose ``meta`` says
    them (a later page's meta is empty). One that cannot be used is a warning:
    the data is no less usable for it."""
    meta = (_case_insensitive_get(page, "meta") or [None])[0]
    if not isinstance(meta, dict):
        return
    if data.extract_time is None and _case_insensitive_get(meta, "DateTime") is not None:
        data.extract_time = _extract_time(_case_insensitive_get(meta, "DateTime"))
        if data.extract_time is None:
            data.warnings.append(f"{data.path.name}: meta DateTime is not a date and time; extract time unknown")
    if data.mis_name is None:
        try:
            data.mis_name = text(_case_insensitive_get(meta, "MIS"), "MIS", "id")
        except FieldProblem as problem:
            data.warnings.append(f"{data.path.name}: meta MIS {problem.reason}; MIS name unknown")


def _extract_time(value: object) -> datetime | None:
    """Xporter gives local time without a zone; one given with a zone is
    taken to local time too, so that every extract time compares."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _deleted_id(entry: object) -> str | None:
    """The id in one ``*_deleted`` entry ({"Id": "3221"}, or a bare id), read
    exactly as a record's Id is, so that it names the same person."""
    value = _case_insensitive_get(entry, "Id") if isinstance(entry, dict) else entry
    try:
        return identifier(value, "Id")
    except FieldProblem:
        return None


def _case_insensitive_get(page: dict, key: str):
    folded = key.casefold()
    return next((v for k, v in page.items() if k.casefold() == folded), None)


def _count(path: Path, pagination: dict, key: str, default: int) -> int:
    """A page number or count. One that is there but is not a sane whole
    number makes the file unusable: guessing could take a partial export for
    a full one, and recycle everyone missing from it."""
    value = pagination.get(key)
    if value in (None, ""):
        return default
    count = number(value)
    if count is None or not 1 <= count <= INTEGER_RANGE[1]:
        raise ExportError(f"{path.name}: __pagination__ {key} is not a whole number from 1 up")
    return count
