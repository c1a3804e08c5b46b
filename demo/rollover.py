"""The demo school across one summer: its June export and its September roll-over.

``rollover(school)`` gives the same school twice, as Xporter would export it
in June 2026 (the end of 2025/26) and in September 2026 (the school exactly as
``build_school`` made it, two weeks into 2026/27):

* everyone in September's export who was at the school in the summer is in
  June's export one year group down, in last year's tutor group (``8B`` was
  ``7B``), on roll; those who left in July already carry their leaving date;
* June's export also holds the pupils who leave over the summer: the whole of
  Year 13, and the Year 11s who do not stay on for the sixth form (made here,
  numbered after everyone in September's export);
* September's newcomers (Year 7, sixth-form joiners) are not in June's export,
  unless ``pre_admissions``: then they are there as Xporter's
  ``includePreAdmissions`` sends them, ``StudentStatus`` ``PreAdmission``, with
  their ``EntryDate`` and the year group they will join.

``without_leavers`` is September's export taken without ``includeLeavers``;
``with_pupils_missing`` is one that lost part of some year groups, as a broken
MIS extract might. Deterministic: the same school gives the same exports.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime

from demo import names
from demo.dates import ACADEMIC_YEAR, EXPORT_TIME, LAST_SUMMER_TERM_END, TERM_START
from demo.mis import YEARS, Ids, year_group_id, year_label
from demo.pupils import (
    FORM_SIZE, Form, assign_upns, form_letters, make_pupils, number_pupils, place_in_forms, student_row,
)  # fmt: skip
from demo.school import School

JUNE_EXPORT_TIME = datetime(2026, 6, 15, 6, 30, 12, 250000)  # a Monday in the summer term
JUNE_DAY = JUNE_EXPORT_TIME.date()
SEPTEMBER_DAY = EXPORT_TIME.date()
# The year groups whose pupils (all, or those not staying on) leave in the summer.
LEAVING_YEARS = (11, 13)


@dataclass(frozen=True)
class Rollover:
    june: School  # its responses are June's export; the borrower CSV is September's school's
    september: School
    summer_leavers: frozenset[str]  # student Ids on roll in June and gone by September
    newcomers: frozenset[str]  # student Ids who start in September


def rollover(school: School, *, pre_admissions: bool = False) -> Rollover:
    """The school's June export and its September one (``school`` itself)."""
    students = school.rows("Students")
    newcomers = {row["Id"] for row in students if row["EntryDate"] >= TERM_START.isoformat()}
    june_rows = [june for june in (_in_june(row, row["Id"] in newcomers, pre_admissions) for row in students) if june]
    leavers = _summer_leavers(school, june_rows)
    june = _with_students(school, june_rows + leavers, JUNE_EXPORT_TIME)
    return Rollover(june, school, frozenset(row["Id"] for row in leavers), frozenset(newcomers))


def without_leavers(school: School) -> School:
    """The export as it is without ``includeLeavers``: leavers are simply absent."""
    return _with_students(school, [row for row in school.rows("Students") if row["StudentStatus"] != "Leaver"])


def with_pupils_missing(school: School, years: tuple[int, ...], share: float = 0.5) -> School:
    """The export less ``share`` of the pupils on roll in each of ``years``
    (every other one, for a half): a broken extract."""
    rows, seen = [], dict.fromkeys(years, 0)
    for row in school.rows("Students"):
        year = _year(row)
        if row["StudentStatus"] == "OnRoll" and year in seen:
            seen[year] += 1
            if int(seen[year] * share) != int((seen[year] - 1) * share):
                continue
        rows.append(row)
    return _with_students(school, rows)


def _year(row: dict) -> int:
    return int(row["YearGroup"].split()[-1])


def _in_june(row: dict, newcomer: bool, pre_admissions: bool) -> dict | None:
    """A September Students row as June's export had it; None for a newcomer
    unless pre-admissions are exported."""
    june = dict(row)
    if newcomer:
        if not pre_admissions or row["StudentStatus"] != "OnRoll":
            return None
        return {**june, "StudentStatus": "PreAdmission", "RegGroupId": None, "RegGroup": None}
    if row["StudentStatus"] == "Leaver" and row["LeavingDate"] == LAST_SUMMER_TERM_END.isoformat():
        # Left in July from the group they were in: already dated in June.
        return {**june, "StudentStatus": "OnRoll"}
    year = _year(row) - 1
    code = row["RegGroup"]
    if code and code.startswith(str(year + 1)):
        code = f"{year}{code[len(str(year + 1)):]}"
    june.update(YearGroup=year_label(year), YearGroupId=year_group_id(year), RegGroup=code, StudentStatus="OnRoll",
                LeavingDate=None, Destination=None, DestinationStartDate=None, ReasonForLeaving=None)
    return june


def _summer_leavers(school: School, june_rows: list[dict]) -> list[dict]:
    """June's Year 13, and the Year 11s who leave: about as many pupils as
    September's Year 13 and Year 11 hold, less the Year 11s staying on."""
    on_roll = [row for row in school.rows("Students") if row["StudentStatus"] == "OnRoll"]
    size = {year: sum(_year(row) == year for row in on_roll) for year in LEAVING_YEARS}
    staying = sum(_year(row) == 11 and row["StudentStatus"] == "OnRoll" for row in june_rows)
    cohort = {year: 0 for year in YEARS} | {13: size[13], 11: max(0, size[11] - staying)}
    rng = random.Random(f"mislink-demo:{school.seed}:summer-leavers")
    pupils, _, _ = make_pupils(rng, cohort, sum(cohort.values()), names.Catchment(), academic_year=ACADEMIC_YEAR - 1)
    ids = [int(row["Id"]) for row in school.rows("Students")]
    admissions = [int(row["AdmissionNo"]) for row in school.rows("Students")]
    number_pupils(rng, pupils, first_id=max(ids, default=0) + 1, first_admission=max(admissions, default=1000) + 1)
    forms = {year: _forms(year, cohort[year]) for year in YEARS}
    place_in_forms(rng, pupils, forms)
    assign_upns(rng, len(pupils), pupils, taken=(row["UPN"] for row in school.rows("Students") if row["UPN"]))
    ids_stream = Ids(rng)
    return [student_row(pupil, ids_stream) for pupil in sorted(pupils, key=lambda p: int(p.id))]


def _forms(year: int, pupils: int) -> list[Form]:
    if not pupils:
        return []
    forms = [Form(year, index, "") for index in range(max(1, round(pupils / FORM_SIZE[year])))]
    for form in forms:
        form.code = f"{year}{form_letters(form.index)}"
    return forms


def _with_students(school: School, rows: list[dict], exported: datetime | None = None) -> School:
    """The school with these Students rows (one page), and every response's
    ``meta`` stamped ``exported`` when given."""
    responses = dict(school.responses)
    students = dict(responses["Students"])
    students["Students"] = rows
    students["__pagination__"] = [{**students["__pagination__"][0], "PageSize": len(rows), "RowCount": len(rows)}]
    responses["Students"] = students
    if exported is not None:
        stamp = exported.isoformat(timespec="milliseconds")
        responses = {name: {**response, "meta": [{**m, "DateTime": stamp} for m in response["meta"]]}
                     for name, response in responses.items()}
    return dataclasses.replace(school, responses=responses)


__all__ = ["JUNE_DAY", "SEPTEMBER_DAY", "Rollover", "rollover", "with_pupils_missing", "without_leavers"]
