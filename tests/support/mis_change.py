"""A school that changes MIS, SIMS to Arbor: the same people under new ids.

Under SIMS (``old_school``), twelve pupils with ids 100..111 and a few whose
records test the edges (a temporary UPN, a date of birth that changes, a
shared UPN), and two staff. Under Arbor (``arbor_school``) every id is new.
``sync_as`` exports the people as one MIS would and syncs them;
``synced_under_sims`` is the library after the first sync, every person
already a linked borrower."""
from __future__ import annotations

from engine.sync import run_sync
from engine.upn import check_letter
from tests.builders import TODAY, Library, make_config, staff_member, student, write_export

STAFF = {"data": {"staff": True, "staff_year_group": 14}}
FORENAMES = ["Ada", "Ben", "Cara", "Dev", "Ella", "Finn", "Gia", "Hal", "Ines", "Jack", "Kemi", "Liam"]


def upn(n: int) -> str:
    """The school's UPN number n, its check letter right."""
    rest = f"926200126{n:03d}"
    return check_letter(rest) + rest


def pupil(i: int, mis_id: str, **fields) -> dict:
    """Pupil i of the school, as one MIS or the other numbers them."""
    return student(FORENAMES[i], f"Family{i}", f"2012-0{1 + i % 9}-1{i % 10}",
                   **{"Id": mis_id, "UPN": upn(i), **fields})


def old_school() -> tuple[list[dict], list[dict]]:
    """Under SIMS: twelve pupils (ids 100..111); Mo, whose UPN was temporary;
    Dee; Sam and Sid, whose records share a UPN; two staff with no UPN."""
    pupils = [pupil(i, str(100 + i)) for i in range(12)]
    pupils += [student("Mo", "Moved", "2012-02-02", Id="120", UPN=upn(20)),
               student("Dee", "Dob", "2012-05-06", Id="121", UPN=upn(22)),
               student("Sam", "Alpha", "2012-07-07", Id="122", UPN=upn(23)),
               student("Sid", "Beta", "2012-08-08", Id="123", UPN=upn(23))]
    staff = [staff_member("Tina", "Teach", "1980-01-02", Id="50"), staff_member("Ivan", "Head", "1975-03-04", Id="51")]
    return pupils, staff


def new_ids(record: dict, mis_id: str, idaas: str) -> dict:
    return {**record, "Id": mis_id, "XID": f"y{mis_id}", "IdaasId": f"{idaas}-{mis_id}",
            "ExternalId": f"aaaaaaaa-0000-0000-0000-{mis_id:0>12}"}


def arbor_school() -> tuple[list[dict], list[dict]]:
    """The same people under Arbor: every MIS id, IdaasId and ExternalId new.
    Arbor numbers the twelve with SIMS's ids rotated (each pupil now has
    another's old id), staff swapped; Mo's UPN is now FormerUPN; Dee's date
    of birth is another."""
    pupils, staff = old_school()
    moved = [new_ids(p, str(100 + (i + 1) % 12), "PL") for i, p in enumerate(pupils[:12])]
    moved += [new_ids({**pupils[12], "UPN": upn(21), "FormerUPN": upn(20)}, "720", "PL"),
              new_ids({**pupils[13], "DateofBirth": "2011-01-01"}, "721", "PL"),
              new_ids(pupils[14], "722", "PL"), new_ids(pupils[15], "723", "PL")]
    return moved, [new_ids(staff[0], "51", "PWT"), new_ids(staff[1], "50", "PWT")]


def as_mis(mis: str, result_set: str, records: list[dict]) -> dict:
    return {result_set: records, "meta": [{"Id": 1, "MIS": mis, "Version": "4"}]}


def sync_as(tmp_path, library_url, mis: str, pupils: list[dict], staff: list[dict], *, dry_run: bool = False,
            rekey: bool = False, max_recycle_share: float = 1.0):
    """Export these people as this MIS would, and sync them (staff included;
    the guards as ``tests.builders.sync`` sets them, unless told)."""
    folder = tmp_path / "export"
    for old in folder.glob("*"):
        old.unlink()
    write_export(folder, Students=as_mis(mis, "Students", pupils), Staff=as_mis(mis, "Staff", staff))
    config = make_config(tmp_path, library_url, **STAFF,
                         sync={"max_recycle_share": max_recycle_share, "min_export_share": 0.0})
    return run_sync(config, dry_run=dry_run, rekey=rekey, today=TODAY)


def synced_under_sims(tmp_path, library_url, pupils: list[dict] | None = None,
                      staff: list[dict] | None = None) -> Library:
    """Every pupil and member of staff a borrower (typed in by hand, then
    linked by the first sync), two with loans out."""
    library = Library(library_url)
    if pupils is None:
        pupils, staff = old_school()
    for record in pupils:
        library.add_borrower(f"B{record['Id']}", record["Forename"], record["Surname"], record["DateofBirth"])
    for record in staff:
        library.add_borrower(f"T{record['Id']}", record["Forename"], record["Surname"], record["DateOfBirth"],
                             borrower_type="staff")
    library.add_loan(library.borrower("B100")["id"], "Holes")
    library.add_loan(library.borrower("T50")["id"], "Middlemarch")
    first = sync_as(tmp_path, library_url, "simsnet", pupils, staff)
    assert first.outcome == "ok", first.message
    assert first.counts["matched_by_name_dob"] == len(pupils) + len(staff), first.counts
    return library
