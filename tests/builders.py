"""Small, readable builders for test exports, configs and libraries.

Tests describe students as plain dicts in Xporter's own field names; these
helpers write them as an export folder (JSON or XML) exactly as Xporter would.
"""
from __future__ import annotations

import itertools
import json
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.config import Config, config_from_dict
from engine.models import Base, Borrower, IntakeEntry, Loan
from engine.report import SyncReport
from engine.schema import PREFIX
from engine.sync import run_sync
from tests.support.databases import library_engine

# The day every test sync runs on, so leaver groups and ages are stable.
TODAY = date(2024, 3, 1)

_ids = itertools.count(5000)


def student(forename: str, surname: str, dob: str | None = "2012-03-04", **fields) -> dict:
    """A student record in Xporter's shape; keyword arguments override fields."""
    sid = str(fields.pop("Id", next(_ids)))
    record = {
        "Id": sid, "XID": f"x{sid}", "ExternalId": f"00000000-0000-0000-0000-{sid:0>12}",
        "IdaasId": f"PL-{sid}", "AdmissionNo": f"{sid:0>6}", "Forename": forename, "Surname": surname,
        "LegalForename": forename, "LegalSurname": surname, "MiddleName": None,
        "DisplayName": f"{forename} {surname}", "Gender": "F", "DateofBirth": dob,
        "RegGroup": "8A", "YearGroup": "Year  8", "HouseGroup": "Curie", "StudentStatus": "OnRoll",
        "LeavingDate": None, "WorkEmail": None, "IdaasEmail": None,
    }
    record.update(fields)
    return record


def staff_member(forename: str, surname: str, dob: str | None = "1980-05-06", **fields) -> dict:
    sid = str(fields.pop("Id", next(_ids)))
    record = {"Id": sid, "IdaasId": f"PWT-{sid}", "ExternalId": f"11111111-0000-0000-0000-{sid:0>12}",
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


def sync(tmp_path: Path, library_url: str, students: list[dict] | None = None, *,
         staff: list[dict] | None = None, fmt: str = "json", dry_run: bool = False,
         today: date = TODAY, **sections) -> SyncReport:
    """Write the export (when records are given; it replaces the previous one)
    and run one sync of it into the library. The mass-change guards are off
    unless a test sets them: these schools are a handful of pupils, where one
    leaver is already a large share."""
    sections["sync"] = {"max_recycle_share": 1.0, "min_export_share": 0.0, **sections.get("sync", {})}
    folder = tmp_path / "export"
    if students is not None:
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        endpoints: dict = {"Students": students}
        if staff is not None:
            endpoints["Staff"] = staff
        write_export(folder, fmt, **endpoints)
    return run_sync(make_config(tmp_path, library_url, **sections), dry_run=dry_run, today=today)


def borrower_row(borrower_id: int, forename: str, surname: str, dob: str | None = "2012-03-04",
                 **values) -> dict:
    """A borrower as the planner's snapshot holds it, for pure matching tests."""
    row = {"id": borrower_id, "barcode": f"B{borrower_id:04d}", "borrower_type": "student",
           "mis_person_type": None, "mis_id": None, "idaas_id": None, "external_id": None, "upn": None,
           "forename": forename, "surname": surname, "preferred_forename": None, "preferred_surname": None,
           "legal_forename": None, "legal_surname": None, "gender": None, "status": "active",
           "date_of_birth": date.fromisoformat(dob) if dob else None}
    row.update(values)
    if row["mis_id"] and not row["mis_person_type"]:
        row["mis_person_type"] = row["borrower_type"]
    return row


@contextmanager
def library_session(url: str) -> Iterator[Session]:
    """One transaction on the library (its tables created if need be),
    committed on leaving."""
    with library_engine(url) as engine, Session(engine) as session, session.begin():
        yield session


class Library:
    """A test library database seen directly: seed it as a librarian would
    have, read it back to check what a run did. No transaction is held
    between calls, so the engine's own runs never wait on the test."""

    def __init__(self, url: str):
        self.url = url

    @contextmanager
    def session(self) -> Iterator[Session]:
        with library_session(self.url) as session:
            yield session

    def add_borrower(self, barcode: str, forename: str, surname: str, dob: str | None = "2012-03-04",
                     **values) -> int:
        """A borrower as typed into the library; linked to the MIS only if
        ``mis_id`` (or another MIS identifier) is given."""
        row = {"barcode": barcode, "forename": forename, "surname": surname, "borrower_type": "student",
               "date_of_birth": date.fromisoformat(dob) if dob else None, "status": "active", **values}
        if row.get("mis_id") and not row.get("mis_person_type"):
            row["mis_person_type"] = row["borrower_type"]
        with self.session() as session:
            session.execute(insert(Borrower), [row])
            return session.execute(select(Borrower.id).where(Borrower.barcode == barcode)).scalar_one()

    def add_loan(self, borrower_id: int, item: str = "The Hobbit", returned: bool = False) -> None:
        with self.session() as session:
            session.execute(insert(Loan), [{"borrower_id": borrower_id, "item": item,
                                            "issued_at": datetime(2024, 1, 2, 9, 0),
                                            "returned_at": datetime(2024, 1, 9, 9, 0) if returned else None}])

    def set_intake_status(self, person_type: str, mis_id: str, status: str) -> None:
        with self.session() as session:
            session.execute(update(IntakeEntry).where(IntakeEntry.person_type == person_type,
                                                      IntakeEntry.mis_id == mis_id).values(status=status))

    def rows(self, table: str) -> list[dict]:
        """A table's rows in primary-key order (``table`` as a person says it: "borrowers")."""
        with self.session() as session:
            return _rows(session, PREFIX + table)

    def snapshot(self) -> dict[str, list[dict]]:
        """Every table's full contents, for exact before/after comparisons,
        by the names a person says ("borrowers")."""
        with self.session() as session:
            return {table.removeprefix(PREFIX): _rows(session, table) for table in Base.metadata.tables}

    def borrowers(self) -> dict[str, dict]:
        """Every borrower, by barcode."""
        return {row["barcode"]: row for row in self.rows("borrowers")}

    def borrower(self, barcode: str) -> dict:
        return self.borrowers()[barcode]

    def intake(self) -> list[dict]:
        return self.rows("intake")

    def events(self, run_id: int | None = None) -> list[dict]:
        return [e for e in self.rows("sync_events") if run_id is None or e["run_id"] == run_id]


def _rows(session: Session, table: str) -> list[dict]:
    model = Base.metadata.tables[table]
    return [dict(r._mapping) for r in session.execute(select(model).order_by(*model.primary_key))]


def changed_fields(events: list[dict], action: str = "updated") -> dict[str, tuple]:
    """{field: (old, new)} of the events of one kind."""
    return {e["field"]: (e["old_value"], e["new_value"]) for e in events if e["action"] == action}
