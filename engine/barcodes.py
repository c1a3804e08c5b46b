"""Giving new borrowers a barcode, by the school's configured scheme."""
from __future__ import annotations

import re
from typing import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from engine.config import BarcodeSettings
from engine.text import MAX_LENGTHS, unique_key


class BarcodeError(ValueError):
    """No barcode can be given; the message says why."""


def barcode_key(barcode: str) -> str:
    """The form in which two barcodes clash. MariaDB's unique index ignores
    case, accents and trailing spaces, so "lib-1", "LIB-1 " and "líb-1" must be
    one barcode on every database, or the clash would surface as an
    IntegrityError on MariaDB alone (see ``engine.text.unique_key``)."""
    return unique_key(barcode)


def stored_barcode(wanted: str, barcodes: Iterable[str]) -> str | None:
    """The library's barcode that ``wanted`` names: itself if stored, else the
    one stored barcode it folds equal to (what MariaDB's lookup would find),
    so a barcode typed by hand finds the same borrower on every database."""
    key, found = barcode_key(wanted), []
    for barcode in barcodes:
        if barcode == wanted:
            return barcode
        if barcode_key(barcode) == key:
            found.append(barcode)
    return found[0] if len(found) == 1 else None


# How many near misses a refusal offers, and how far off one may be: one
# character wrong, missing, extra or two swapped (two for longer barcodes).
NEAR_MISSES = 3


def near_misses(wanted: str, barcodes: Iterable[str]) -> list[str]:
    """The stored barcodes nearest ``wanted``, all equally near (at most
    ``NEAR_MISSES``), compared as ``barcode_key`` folds them; none if none is
    near. Two swapped digits count as one slip, the commonest when typing a
    barcode by hand."""
    limit = 1 if len(wanted) < 6 else 2
    found = process.extract(wanted, list(barcodes), scorer=OSA.distance, processor=barcode_key,
                            score_cutoff=limit, limit=NEAR_MISSES)
    return sorted(barcode for barcode, distance, _ in found if distance == found[0][1])


def did_you_mean(wanted: str, barcodes: Iterable[str]) -> str:
    """"; did you mean S0001967?" after a refusal naming a barcode the
    library does not hold, or "" if no stored barcode is near it."""
    near = near_misses(wanted, barcodes)
    if not near:
        return ""
    return f"; did you mean {near[0] if len(near) == 1 else ', '.join(near[:-1]) + ' or ' + near[-1]}?"


class BarcodeAllocator:
    """Hands out barcodes that clash neither with the library nor with each other.

    ``sequence``: prefix + number, after the highest already used, and as
    wide as that one (zero-padded), so new barcodes look like the library's
    own; ``settings.digits`` wide only in a library with none yet;
    ``mis_id`` / ``admission_no``: prefix + that number from the MIS.
    """

    def __init__(self, settings: BarcodeSettings, existing: set[str]):
        self.settings = settings
        self.taken = {barcode_key(b) for b in existing}
        # Case-blind like the clash check: "s000041" typed by hand still counts.
        pattern = re.compile(rf"^{re.escape(settings.prefix)}([0-9]{{1,64}})$", re.IGNORECASE)
        highest = max(((int(m.group(1)), len(m.group(1))) for b in existing if (m := pattern.match(b))),
                      default=(0, settings.digits))
        self.next_number, self.digits = highest[0] + 1, highest[1]

    def is_taken(self, barcode: str) -> bool:
        return barcode_key(barcode) in self.taken

    def allocate(self, *, mis_id: str | None = None, admission_no: str | None = None, label: str = "") -> str:
        scheme = self.settings.scheme
        if scheme == "sequence":
            while True:
                barcode = f"{self.settings.prefix}{self.next_number:0{self.digits}d}"
                self.next_number += 1
                if not self.is_taken(barcode):
                    break
        else:
            source = mis_id if scheme == "mis_id" else admission_no
            if not source:
                raise BarcodeError(f"{label}: has no {scheme.replace('_', ' ')} to make a barcode from")
            barcode = f"{self.settings.prefix}{source}"
            if self.is_taken(barcode):
                raise BarcodeError(f"{label}: barcode {barcode} (from the {scheme.replace('_', ' ')}) "
                                   "already belongs to another borrower")
        limit = MAX_LENGTHS["barcode"]
        if len(barcode) > limit:
            raise BarcodeError(f"{label}: barcode {barcode[:20]}… is longer than {limit} characters")
        self.taken.add(barcode_key(barcode))
        return barcode

    def claim(self, barcode: str, label: str = "") -> None:
        """Reserve a barcode given by hand; a clash is refused."""
        if self.is_taken(barcode):
            raise BarcodeError(f"{label}: barcode {barcode} already belongs to another borrower")
        self.taken.add(barcode_key(barcode))
