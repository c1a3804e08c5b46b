"""The run log identifies records by MIS id and barcode only: no names, dates
of birth, addresses or contact details, whatever the run had to report."""
from __future__ import annotations

from tests.builders import Library, sync, student


def test_the_log_names_records_without_personal_data(tmp_path, library_url):
    library = Library(library_url)
    library.add_borrower("B-LEAVER", "Gwendolyn", "Pemberton-Ashby", dob="2011-07-23", mis_id="77")
    pupils = [
        student("Ottoline", "Quarrington", dob="2012-05-17", Id="1", PostCode="NR9 4QX",
                WorkEmail="ottoline@example.org"),
        student("Bartholomew", "Inkpen", dob="2012-02-31", Id="2"),  # rejected: impossible date
        student("Ottoline", "Quarrington", dob="2012-05-17", Id="3"),  # twin-like, to Intake
    ]
    report = sync(tmp_path, library_url, pupils, data={"address": True, "email": True})
    assert report.outcome == "ok" and report.counts["recycled"] == 1 and report.counts["rejected"] == 1
    log = (tmp_path / "mislink.log").read_text(encoding="utf-8")
    assert "B-LEAVER" in log and "student 2" in log, "records are still identified"
    for personal in ("Gwendolyn", "Pemberton", "Ottoline", "Quarrington", "Bartholomew", "Inkpen",
                     "2011-07-23", "2012-05-17", "2012-02-31", "NR9", "example.org"):
        assert personal not in log, f"{personal!r} leaked into the run log"
