from engine.sync import run_sync
from tests.builders import make_config, student, write_export


def test_first_sync_puts_new_students_in_intake(tmp_path, library_url):
    write_export(tmp_path / "export", Students=[student("Ada", "Lovelace"), student("Alan", "Turing")])
    report = run_sync(make_config(tmp_path, library_url))
    assert report.outcome == "ok", report.message
    assert report.counts["intake_added"] == 2
    again = run_sync(make_config(tmp_path, library_url))
    assert again.counts["intake_added"] == 0 and again.plan.is_empty
