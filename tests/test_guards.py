"""Mass-change guards: an empty, shrunken or foreign export, or a run that would
recycle too much of the library, stops before writing unless forced."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cli.main import ExitCode, main
from engine.db import connect
from engine.models import Borrower, SyncRun
from engine.runs import undo_run
from engine.session import open_library
from engine.sync import run_sync
from tests.builders import make_config, response, student, write_export


def _school(n: int) -> list[dict]:
    return [student(f"Pupil{i}", f"Family{i}", Id=str(100 + i)) for i in range(n)]


def _linked_library(tmp_path, library_url, n: int):
    """A library whose n borrowers are all linked to MIS students 100.."""
    engine = connect(library_url)
    with Session(engine) as session, session.begin():
        session.add_all(Borrower(barcode=f"B{i}", forename=f"Pupil{i}", surname=f"Family{i}",
                                 mis_person_type="student", mis_id=str(100 + i)) for i in range(n))
    return engine


def _active(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Borrower).where(Borrower.status == "active"))


def test_run_that_would_recycle_over_the_share_is_refused_and_writes_nothing(tmp_path, library_url):
    engine = _linked_library(tmp_path, library_url, 20)
    write_export(tmp_path / "export", Students=_school(20)[:17])  # 3 of 20 = 15% would leave
    config = make_config(tmp_path, library_url)
    report = run_sync(config)
    assert report.outcome == "refused"
    assert "recycle 3 of 20 active borrowers" in report.message
    assert _active(engine) == 20
    with Session(engine) as session:  # recorded, with why, but nothing applied
        runs = session.execute(select(SyncRun.outcome, SyncRun.message)).all()
    assert len(runs) == 1 and runs[0].outcome == "refused" and "recycle 3 of 20" in runs[0].message
    forced = run_sync(config, force=True)
    assert forced.outcome == "ok" and forced.counts["recycled"] == 3
    assert "forced past the safety guards" in forced.message
    assert "(forced)" in (tmp_path / "mislink.log").read_text()
    assert _active(engine) == 17


def test_a_small_share_of_leavers_passes(tmp_path, library_url):
    engine = _linked_library(tmp_path, library_url, 20)
    write_export(tmp_path / "export", Students=_school(20)[:19])  # 5%
    assert run_sync(make_config(tmp_path, library_url)).outcome == "ok"
    assert _active(engine) == 19


def test_empty_export_is_refused_with_exit_code_3(tmp_path, library_url, capsys):
    _linked_library(tmp_path, library_url, 3)
    write_export(tmp_path / "export", Students=[])
    (tmp_path / "config.toml").write_text(
        f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n[sync]\nlog_file = "mislink.log"\n')
    assert main(["--config", str(tmp_path / "config.toml"), "--sync", "--json"]) == ExitCode.GUARD
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "refused" and "holds no students at all" in out["message"]


def test_export_far_smaller_than_last_run_is_refused(tmp_path, library_url):
    write_export(tmp_path / "export", Students=_school(10))
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 1.0})
    assert run_sync(config).outcome == "ok"
    write_export(tmp_path / "export", Students=_school(4))
    report = run_sync(config)
    assert report.outcome == "refused"
    assert "holds 4 students, under 50% of the 10 in the last full export" in report.message
    assert run_sync(config, dry_run=True).message.startswith("a real run would stop")


def _info(estab: str) -> dict:
    return response("SchoolInfo", [{"Id": "1", "Name": "X", "EstabId": estab}])


def _synced_school(tmp_path, library_url, pupils: list[dict], estab: str):
    """A library synced once from school ``estab``; its config."""
    write_export(tmp_path / "export", Students=pupils, SchoolInfo=_info(estab))
    config = make_config(tmp_path, library_url)
    assert run_sync(config).outcome == "ok"
    return config


def test_export_from_another_school_is_refused_unless_forced(tmp_path, library_url):
    pupils = _school(3)
    config = _synced_school(tmp_path, library_url, pupils, "9262001")
    write_export(tmp_path / "export", Students=pupils, SchoolInfo=_info("1111111"))
    report = run_sync(config)
    assert report.outcome == "refused" and "establishment 1111111" in report.message
    assert run_sync(config, force=True).outcome == "ok"
    # The new school is now the expected one.
    assert run_sync(config).outcome == "ok"


def test_a_wrong_school_forced_then_undone_is_not_the_school_any_more(tmp_path, library_url):
    pupils = _school(3)
    config = _synced_school(tmp_path, library_url, pupils, "9262001")
    strangers = [dict(pupil, RegGroup="9Z") for pupil in pupils]
    write_export(tmp_path / "export", Students=strangers, SchoolInfo=_info("1111111"))
    wrong = run_sync(config, force=True)
    with open_library(config, write=True) as session:
        undo_run(session, wrong.run_id, actor="technician")
    write_export(tmp_path / "export", Students=pupils, SchoolInfo=_info("9262001"))
    report = run_sync(config)
    assert report.outcome == "ok", report.message


def test_a_delta_export_is_never_judged_by_its_size(tmp_path, library_url):
    write_export(tmp_path / "export", Students=_school(10))
    config = make_config(tmp_path, library_url, sync={"max_recycle_share": 1.0})
    assert run_sync(config).outcome == "ok"
    delta = response("Students", _school(10)[:2], Students_deleted=[{"Id": "109"}],
                     __changedRows__=[{"NextChangedRows": "abc"}])
    write_export(tmp_path / "export", Students=delta)
    report = run_sync(config)
    assert report.outcome == "ok", report.message
    assert report.counts["intake_closed"] == 1, "the deleted pupil's Intake entry is withdrawn"


def test_the_school_is_remembered_across_a_run_without_school_info(tmp_path, library_url):
    pupils = _school(3)
    config = make_config(tmp_path, library_url)
    write_export(tmp_path / "export", Students=pupils, SchoolInfo=_info("1111111"))
    assert run_sync(config).outcome == "ok"
    (tmp_path / "export" / "SchoolInfo.json").unlink()
    quiet = run_sync(config)
    assert quiet.outcome == "ok"
    assert any("cannot be checked to be the same school" in w for w in quiet.plan.warnings)
    write_export(tmp_path / "export", Students=pupils, SchoolInfo=_info("2222222"))
    report = run_sync(config)
    assert report.outcome == "refused" and "earlier syncs were from 1111111" in report.message


def test_a_dry_run_exits_3_when_the_real_run_would_be_stopped(tmp_path, library_url, capsys):
    _linked_library(tmp_path, library_url, 10)
    write_export(tmp_path / "export", Students=_school(10)[:5])
    (tmp_path / "config.toml").write_text(
        f'[source]\npath = "export"\n[library]\nurl = "{library_url}"\n[sync]\nlog_file = "mislink.log"\n')
    assert main(["--config", str(tmp_path / "config.toml"), "--sync", "--dry-run"]) == ExitCode.GUARD
    assert "a real run would stop: it would recycle 5 of 10" in capsys.readouterr().err
    write_export(tmp_path / "export", Students=_school(10))
    assert main(["--config", str(tmp_path / "config.toml"), "--sync", "--dry-run"]) == ExitCode.OK
