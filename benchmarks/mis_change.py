"""A change of MIS on the demo school: is everyone re-linked, nobody recycled?

    python -m benchmarks.mis_change                  # 900 pupils and 80 staff, into SQLite in a temporary folder
    python -m benchmarks.mis_change --students 2000 --staff 150

The library is the demo school's (demo.generate_school) as a school would
leave it under SIMS: the borrower CSV imported, synced, everyone left in
Intake transferred as a new borrower but for ``WAITING`` still waiting there
(one of them rejected), synced again. Then the same school is
exported as Arbor would export it: the MIS name ``arbor``, and every MIS id,
IdaasId, ExternalId and XID new. Arbor's pupil and staff ids are SIMS's own
ids handed round (each person gets another's old one), the hardest case: an
old id now names someone else. UPNs, names and dates of birth are kept.

It syncs that export without --rekey (the change stops the run) and then with
--rekey, with the default guards and no --force, and prints what re-keying
did: pupils and staff re-linked, recycled, added to Intake; then a second
sync, which should change nothing.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from demo.generate_school import build_school, write_borrowers_csv, write_export
from demo.school import School
from engine.borrower_import import import_borrowers
from engine.config import Config, config_from_dict
from engine.intake import list_entries, reject_entry, transfer_entries
from engine.matching import Tier
from engine.person import PersonType
from engine.report import SyncReport
from engine.session import open_library
from engine.sync import run_sync

NEW_MIS = "arbor"
# Intake entries left waiting under SIMS (the first of them rejected).
WAITING = 12
# Which fields of the other endpoints name a pupil or a member of staff.
STUDENT_REFS = ("StudentId", "StudentIdaasId")
STAFF_REFS = ("StaffId", "StaffIdaasId", "PrimaryStaffId")


def school_config(base: Path) -> Config:
    return config_from_dict({"source": {"path": "export"}, "library": {"url": "sqlite:///library.sqlite"},
                             "data": {"staff": True, "staff_year_group": 99},
                             "sync": {"log_file": "mislink.log"}}, base_dir=base)


def sync_export(config: Config, school: School, **options) -> SyncReport:
    shutil.rmtree(config.source_path, ignore_errors=True)
    write_export(school, config.source_path)
    return run_sync(config, **options)


def sims_library(config: Config, school: School) -> None:
    """Every pupil and member of staff a linked borrower, as under SIMS."""
    write_borrowers_csv(school, config.source_path.parent / "borrowers.csv")
    with open_library(config, write=True) as session:
        import_borrowers(session, config.source_path.parent / "borrowers.csv", config.barcodes, skip_invalid=True)
    first = sync_export(config, school, force=True)
    if first.outcome != "ok":
        raise RuntimeError(f"the first sync failed: {first.message}")
    with open_library(config, write=True) as session:
        waiting = [entry.id for entry in list_entries(session, score_missing=False)]
        if len(waiting) > WAITING:
            transfer_entries(session, config, waiting[WAITING:], force=True, actor="benchmark")
        if waiting:
            reject_entry(session, waiting[0], actor="benchmark")
    again = run_sync(config, force=True)
    if again.outcome != "ok":
        raise RuntimeError(f"the second sync failed: {again.message}")


def handed_round(ids: list[str]) -> dict[str, str]:
    """Each id to another of the same ids: every old id comes back as someone else's."""
    ordered = sorted(ids, key=lambda i: (len(i), i))
    shift = max(1, len(ordered) // 3)
    return {old: ordered[(n + shift) % len(ordered)] for n, old in enumerate(ordered)}


def as_arbor(school: School) -> School:
    """The same school as Arbor exports it: new ids for everyone, the MIS named arbor."""
    responses = copy.deepcopy(school.responses)
    students = {r["Id"]: r for r in responses["Students"]["Students"]}
    staff = {r["Id"]: r for r in responses["Staff"]["Staff"]}
    maps = {PersonType.STUDENT: handed_round(list(students)), PersonType.STAFF: handed_round(list(staff))}
    for person_type, records, idaas in ((PersonType.STUDENT, students, "PL"), (PersonType.STAFF, staff, "PWT")):
        for old, record in records.items():
            new = maps[person_type][old]
            record.update(Id=new, XID=f"a{new}", IdaasId=f"{idaas}-{new}",
                          ExternalId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"arbor/{person_type}/{new}")))
    for name, response in responses.items():
        for meta in response.get("meta", []):
            meta["MIS"] = NEW_MIS
        if name in ("Students", "Staff"):
            continue
        for rows in response.values():
            for row in rows if isinstance(rows, list) else []:
                _renumber(row, maps)
    return dataclasses.replace(school, responses=responses)


def _renumber(row: dict, maps: dict[PersonType, dict[str, str]]) -> None:
    """A row of another endpoint, its references to people renumbered (plain or IdaasId form)."""
    kind = {"Student": PersonType.STUDENT, "Staff": PersonType.STAFF}.get(row.get("PersonType"))
    refs = [(f, PersonType.STUDENT) for f in STUDENT_REFS] + [(f, PersonType.STAFF) for f in STAFF_REFS]
    refs += [("PersonId", kind)] if kind else []
    for field, person_type in refs:
        value = row.get(field)
        if not isinstance(value, str):
            continue
        prefix, _, plain = value.rpartition("-")
        if plain in maps[person_type]:
            row[field] = f"{prefix}-{maps[person_type][plain]}" if prefix else maps[person_type][plain]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=900, help="pupils in the demo school (900)")
    parser.add_argument("--staff", type=int, default=80, help="staff in the demo school (80)")
    sizes = parser.parse_args()
    school = build_school(students=sizes.students, staff=sizes.staff)
    arbor = as_arbor(school)
    with tempfile.TemporaryDirectory() as folder:
        config = school_config(Path(folder))
        started = time.perf_counter()
        sims_library(config, school)
        print(f"demo school under SIMS: {len(school.responses['Students']['Students'])} pupils and "
              f"{len(school.responses['Staff']['Staff'])} staff in the export; library made in "
              f"{time.perf_counter() - started:.1f} s")
        stopped = sync_export(config, arbor)
        print(f"without --rekey: {stopped.outcome}: {stopped.message}")
        started = time.perf_counter()
        done = sync_export(config, arbor, rekey=True)
        seconds = time.perf_counter() - started
        change, counts = done.plan.mis_change, done.counts
        print(f"with --rekey: {done.outcome} in {seconds:.1f} s{': ' + done.message if done.message else ''}")
        if change is not None:
            pupils = sum(n for (t, _), n in change.relinked.items() if t is PersonType.STUDENT)
            staff = sum(n for (t, _), n in change.relinked.items() if t is PersonType.STAFF)
            print(f"  {change.summary}")
            print(f"  pupils re-linked: {pupils} ({change.relinked[(PersonType.STUDENT, Tier.UPN)]} by UPN)")
            print(f"  staff re-linked: {staff} ({change.relinked[(PersonType.STAFF, Tier.NAME_DOB)]} by name and "
                  f"date of birth)")
            print(f"  not re-linked: {len(change.not_relinked)}")
        print(f"  recycled: {counts['recycled']}")
        print(f"  Intake added: {counts['intake_added']}; entries moved to their person's new record: "
              f"{change.entries_rekeyed if change else 0} ({WAITING - 1} waiting, 1 rejected, and those decided); "
              f"skipped as rejected: {counts['skipped_rejected']}")
        print(f"  matched by link (kept their ids): {counts['matched_by_link']}")
        with open_library(config, write=False) as session:
            waiting = len(list_entries(session, score_missing=False))
        print(f"  Intake waiting after: {waiting}")
        again = run_sync(config)
        print(f"second sync: {again.outcome}, plan empty: {again.plan.is_empty if again.plan else None}")


if __name__ == "__main__":
    main()
