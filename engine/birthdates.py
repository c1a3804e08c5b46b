"""Comparing dates of birth the way people mistype them.

Dates are never compared with a string similarity: two unrelated dates score
0.8 Jaro-Winkler. A typed date of birth is either the same day, or one digit
wrong, or two neighbouring digits swapped, or day and month swapped (a date
typed the American way); anything else is a different date. Also here: the
school year a date of birth puts a child in, which is how a year group is
checked against it.
"""
from __future__ import annotations

from datetime import date
from enum import Enum
from functools import lru_cache


class DateRelation(Enum):
    SAME = "same date"
    ONE_DIGIT = "one digit different"
    TRANSPOSED = "two neighbouring digits swapped"
    DAY_MONTH_SWAPPED = "day and month swapped"
    DIFFERENT = "different date"


def _digits(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def date_relation(a: date, b: date) -> DateRelation:
    if a == b:
        return DateRelation.SAME
    return mistyped_variants(a).get(b, DateRelation.DIFFERENT)


@lru_cache(maxsize=4096)
def mistyped_variants(day: date) -> dict[date, DateRelation]:
    """Every real date that is a mistyping of this one, and how it is mistyped
    (remembered: blocking and scoring both ask, one after the other)."""
    digits = _digits(day)
    candidates: dict[str, DateRelation] = {}
    for i in range(8):
        for d in "0123456789":
            if d != digits[i]:
                candidates[digits[:i] + d + digits[i + 1:]] = DateRelation.ONE_DIGIT
        if i < 7 and digits[i] != digits[i + 1]:
            candidates[digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]] = DateRelation.TRANSPOSED
    if day.day != day.month:
        candidates[f"{day.year:04d}{day.day:02d}{day.month:02d}"] = DateRelation.DAY_MONTH_SWAPPED
    variants = {}
    for text, relation in candidates.items():
        try:
            variants[date(int(text[:4]), int(text[4:6]), int(text[6:]))] = relation
        except ValueError:
            continue
    return variants


def school_year(date_of_birth: date, today: date) -> int:
    """The year group an English or Welsh child born on this day is in today
    (Reception is 0): the school year runs from 1 September, and a child starts
    Reception in the September after their fourth birthday."""
    academic_year = today.year if today.month >= 9 else today.year - 1
    birth_cohort = date_of_birth.year if date_of_birth.month >= 9 else date_of_birth.year - 1
    return academic_year - birth_cohort - 5
