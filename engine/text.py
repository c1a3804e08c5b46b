"""Normalising the free text that arrives from the MIS and from librarians.

Everything that compares names or groups goes through here, so that "Zoë
Smith-Jones", "ZOE SMITH JONES" and " zoe  smith-jones" are one person to every
part of the engine.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that do not decompose into a base letter plus an accent under NFKD.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                                 "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                                 "ı": "i", "þ": "th", "ð": "d"})
_NAME_SEPARATORS = re.compile(r"[\s\-‐‑–—_.]+")
_NAME_DROPPED = re.compile(r"['’‘`\"]")


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


_YEAR_NUMBER = re.compile(r"^(?:year|yr|y)?\s*(\d{1,2})$", re.IGNORECASE)
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
