"""Recycle bin: list, restore, and purge after a retention period, never with loans out; the tutor
group of a leaver who had none."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import recycle_bin
from cli.main import ExitCode, main
from engine.db import connect
from engine.models import Borrower, Loan, RunChange, SyncEvent, SyncRun, utcnow
from engine.plan import leaver_group
from tests.builders import Library, staff_member, sync
from tests.optional_builders import borrower_of, link_borrower, reg_group
from tests.support.schools import staff_school


def _bin(library_url):
    engine = connect(library_url)
    now = utcnow()
    with Session(engine) as session, session.begin():
        for barcode, days in (("OLD1", 400), ("OLD2", 400), ("NEW1", 5)):
            session.add(Borrower(barcode=barcode, forename="A", surname=barcode, status="recycled",
                                 recycled_at=now - timedelta(days=days), tutor_group="Leaver 2025 (Old Group 9X)",
                                 group_before_recycle="9X"))
        session.add(Borrower(barcode="LIVE", forename="B", surname="Live"))
        session.flush()
        old2 = session.scalar(select(Borrower.id).where(Borrower.barcode == "OLD2"))
        session.add(Loan(borrower_id=old2, item="The Hobbit"))
    return engine


def _barcodes(engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(Borrower.barcode)))


def test_purge_removes_only_old_recycled_borrowers_without_loans(library_url):
    engine = _bin(library_url)
    with Session(engine) as session, session.begin():
        assert [b.barcode for b in recycle_bin.purgeable(session, 365)] == ["OLD1"]
        removed = recycle_bin.purge_recycled(session, 365, actor="tech")
    assert [b.barcode for b in removed] == ["OLD1"]
    assert _barcodes(engine) == {"OLD2", "NEW1", "LIVE"}
    with Session(engine) as session:
        event = session.scalars(select(SyncEvent).where(SyncEvent.action == "purged_from_recycle_bin")).one()
        assert (event.old_value, event.actor) == ("OLD1", "tech")


def test_purge_dry_run_shows_who_and_removes_nobody(tmp_path, library_url, capsys):
    engine = _bin(library_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[library]\nurl = "{library_url}"\n')
    assert main(["--config", str(config), "recycle-bin", "purge", "--older-than", "30", "--dry-run"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "OLD1" in out and "1 borrower would be removed" in out
    assert _barcodes(engine) == {"OLD1", "OLD2", "NEW1", "LIVE"}
    assert main(["--config", str(config), "recycle-bin", "purge", "--older-than", "30"]) == ExitCode.OK
    assert _barcodes(engine) == {"OLD2", "NEW1", "LIVE"}


def test_restore_puts_the_old_group_back(library_url):
    engine = _bin(library_url)
    with Session(engine) as session, session.begin():
        recycle_bin.restore(session, "NEW1", actor="librarian")
    with Session(engine) as session:
        borrower = session.scalars(select(Borrower).where(Borrower.barcode == "NEW1")).one()
        assert (borrower.status, borrower.tutor_group, borrower.recycled_at) == ("active", "9X", None)
        assert session.scalar(select(func.count()).select_from(SyncEvent)
                              .where(SyncEvent.action == "restored")) == 1


def test_restore_refuses_a_borrower_not_in_the_bin(library_url):
    engine = _bin(library_url)
    with Session(engine) as session, session.begin():
        for barcode, reason in (("LIVE", "not in the recycle bin"), ("NOPE", "no borrower has barcode")):
            try:
                recycle_bin.restore(session, barcode, actor="x")
            except recycle_bin.RecycleBinError as exc:
                assert reason in str(exc)
            else:
                raise AssertionError(f"restoring {barcode} should be refused")


def test_purge_removes_what_the_library_knew_about_them_and_logs_each(tmp_path, library_url, capsys):
    engine = _bin(library_url)
    with Session(engine) as session, session.begin():
        old1 = session.scalar(select(Borrower.id).where(Borrower.barcode == "OLD1"))
        session.add(SyncEvent(action="updated", borrower_id=old1, field="surname", old_value="Secretname"))
        run = SyncRun(kind="sync", source="export", outcome="ok")
        session.add(run)
        session.flush()
        session.add(RunChange(run_id=run.id, table_name="borrowers", row_id=old1,
                              before='{"surname": "Secretname"}', after='{"surname": "Other"}'))
    config = tmp_path / "config.toml"
    config.write_text(f'[library]\nurl = "{library_url}"\n[sync]\nlog_file = "mislink.log"\n')
    assert main(["--config", str(config), "recycle-bin", "purge", "--older-than", "30"]) == ExitCode.OK
    with Session(engine) as session:
        values = [e.old_value for e in session.scalars(select(SyncEvent))]
    assert "Secretname" not in values and "OLD1" in values
    with Session(engine) as session:
        assert session.scalars(select(RunChange)).all() == [], "a run's record of them goes too"
    assert "recycle bin: removed OLD1 for good" in (tmp_path / "mislink.log").read_text()


def test_purge_and_restore_wait_for_nobody_while_a_sync_writes(tmp_path, library_url):
    from engine.lock import library_lock

    engine = _bin(library_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[library]\nurl = "{library_url}"\n[sync]\nlog_file = "mislink.log"\n')
    with library_lock(connect(library_url)):
        assert main(["--config", str(config), "recycle-bin", "restore", "NEW1"]) == ExitCode.LOCKED
        assert main(["--config", str(config), "recycle-bin", "list"]) == ExitCode.OK, "reading needs no lock"
    assert _barcodes(engine) == {"OLD1", "OLD2", "NEW1", "LIVE"}


def test_restore_finds_a_barcode_typed_in_another_case_or_accent_on_every_database(library_url):
    """MariaDB's collation would find "new1" for NEW1 and PostgreSQL would not:
    the engine decides, the same way everywhere."""
    engine = _bin(library_url)
    for typed in ("new1", "NEW1 ", "NÉW1"):
        with Session(engine) as session, session.begin():
            restored = recycle_bin.restore(session, typed, actor="librarian")
            assert restored.barcode == "NEW1"
            session.rollback()


# --- a leaver with no tutor group ------------------------------------------------------

@pytest.mark.parametrize("template, with_group, without_group", [
    ("Leaver {year} (Old Group {group})", "Leaver 2026 (Old Group 7A)", "Leaver 2026"),
    ("Left {year} [{group}]", "Left 2026 [7A]", "Left 2026"),
    ("Leaver {year} - Old Group {group}", "Leaver 2026 - Old Group 7A", "Leaver 2026"),
    ("Old Group {group}: left {year}", "Old Group 7A: left 2026", "left 2026"),
    ("Left {year}, was {group}, see office", "Left 2026, was 7A, see office", "Left 2026, see office"),
    ("Ex-pupil {year} {group}", "Ex-pupil 2026 7A", "Ex-pupil 2026"),
    ("Y{year}-{group}", "Y2026-7A", "Y2026"),
    ("{{Leaver}} {year} ({group})", "{Leaver} 2026 (7A)", "{Leaver} 2026"),
    ("{group}", "7A", "Leaver 2026"),
])
def test_a_leaver_group_without_a_group_drops_the_clause_that_holds_it(template, with_group, without_group):
    assert leaver_group(template, 2026, "7A") == with_group
    assert leaver_group(template, 2026, None) == leaver_group(template, 2026, "") == without_group


LEFT_STAFF = staff_member("Gone", "Away", Id="51", StaffStatus="Previous", EmploymentEnd="2023-12-31")


def staff_leaver(tmp_path, library_url, **sync_settings) -> tuple[Library, dict]:
    """A member of staff with no tutor group, linked, and then leaving."""
    library = Library(library_url)
    link_borrower(library, LEFT_STAFF, "staff")
    staff_school(tmp_path, [LEFT_STAFF, staff_member("Stay", "Put", Id="50")],
                 [reg_group("900", "9B", primary_staff_id="50")])
    report = sync(tmp_path, library_url, data={"staff": True}, sync=sync_settings)
    assert (report.outcome, report.counts["recycled"]) == ("ok", 1), report.message
    return library, borrower_of(library, LEFT_STAFF, "staff")


@pytest.mark.parametrize("template, label", [(None, "Leaver 2023"), ("Left {year} - was {group}", "Left 2023")])
def test_staff_with_no_tutor_group_leave_without_an_old_group(tmp_path, library_url, template, label):
    _, row = staff_leaver(tmp_path, library_url, **({"leaver_group": template} if template else {}))
    assert (row["status"], row["tutor_group"], row["group_before_recycle"]) == ("recycled", label, None)


def test_restoring_a_leaver_who_had_no_group_leaves_no_leaver_label(tmp_path, library_url):
    library, row = staff_leaver(tmp_path, library_url)
    with Session(connect(library_url)) as session, session.begin():
        restored = recycle_bin.restore(session, row["barcode"], actor="librarian")
    assert restored.tutor_group is None
    assert borrower_of(library, LEFT_STAFF, "staff")["tutor_group"] is None


def test_a_leaver_who_had_no_group_comes_back_on_roll_with_none(tmp_path, library_url):
    library, _ = staff_leaver(tmp_path, library_url)
    back = staff_member("Gone", "Away", Id="51")
    staff_school(tmp_path, [back, staff_member("Stay", "Put", Id="50")], [reg_group("900", "9B", primary_staff_id="50")])
    report = sync(tmp_path, library_url, data={"staff": True, "staff_year_group": 13})  # staff need a year
    assert report.counts["restored"] == 1, report.message
    row = borrower_of(library, LEFT_STAFF, "staff")
    assert (row["status"], row["tutor_group"]) == ("active", None)
