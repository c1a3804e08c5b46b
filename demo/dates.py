"""The demo school's calendar: when the export was taken, the term dates, birthdays.

The school is two weeks into the 2026/27 autumn term, so Year 7 are new.  Nothing here
reads the clock: every date is fixed or drawn from a seeded stream.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

ACADEMIC_YEAR = 2026  # 2026/27
TERM_START = date(2026, 9, 2)  # first weekday on or after 2 September: see first_school_day
LAST_SUMMER_TERM_END = date(2026, 7, 17)
EXPORT_TIME = datetime(2026, 9, 14, 6, 31, 8, 417000)  # a Monday morning, two weeks into term


def first_school_day(year: int) -> date:
    """First weekday on or after 2 September (the 1st is usually an INSET day)."""
    day = date(year, 9, 2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def school_day(day: date) -> date:
    """Move a weekend date to the following Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def birth_window(year_group: int, academic_year: int = ACADEMIC_YEAR) -> tuple[date, date]:
    """Children in Year N in academic year A were born between 1 Sep (A-N-5) and 31 Aug (A-N-4)."""
    return date(academic_year - year_group - 5, 9, 1), date(academic_year - year_group - 4, 8, 31)


def stamp(rng: random.Random, earliest: datetime, latest: datetime = EXPORT_TIME) -> str:
    """A LastUpdated value: no time zone, trailing zeros of the fraction dropped (as .NET does)."""
    # Hot path (several rows per person): isoformat and random() are much cheaper than
    # strftime and randrange.  ``earliest`` has no microseconds, so isoformat has no fraction.
    moment = earliest + timedelta(seconds=int(rng.random() * (latest - earliest).total_seconds()))
    fraction = f"{int(rng.random() * 1000):03d}".rstrip("0")
    return moment.isoformat() + (f".{fraction}" if fraction else "")
