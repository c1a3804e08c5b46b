"""Photos: decoded and checked as JPEG or PNG within data.photo_max_kb, stored
in borrower_photos; a bad photo is rejected with a reason and the rest of the
record still syncs."""
from __future__ import annotations

import base64
import struct
import zlib

import pytest

from tests.builders import Library, staff_member, student, sync, write_export
from tests.optional_builders import (b64, borrower_of, image_bytes, intake_record, link_borrower, noisy_image_bytes,
                                     photo, rows_of)

PHOTOS_ON = {"photos": True}


def ok(report):
    assert report.outcome == "ok", report.message
    return report


def pupil(**fields) -> dict:
    return student("Ann", "Pupil", Id="700", **fields)


def stored_photos(library: Library, record: dict, person_type: str = "student") -> list[tuple[str, bytes]]:
    borrower_id = borrower_of(library, record, person_type)["id"]
    return [(r["content_type"], bytes(r["data"])) for r in rows_of(library, "borrower_photos", borrower_id)]


def linked_pupil(tmp_path, library: Library, photos: list[dict], **fields) -> dict:
    record = pupil(**fields)
    link_borrower(library, record)
    write_export(tmp_path / "export", Students=[record], Photos=photos)
    return record


@pytest.mark.parametrize(("kind", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_a_photo_is_stored_for_the_library_to_show(tmp_path, library_url, kind, content_type):
    library = Library(library_url)
    data = image_bytes(kind)
    record = linked_pupil(tmp_path, library, [photo("700", data)])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert stored_photos(library, record) == [(content_type, data)]
    assert borrower_of(library, record)["photo_digest"] is not None


def test_photos_are_not_written_when_switched_off(tmp_path, library_url):
    library = Library(library_url)
    record = linked_pupil(tmp_path, library, [photo("700", image_bytes())])
    write_export(tmp_path / "export", Students=[record, student("New", "Comer", Id="701")],
                 Photos=[photo("700", image_bytes()), photo("701", image_bytes())])
    ok(sync(tmp_path, library_url))
    assert library.rows("borrower_photos") == []
    assert borrower_of(library, record)["photo_digest"] is None
    assert intake_record(library, "student", "701")["photo"] is None


def test_a_student_and_a_staff_member_with_the_same_id_keep_their_own_photos(tmp_path, library_url):
    library = Library(library_url)
    record, teacher = pupil(), staff_member("Tess", "Tutor", Id="700")
    link_borrower(library, record)
    link_borrower(library, teacher, "staff")
    pupil_photo, staff_photo = image_bytes("JPEG", colour=(0, 0, 255)), image_bytes("PNG")
    write_export(tmp_path / "export", Students=[record], Staff=[teacher],
                 Photos=[photo("700", staff_photo, "Staff"), photo("700", pupil_photo)])
    ok(sync(tmp_path, library_url, data={"photos": True, "staff": True, "staff_year_group": 14}))
    assert stored_photos(library, record) == [("image/jpeg", pupil_photo)]
    assert stored_photos(library, teacher, "staff") == [("image/png", staff_photo)]


def test_a_photo_in_the_students_own_photo_column_is_used(tmp_path, library_url):
    library = Library(library_url)
    data = image_bytes()
    record = linked_pupil(tmp_path, library, [], Photo=b64(data))
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert stored_photos(library, record) == [("image/jpeg", data)]


def test_base64_broken_into_lines_is_accepted(tmp_path, library_url):
    library = Library(library_url)
    data = image_bytes(size=(64, 64))
    record = linked_pupil(tmp_path, library, [{**photo("700", data), "Photo": base64.encodebytes(data).decode()}])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert stored_photos(library, record) == [("image/jpeg", data)]


def test_a_new_photo_replaces_the_old_and_an_unchanged_one_changes_nothing(tmp_path, library_url):
    library = Library(library_url)
    first, second = image_bytes(colour=(255, 0, 0)), image_bytes(colour=(0, 255, 0))
    record = linked_pupil(tmp_path, library, [photo("700", first)])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    write_export(tmp_path / "export", Photos=[photo("700", second)])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert stored_photos(library, record) == [("image/jpeg", second)]
    again = ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert again.plan.is_empty and library.events(again.run_id) == []


def test_an_intake_record_carries_the_photo_when_photos_are_on(tmp_path, library_url):
    library = Library(library_url)
    data = image_bytes("PNG")
    write_export(tmp_path / "export", Students=[pupil()], Photos=[photo("700", data)])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    stored = intake_record(library, "student", "700")["photo"]
    assert (stored["content_type"], base64.b64decode(stored["data"])) == ("image/png", data)


def truncated_jpeg() -> bytes:
    """A JPEG cut off in its pixel data: the header alone looks fine."""
    data = noisy_image_bytes("JPEG", (64, 64))
    return data[:len(data) * 2 // 3]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims these dimensions: decoding it would
    need width x height pixels of memory."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


# case: (the Photo value, words of the reason, data.photo_max_kb)
BAD_PHOTOS = {
    "not base64": ("@@not base64@@", "not valid base64", 512),
    "not an image": (b64(b"just some text, not a picture"), "not a readable image", 512),
    "GIF": (b64(image_bytes("GIF")), "a GIF image; only JPEG and PNG are accepted", 512),
    "truncated JPEG": (b64(truncated_jpeg()), "not a readable image", 512),
    "too many pixels": (b64(png_claiming(8_000, 8_000)), "64,000,000 pixels; at most 40,000,000", 512),
    "decompression bomb": (b64(png_claiming(30_000, 30_000)), "too many pixels", 512),
    "too large": (b64(noisy_image_bytes("PNG", (32, 32))), "larger than data.photo_max_kb (1 KB)", 1),
}


@pytest.mark.parametrize("case", list(BAD_PHOTOS))
def test_a_bad_photo_is_rejected_with_a_reason_and_the_rest_of_the_record_syncs(tmp_path, library_url, case):
    encoded, reason, max_kb = BAD_PHOTOS[case]
    library = Library(library_url)
    record = linked_pupil(tmp_path, library, [{**photo("700", b""), "Photo": encoded}], RegGroup="9Q")
    report = ok(sync(tmp_path, library_url, data={"photos": True, "photo_max_kb": max_kb}))
    [rejection] = report.plan.rejections
    assert (rejection.file, rejection.record, rejection.field) == ("Photos.json", "student 700 (Ann Pupil)", "Photo")
    assert reason in rejection.reason
    assert library.rows("borrower_photos") == []
    borrower = borrower_of(library, record)
    assert (borrower["tutor_group"], borrower["photo_digest"]) == ("9Q", None)


def test_a_bad_photo_leaves_the_stored_one_in_place(tmp_path, library_url):
    library = Library(library_url)
    good = image_bytes()
    record = linked_pupil(tmp_path, library, [photo("700", good)])
    ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    write_export(tmp_path / "export", Photos=[{**photo("700", b""), "Photo": b64(b"garbage")}])
    report = ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert [r.field for r in report.plan.rejections] == ["Photo"]
    assert stored_photos(library, record) == [("image/jpeg", good)]


def test_a_bad_photo_in_the_students_own_column_names_the_students_file(tmp_path, library_url):
    write_export(tmp_path / "export", "xml", Students=[pupil(Photo=b64(b"garbage"))])
    report = ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert [(r.file, r.field) for r in report.plan.rejections] == [("Students.xml", "Photo")]
    assert len(Library(library_url).intake()) == 1


def test_a_missing_photos_file_is_a_warning_when_photos_are_on(tmp_path, library_url):
    write_export(tmp_path / "export", Students=[pupil()])
    report = ok(sync(tmp_path, library_url, data=PHOTOS_ON))
    assert any(w.startswith("Photos.json (or .xml): not in the export") for w in report.plan.warnings)
