"""A restore that sticks: a borrower restored with a hold stays out of the
recycle bin while the MIS has them leaving, until the MIS has them on roll
again or a person releases the hold; without a hold, the restore says the next
sync will recycle them again."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from cli.main import ExitCode, main
from engine import recycle_bin
from engine.recycle_bin import RecycleBinError
from tests.builders import Library, library_session, make_config, response, sync
from tests.support.schools import ON_ROLL, ada, linked_school

LEAVER = ada(StudentStatus="Leaver", LeavingDate="2023-07-21")


def recycled_school(tmp_path, library_url) -> Library:
    """Ada (B010) marked as a leaver and recycled; Alan and Grace on roll."""
    library = linked_school(tmp_path, library_url)
    assert sync(tmp_path, library_url, [LEAVER, *ON_ROLL]).counts["recycled"] == 1
    return library


def restore(library_url, barcode="B010", actor="jsmith", hold=False):
    with library_session(library_url) as session:
        return recycle_bin.restore(session, barcode, actor, hold=hold)


def release(library_url, barcode="B010", actor="jsmith"):
    with library_session(library_url) as session:
        return recycle_bin.release_hold(session, barcode, actor)


def hold_events(library: Library) -> list[tuple]:
    return [(e["borrower_id"], e["action"], e["field"], e["old_value"], e["new_value"]) for e in library.events()
            if e["action"] in ("held", "hold_released")]


def test_a_restore_without_a_hold_is_recycled_again_and_the_restore_says_so(tmp_path, library_url):
    library = recycled_school(tmp_path, library_url)
    restored = restore(library_url)
    assert (restored.returns_to_bin, restored.held) == (True, False)
    again = sync(tmp_path, library_url, [LEAVER, *ON_ROLL])
    assert (again.counts["recycled"], again.counts["held_not_recycled"]) == (1, 0)
    assert library.borrower("B010")["status"] == "recycled"


def test_a_held_leaver_stays_out_of_the_recycle_bin_and_the_report_counts_them(tmp_path, library_url):
    library = recycled_school(tmp_path, library_url)
    restored = restore(library_url, hold=True)
    assert (restored.held, restored.held_by, restored.returns_to_bin, restored.tutor_group) == (
        True, "jsmith", False, "8A")
    # One leaver among three borrowers is over the 10% guard: a hold is no recycle, so nothing trips.
    report = sync(tmp_path, library_url, [LEAVER, *ON_ROLL], sync={"max_recycle_share": 0.1})
    assert report.outcome == "ok" and report.guard_stops == []
    assert (report.counts["recycled"], report.counts["held_not_recycled"]) == (0, 1)
    assert report.plan.is_empty
    assert "1 held borrower not recycled (B010)" in report.to_text()
    assert report.to_json()["held_not_recycled"] == 1
    row = library.borrower("B010")
    assert (row["status"], row["tutor_group"], row["held_by"]) == ("active", "8A", "jsmith")
    assert row["held_at"] is not None


@pytest.mark.parametrize("export", [
    pytest.param(ON_ROLL, id="no longer in a full export"),
    pytest.param(response("Students", ON_ROLL[:1], Students_deleted=[{"Id": "10"}],
                          __changedRows__=[{"NextChangedRows": "abc"}]), id="deleted in a delta"),
])
def test_a_held_borrower_gone_from_the_export_stays_out_of_the_recycle_bin(tmp_path, library_url, export):
    library = linked_school(tmp_path, library_url)
    assert sync(tmp_path, library_url, export).counts["recycled"] == 1
    restore(library_url, hold=True)
    report = sync(tmp_path, library_url, export)
    assert (report.counts["recycled"], report.counts["held_not_recycled"]) == (0, 1)
    assert library.borrower("B010")["status"] == "active"


def test_the_hold_ends_when_the_mis_has_them_on_roll_again(tmp_path, library_url):
    library = recycled_school(tmp_path, library_url)
    restore(library_url, hold=True)
    back = sync(tmp_path, library_url, [ada(), *ON_ROLL])
    row = library.borrower("B010")
    assert (row["status"], row["held_at"], row["held_by"]) == ("active", None, None)
    ended = {e["field"]: e["new_value"] for e in library.events(back.run_id) if e["action"] == "updated"}
    assert ended == {"held_at": None, "held_by": None}
    assert sync(tmp_path, library_url, [ada(), *ON_ROLL]).plan.is_empty
    # With the hold gone, the MIS decides again.
    assert sync(tmp_path, library_url, [LEAVER, *ON_ROLL]).counts["recycled"] == 1


def test_a_released_hold_lets_the_next_sync_recycle_them(tmp_path, library_url):
    library = recycled_school(tmp_path, library_url)
    restore(library_url, hold=True)
    released = release(library_url, "b010", actor="head")  # typed in another case
    assert (released.held, released.returns_to_bin) == (False, True)
    assert (library.borrower("B010")["held_at"], library.borrower("B010")["held_by"]) == (None, None)
    ada_id = library.borrower("B010")["id"]
    assert hold_events(library) == [(ada_id, "held", "held_by", None, "jsmith"),
                                    (ada_id, "hold_released", "held_by", "jsmith", None)]
    assert sync(tmp_path, library_url, [LEAVER, *ON_ROLL]).counts["recycled"] == 1
    with pytest.raises(RecycleBinError, match="B010 is not held"):
        release(library_url, "B010")


def test_hold_alone_holds_a_borrower_restored_earlier_and_never_twice(tmp_path, library_url):
    library = recycled_school(tmp_path, library_url)
    restore(library_url)
    with pytest.raises(RecycleBinError, match="not in the recycle bin"):
        restore(library_url)
    held = restore(library_url, hold=True, actor="jsmith")
    assert held.held and library.borrower("B010")["status"] == "active"
    with pytest.raises(RecycleBinError, match=r"B010 is already held since \d{4}-\d\d-\d\d by jsmith"):
        restore(library_url, hold=True)
    assert sync(tmp_path, library_url, [LEAVER, *ON_ROLL]).counts["held_not_recycled"] == 1


def test_held_borrowers_are_listed_after_the_recycled_ones_and_never_purged(tmp_path, library_url):
    recycled_school(tmp_path, library_url)
    sync(tmp_path, library_url, [LEAVER])  # Alan and Grace leave too
    restore(library_url, "B011", hold=True)
    with library_session(library_url) as session:
        listed = recycle_bin.list_recycled(session, with_held=True)
        assert [(b.barcode, b.held) for b in listed] == [("B010", False), ("B012", False), ("B011", True)]
        assert listed[-1].hold_note.startswith("held since ") and listed[-1].hold_note.endswith(" by jsmith")
        assert [b.barcode for b in recycle_bin.list_recycled(session)] == ["B010", "B012"]
        assert "B011" not in [b.barcode for b in recycle_bin.purgeable(session, 0)]


def cli(tmp_path, capsys, *argv) -> tuple[int, str, str]:
    code = main(["--config", str(tmp_path / "config.toml"), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_school(tmp_path, library_url) -> Library:
    from engine.config import save_config

    library = recycled_school(tmp_path, library_url)
    save_config(make_config(tmp_path, library_url), tmp_path / "config.toml")
    return library


def test_cli_restore_without_hold_says_the_next_sync_recycles_them_again(tmp_path, library_url, capsys):
    cli_school(tmp_path, library_url)
    code, out, _ = cli(tmp_path, capsys, "recycle-bin", "restore", "B010")
    assert code == ExitCode.OK
    assert "B010 is an active borrower again" in out
    assert "the next sync will recycle them again unless you restore with --hold" in out
    assert "`mislink recycle-bin restore B010 --hold`" in out


def test_cli_restore_with_hold_list_and_release(tmp_path, library_url, capsys, monkeypatch):
    monkeypatch.setenv("LOGNAME", "jsmith")  # the login the audit trail names
    library = cli_school(tmp_path, library_url)
    code, out, _ = cli(tmp_path, capsys, "recycle-bin", "restore", "B010", "--hold")
    assert code == ExitCode.OK
    assert "B010 is held since " in out and " by jsmith" in out and "will recycle them again" not in out
    code, out, _ = cli(tmp_path, capsys, "recycle-bin", "list")
    assert code == ExitCode.OK
    (line,) = [line for line in out.splitlines() if "B010" in line]
    assert "held since " in line
    assert "The recycle bin is empty" in out and "1 held out of it" in out
    code, out, _ = cli(tmp_path, capsys, "recycle-bin", "list", "--json")
    (row,) = json.loads(out)
    assert (row["barcode"], row["recycled_at"], row["held_by"]) == ("B010", None, "jsmith")
    assert datetime.fromisoformat(row["held_at"]).date() == library.borrower("B010")["held_at"].date()
    code, out, _ = cli(tmp_path, capsys, "borrowers", "release", "B010")
    assert code == ExitCode.OK
    assert "B010: hold released" in out and "the next sync recycles B010 if the MIS still has them leaving" in out
    assert library.borrower("B010")["held_at"] is None
    code, out, err = cli(tmp_path, capsys, "borrowers", "release", "B010", "--json")
    assert code == ExitCode.FAILED and "B010 is not held" in err
    assert json.loads(out)["exit_code"] == ExitCode.FAILED
