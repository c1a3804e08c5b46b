"""The demo school as its MIS knows it, and how the MIS numbers and stamps records.

The school's identity, its year groups and houses, and the identifiers every Xporter
row carries: XIDs and GUIDs from one seeded stream, unique email addresses, the RowHash,
and the ids and labels of year and house groups.
"""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

SCHOOL_NAME = "HOLLOWFIELD ACADEMY"
SCHOOL_DOMAIN = "hollowfield.example"  # .example is reserved (RFC 2606): no real mailbox
LA_CODE = "926"  # Norfolk
ESTAB_ID = "9262001"
YEARS = tuple(range(7, 14))
HOUSES = (("BRU", "Brunel"), ("CUR", "Curie"), ("SEA", "Seacole"), ("TUR", "Turing"))

# Version 4 and the RFC 4122 variant, as uuid.UUID(version=4) sets them.
_GUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_GUID_SET = (4 << 76) | (0x8000 << 48)


class Ids:
    """The identifiers the MIS hands out.  ``rng`` is the stream they come from; the builders
    also draw pupils' numbers, ULNs and school emails from it, in a fixed order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._xids: set[str] = set()
        self._emails: dict[str, int] = {}  # local@domain -> how many people have it

    def xid(self) -> str:
        while True:
            xid = "x" + "".join(self.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=6))
            if xid not in self._xids:
                self._xids.add(xid)
                return xid

    def guid(self) -> str:
        """A version-4 GUID from the seeded stream: the text of uuid.UUID(int=bits, version=4),
        formatted directly because UUID objects cost a noticeable share of a big build."""
        bits = self.rng.getrandbits(128) & _GUID_KEEP | _GUID_SET
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def email(self, local: str, domain: str) -> str:
        """A unique address: sarah.smith@, then sarah.smith2@, sarah.smith3@..."""
        key = f"{local.lower()}@{domain}"
        n = self._emails[key] = self._emails.get(key, 0) + 1
        return key if n == 1 else key.replace("@", f"{n}@", 1)


def row_hash(row: dict) -> str:
    """40 upper-case hex characters derived from the row, like Xporter's RowHash."""
    return hashlib.sha1(repr(list(row.values())).encode()).hexdigest().upper()


@lru_cache(maxsize=None)  # one shared string per year, not one per pupil row
def year_label(year_group: int) -> str:
    # SIMS puts two spaces after "Year" ("Year  4", "Year  N2" in the recorded samples).
    return f"Year  {year_group}"


@lru_cache(maxsize=None)
def year_group_id(year: int) -> str:
    # The sample school numbers year groups downwards (Year 1 = 31, Year 2 = 30).
    return str(38 - year)


@lru_cache(maxsize=None)
def house_group_id(house: int) -> str:
    return str(41 + house)
