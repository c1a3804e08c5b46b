"""Normalising the free text that arrives from the MIS and from librarians.

Everything that compares names or groups goes through here, so that "Zoë
Smith-Jones", "ZOE SMITH JONES" and " zoe  smith-jones" are one person to every
part of the engine. It is also the one place that decides what text may be
stored (column widths, control characters, gender codes) and how a file's bytes
become text, so the Xporter reader and the borrower CSV import cannot drift
apart.
"""
from __future__ import annotations

import codecs
import json
import re
import unicodedata
from functools import lru_cache

from sqlalchemy import Column, Integer, String

from engine.models import Borrower

# Letters that do not decompose into a base letter plus an accent under NFKD.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                                 "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                                 "ı": "i", "þ": "th", "ð": "d"})
_NAME_SEPARATORS = re.compile(r"[\s\-‐‑–—_.]+")
_NAME_DROPPED = re.compile(r"['’‘`\"]")


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """"1 loan", "2 loans", "1,024 borrowers"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def clean(value: object) -> str | None:
    """Trim and collapse whitespace; an empty value becomes None."""
    if value is None:
        return None
    text = " ".join((value if type(value) is str else str(value)).split())
    return text or None


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 18)
def name_key(value: str | None) -> str:
    """The form in which two names are compared: case, accents, spacing,
    hyphens and apostrophes do not count ("O'Brien-Smith" == "obrien smith").
    Cached: a school has far fewer distinct names than records."""
    if not value:
        return ""
    text = fold_accents(value).casefold()
    text = _NAME_DROPPED.sub("", text)
    return _NAME_SEPARATORS.sub(" ", text).strip()


_YEAR_NUMBER = re.compile(r"^(?:year|yr|y)?\s*([0-9]{1,2})$", re.IGNORECASE)
_RECEPTION = {"r", "rec", "reception", "year r"}


def year_label(value: object) -> str | None:
    """A year group as the library shows it: "Year  7" and "7" become "Year 7"."""
    text = clean(value)
    if text is None:
        return None
    number = year_number(text)
    if number is not None and number > 0:
        return f"Year {number}"
    if number == 0:
        return "Reception"
    return text


def year_number(value: object) -> int | None:
    """The number of a year group (Reception is 0), or None for nursery and
    anything that is not a year ("Year N2", "Sixth Form")."""
    text = clean(value)
    if text is None:
        return None
    if text.casefold() in _RECEPTION:
        return 0
    match = _YEAR_NUMBER.match(text)
    return int(match.group(1)) if match else None


def _width(column: str) -> int:
    return Borrower.__table__.c[column].type.length


# The library's column widths, read from the models so that anything a reader
# accepts fits where it is written: a longer value is rejected, never
# truncated. Each kind names the borrower column it is measured against; the
# guardian and Intake columns of the same kind have the same width (a test
# checks it).
MAX_LENGTHS = {kind: _width(column) for kind, column in {
    "name": "forename", "id": "mis_id", "barcode": "barcode", "group": "tutor_group", "email": "email",
    "phone": "phone", "address": "address", "postcode": "postcode", "gender": "gender"}.items()}

# Control characters left after whitespace is collapsed: PostgreSQL refuses a
# NUL outright, which would fail the whole run rather than this one record.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The spellings of gender that both the MIS and MLS's CSV import use.
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}


def storage_problem(value: str, kind: str) -> str | None:
    """Why a cleaned value cannot be stored in a column of this kind, or None.
    Each reader words the refusal its own way (a rejected record, a bad row)."""
    if len(value) > MAX_LENGTHS[kind]:
        return f"is longer than {MAX_LENGTHS[kind]} characters ({len(value)})"
    # isprintable() first: it is fast and true for almost every value.
    if not value.isprintable() and _CONTROL.search(value):
        return "contains a control character"
    return None


# Integer is 32-bit signed on every database the library runs on.
INTEGER_RANGE = (-2**31, 2**31 - 1)


def column_problem(column: Column, value: object) -> str | None:
    """Why a value cannot be stored in this model column, or None: the one
    rule, read from the models, for every value the engine writes."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Integer):
        low, high = INTEGER_RANGE
        return None if low <= value <= high else f"is out of range ({low} to {high})"
    if isinstance(kind, String) and kind.length:
        if len(value) > kind.length:
            return f"is longer than {kind.length} characters ({len(value)})"
        if not value.isprintable() and _CONTROL.search(value):
            return "contains a control character"
    return None


def json_object(stored: object) -> dict | None:
    """A JSON object as stored in the library, or None where what is stored is
    not one (edited by hand, written by an older version, damaged)."""
    try:
        value = json.loads(stored)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def fit_text(value: str, width: int) -> str:
    """Text shortened to a column's width, marked with … where cut. Only for
    text the engine writes about data (audit values, labels), never for the
    data itself, which is rejected when it does not fit."""
    return value if len(value) <= width else value[:width - 1] + "…"


# Whole numbers as the MIS and a CSV write them: ASCII digits only, since
# int() also reads "３" and "٣". Beyond 4,000 digits int() itself refuses.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,4000}")


def whole_number(value: str) -> int | None:
    """The number written in 0-9 (with an optional sign), or None."""
    return int(value) if _WHOLE_NUMBER.fullmatch(value) else None


# Letters the strictest supported unique index (MariaDB's default
# utf8mb4_general_ci) treats as another letter, beyond case and accents.
_UNIQUE_FOLD = str.maketrans({**{chr(k): v for k, v in _UNDECOMPOSABLE.items()},
                              "ß": "s", "ẞ": "s", "Ð": "d", "Þ": "th", "\u0345": "ι"})
_SUPPLEMENTARY = re.compile("[\U00010000-\U0010FFFF]")


def unique_key(value: str) -> str:
    """The form in which two ids or barcodes are the same to a unique index on
    any supported database: MariaDB's general_ci ignores case, accents and
    trailing spaces, reads ß as s and every character beyond U+FFFF as one
    and the same. Folding a little more than it does is safe (a clash is
    refused by name); folding less lets a clash reach the database."""
    value = value.rstrip(" ")
    if value.isascii():
        return value.lower()
    value = _SUPPLEMENTARY.sub("\ufffd", value).translate(_UNIQUE_FOLD)
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_UNIQUE_FOLD).casefold()


def gender_code(value: str) -> str | None:
    """"M" or "F" for the spellings in ``GENDERS``; None for anything else."""
    return GENDERS.get(value.casefold())


class EncodingProblem(ValueError):
    """A file's bytes cannot be trusted as text; the message says where."""


# One complete, well-formed UTF-8 sequence of two to four bytes (RFC 3629:
# no overlong forms, no surrogates, nothing above U+10FFFF).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")


def decode_windows_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of a file written on a Windows machine: UTF-16 with a
    BOM, UTF-8 (BOM or not), or Windows-1252.

    Windows-1252 is only a fallback for a file that holds no UTF-8 at all. A
    file that is UTF-8 apart from a stray bad byte is refused, naming the byte:
    reading it as Windows-1252 would turn every accented name in it into
    mojibake ("Zoë" -> "ZoÃ«") without anyone noticing."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise EncodingProblem(f"not valid UTF-16 text ({exc.reason} at byte {exc.start})") from None
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(raw):
            # The decoder counts from after a BOM; a person counts from the start.
            offset = exc.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
            line = raw.count(b"\n", 0, offset) + 1
            raise EncodingProblem(
                f"byte {offset} (line {line}) is not valid UTF-8, though other characters in it are: "
                "it is damaged or mixes encodings, so it is not read (guessing would garble names)") from None
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise EncodingProblem(f"neither UTF-8 nor Windows-1252 text (byte {exc.start})") from None
