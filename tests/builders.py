"""Small, readable builders for test exports, configs and libraries.

Tests describe students as plain dicts in Xporter's own field names; these
helpers write them as an export folder (JSON or XML) exactly as Xporter would.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from xml.sax.saxutils import escape

from engine.config import Config, config_from_dict

_ids = itertools.count(5000)


def student(forename: str, surname: str, dob: str | None = "2012-03-04", **fields) -> dict:
    """A student record in Xporter's shape; keyword arguments override fields."""
    sid = str(fields.pop("Id", next(_ids)))
    record = {
        "Id": sid, "XID": f"x{sid}", "ExternalId": f"00000000-0000-0000-0000-{int(sid):012d}",
        "IdaasId": f"PL-{sid}", "AdmissionNo": f"{int(sid):06d}", "Forename": forename, "Surname": surname,
        "LegalForename": forename, "LegalSurname": surname, "MiddleName": None,
        "DisplayName": f"{forename} {surname}", "Gender": "F", "DateofBirth": dob,
        "RegGroup": "8A", "YearGroup": "Year  8", "HouseGroup": "Curie", "StudentStatus": "OnRoll",
        "LeavingDate": None, "WorkEmail": None, "IdaasEmail": None,
    }
    record.update(fields)
    return record


def staff_member(forename: str, surname: str, dob: str | None = "1980-05-06", **fields) -> dict:
    sid = str(fields.pop("Id", next(_ids)))
    record = {"Id": sid, "IdaasId": f"PWT-{sid}", "ExternalId": f"11111111-0000-0000-0000-{int(sid):012d}",
              "Title": "Ms", "StaffCode": surname[:2].upper(), "StaffStatus": "Current", "Forename": forename,
              "Surname": surname, "LegalForename": forename, "LegalSurname": surname,
              "DisplayName": f"Ms {forename[0]} {surname}", "Gender": "F", "DateOfBirth": dob, "RegGroup": None}
    record.update(fields)
    return record


def response(result_set: str, records: list[dict], **extra) -> dict:
    return {result_set: records, "meta": [{"Id": 1, "MIS": "simsnet", "Version": "4"}], **extra}


def write_export(folder: Path, fmt: str = "json", **endpoints: list[dict] | dict) -> Path:
    """Write endpoint files: ``write_export(dir, Students=[...], Staff=[...])``.
    A list is wrapped in a response; a dict is written as the response itself."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in endpoints.items():
        result_set = "Group" if name == "Groups" else name
        body = content if isinstance(content, dict) else response(result_set, content)
        if fmt == "json":
            (folder / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")
        else:
            (folder / f"{name}.xml").write_text(to_xml(body), encoding="utf-8")
    return folder


def to_xml(body: dict) -> str:
    """An Xporter response rendered as XML: one element per record, one child
    per field, an empty element for null."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<Response>"]
    for key, records in body.items():
        if not isinstance(records, list):
            continue
        parts.append(f"<{key}>")
        for record in records:
            parts.append("<Row>" + "".join(
                f"<{k}/>" if v is None else f"<{k}>{escape(str(v))}</{k}>" for k, v in record.items()) + "</Row>")
        parts.append(f"</{key}>")
    parts.append("</Response>")
    return "\n".join(parts)


def make_config(tmp_path: Path, library_url: str, source: Path | None = None, **sections) -> Config:
    raw = {"source": {"path": str(source or tmp_path / "export")}, "library": {"url": library_url},
           "sync": {"log_file": str(tmp_path / "mislink.log")}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_from_dict(raw, base_dir=tmp_path)
