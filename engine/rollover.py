"""Which departures a school expects: the summer roll-over and the leavers the
MIS announced.

A sync recycles a borrower whose person the MIS marks as a leaver, no longer
lists, or deletes. The recycle guard (``sync.max_recycle_share``,
engine.guards) counts only the departures nobody expected, so an ordinary
September passes without ``--force`` while a broken feed still stops. A
departure is expected (``Departure``) when:

- the MIS marks the person a leaver (``MARKED``);
- the MIS gave them a leaving date at an earlier sync, kept in
  ``borrowers.leaving_date`` (``LEAVING_DATE``);
- it comes in the roll-over season (``sync.rollover_from_month`` to
  ``sync.rollover_to_month``, June to October unless the school says) and the
  pupil's stored year group, the one the last sync before the summer gave
  them, is a leaving year (``LEAVING_YEAR``): ``sync.leaving_years``, or by
  default the school's final year group and, where the school has a sixth
  form, Year 11 (the end of compulsory schooling, when many go to college).

A pre-admission whose borrower was made before they started and who goes
before their start date is no leaver at all (``NOT_STARTED``): counted neither
expected nor unexpected. Pure: the caller passes the library's rows.
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Iterable, Mapping

from engine.config import SyncSettings
from engine.person import PersonKey, PersonType, Presence
from engine.text import json_object, year_number

# The last year of compulsory schooling in England (GCSEs).
COMPULSORY_END = 11


class Departure(StrEnum):
    """Why a recycled borrower's departure was expected, or that it was not."""
    UNEXPECTED = "unexpected"
    MARKED = "marked as a leaver in the MIS"
    LEAVING_DATE = "the MIS gave a leaving date"
    LEAVING_YEAR = "in a leaving year at the roll-over"
    NOT_STARTED = "a pre-admission who had not started"


EXPECTED = frozenset({Departure.MARKED, Departure.LEAVING_DATE, Departure.LEAVING_YEAR})


def in_season(today: date, settings: SyncSettings) -> bool:
    """Is ``today`` in the roll-over season? A season may run over the new
    year (November to February: from 11 to 2)."""
    first, last = settings.rollover_from_month, settings.rollover_to_month
    if first <= last:
        return first <= today.month <= last
    return today.month >= first or today.month <= last


def leaving_years(settings: SyncSettings, borrowers: Iterable[Mapping]) -> frozenset[int]:
    """The year groups whose pupils leave at the roll-over: the school's
    setting, else its final year group (the highest among its active pupils'
    stored year groups) and Year 11 where that is above it."""
    if settings.leaving_years:
        return frozenset(settings.leaving_years)
    years = {year_number(row.get("year_group")) for row in borrowers
             if row["status"] == "active" and row.get("borrower_type") == PersonType.STUDENT}
    final = max(years - {None}, default=None)
    if final is None:
        return frozenset()
    return frozenset({final, COMPULSORY_END} if final > COMPULSORY_END else {final})


class Departures:
    """Why each departing borrower was expected to go. Built once per plan
    from the library's borrowers and Intake entries (``Snapshot.intake``)."""

    def __init__(self, borrowers: Iterable[Mapping], intake: Mapping[PersonKey, Mapping], settings: SyncSettings,
                 today: date):
        # ``borrowers`` is read once, if at all: a list or a dict's values.
        self.borrowers, self.intake, self.settings, self.today = borrowers, intake, settings, today

    @cached_property
    def years(self) -> frozenset[int]:
        """The leaving years, if today is in the roll-over season; worked out
        only when a departure asks."""
        if not in_season(self.today, self.settings):
            return frozenset()
        return leaving_years(self.settings, self.borrowers)

    def of(self, row: Mapping) -> Departure:
        """Why this borrower, linked to an MIS person who is gone, was expected
        to go (a person the MIS marks as a leaver is ``MARKED`` by the caller)."""
        if self._not_started(row):
            return Departure.NOT_STARTED
        if row.get("leaving_date") is not None:
            return Departure.LEAVING_DATE
        if row["mis_person_type"] == PersonType.STUDENT and year_number(row.get("year_group")) in self.years:
            return Departure.LEAVING_YEAR
        return Departure.UNEXPECTED

    def _not_started(self, row: Mapping) -> bool:
        """Was the borrower made from a pre-admission whose start date has not
        come? Their Intake entry keeps the record they were made from."""
        entry = self.intake.get((row["mis_person_type"], row["mis_id"]))
        record = json_object(entry["record"]) if entry else None
        if not record or record.get("presence") != Presence.ARRIVING:
            return False
        try:
            start = date.fromisoformat(record.get("start_date") or "")
        except (TypeError, ValueError):
            return False
        return start > self.today
