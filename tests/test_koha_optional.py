"""Optional data on a Koha library: written to Koha's own columns while
switched on (email, phone, address and postcode, the photo in patronimage,
the first guardian as the alternate contact), removed when switched off, and
a value typed into Koha that mislink never saw is never removed."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from engine.sync import run_sync
from tests.builders import TODAY, Library, student, write_export
from tests.optional_builders import image_bytes, write_optional_school

EVERY_OPTION = {"email": True, "phones": True, "address": True, "photos": True, "guardians": True}
NO_OPTION = {key: False for key in EVERY_OPTION}


def sync_with(koha, tmp_path, data):
    report = run_sync(koha.config(tmp_path, data=data, sync={"max_recycle_share": 1.0, "min_export_share": 0.0}),
                      today=TODAY)
    assert report.outcome == "ok", report.message
    return report


def image_of(koha, number):
    image = koha.tables.patronimage.c
    with koha.engine.connect() as connection:
        return connection.execute(select(image.mimetype, image.imagefile).where(image.borrowernumber == number)).first()


def test_optional_data_is_written_to_koha_and_removed_when_switched_off(koha, tmp_path):
    number = koha.add_patron("1001", "Ann", "Pupil", "2012-03-04", email="typed@koha.example")
    write_optional_school(tmp_path / "export")
    sync_with(koha, tmp_path, EVERY_OPTION)
    patron, mirror = koha.patron("1001"), Library(koha.url).borrower("1001")
    assert (patron["email"], patron["phone"]) == ("first@pupil.example", mirror["phone"])
    assert mirror["phone"].startswith("01632 960003")
    assert (patron["address"], patron["zipcode"]) == (mirror["address"], "PE4 7FQ")
    assert (patron["altcontactfirstname"], patron["altcontactsurname"], patron["altcontactphone"]) == \
        ("Mx Hilda", "Abbess", "01632 960201; 07700 900201")
    mimetype, data = image_of(koha, number)
    assert (mimetype, data) == ("image/jpeg", image_bytes("JPEG"))
    assert mirror["photo_digest"] == hashlib.sha256(data).hexdigest()

    sync_with(koha, tmp_path, NO_OPTION)
    patron = koha.patron("1001")
    assert [patron[c] for c in ("email", "phone", "address", "zipcode", "altcontactfirstname", "altcontactsurname",
                                "altcontactphone")] == [None] * 7
    assert image_of(koha, number) is None


def test_a_value_typed_into_koha_is_left_while_that_data_is_off(koha, tmp_path):
    koha.add_patron("1001", "Ann", "Pupil", "2012-03-04", email="typed@koha.example", phone="01632 000000",
                    address="1 Koha Lane")
    write_export(tmp_path / "export", Students=[student("Ann", "Pupil", Id="401", WorkEmail="ann@school.example")])
    sync_with(koha, tmp_path, NO_OPTION)
    sync_with(koha, tmp_path, NO_OPTION)
    patron = koha.patron("1001")
    assert (patron["email"], patron["phone"], patron["address"]) == ("typed@koha.example", "01632 000000",
                                                                      "1 Koha Lane")
    assert Library(koha.url).borrower("1001")["email"] is None


def test_a_photo_already_in_koha_is_read_as_its_digest_and_an_unchanged_resync_leaves_it(koha, tmp_path):
    number = koha.add_patron("1001", "Ann", "Pupil", "2012-03-04")
    write_optional_school(tmp_path / "export")
    sync_with(koha, tmp_path, EVERY_OPTION)
    before = koha.dump()
    sync_with(koha, tmp_path, EVERY_OPTION)
    assert koha.dump() == before
    assert image_of(koha, number) is not None
