"""Mirror -> Koha: just before a locked transaction commits, write to Koha
exactly what the transaction changed in the mirror (compared with the
mirror as the pull left it), and the patrons it created.

A value Koha's own patron form would never store (too long for its column,
a date MariaDB cannot hold) is rejected with a reason, never cut: Koha keeps
its own value, the mirror is put back to it, and an event and a warning
name the barcode and the column. A new patron whose cardnumber Koha cannot
hold stops the whole operation. Koha patrons are never deleted, except one
mislink created with no loans or loan history, when an undo removes the
borrower it made (kept in ``deletedborrowers``, as Koha keeps a patron it
deletes).
"""
from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from engine.apply import EventLog, bulk_update
from engine.config import DataSettings, KohaSettings
from engine.decisions import chunks
from engine.errors import Refusal
from engine.koha.mirror import NAME_COLUMNS, PUSHED, attribute_columns, koha_columns, koha_problem, other_names
from engine.koha.pull import ACTOR, Link, Pulled
from engine.koha.tables import KohaTables
from engine.models import Borrower, BorrowerPhoto, Guardian, KohaPatron

USERID_WIDTH = 75


class KohaRefused(Refusal):
    """Koha cannot take this change as it stands; nothing was written."""


@dataclass
class Push:
    """One push's context: what it writes with, and what it found Koha would not take."""
    session: Session
    tables: KohaTables
    settings: KohaSettings
    data: DataSettings
    today: date
    events: EventLog
    # The day each leaver left, where the caller knows it (a sync's recycles).
    left_on: dict[int, date] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Mirror rows put back to what Koha holds: id -> {column: value}.
    reverts: dict[int, dict] = field(default_factory=dict)
    # Written together at the end, a statement per set of columns (a first
    # sync changes most patrons): borrowernumber -> borrowers columns, and
    # attribute code -> borrowernumber -> its new value (None: none).
    patron_values: dict[int, dict] = field(default_factory=dict)
    attribute_values: dict[str, dict[int, str | None]] = field(default_factory=lambda: defaultdict(dict))

    def write(self) -> None:
        borrowers = self.tables.borrowers
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for number, values in self.patron_values.items():
            groups[tuple(sorted(values))].append({"_number": number, **values})
        for columns, rows in groups.items():
            self.session.execute(update(borrowers).where(borrowers.c.borrowernumber == bindparam("_number"))
                                 .values({c: bindparam(c) for c in columns}), rows)
        attributes = self.tables.attributes
        for code, values in self.attribute_values.items():
            for chunk in chunks(list(values)):
                self.session.execute(delete(attributes).where(attributes.c.code == code,
                                                              attributes.c.borrowernumber.in_(chunk)))
            rows = [{"borrowernumber": n, "code": code, "attribute": v} for n, v in values.items() if v is not None]
            if rows:
                self.session.execute(insert(attributes), rows)


def push(session: Session, tables: KohaTables, settings: KohaSettings, data: DataSettings, pulled: Pulled,
         now: datetime, left_on: dict[int, date]) -> list[str]:
    """Write the transaction's mirror changes to Koha; the warnings for
    values Koha would not take. ``pulled`` becomes the mirror as pushed, so
    a second push in the same transaction writes only what changed since."""
    context = Push(session, tables, settings, data, now.date(), EventLog(None, ACTOR, now, session), left_on)
    current = {row.id: dict(row._mapping)
               for row in session.execute(select(Borrower.id, *(Borrower.__table__.c[c] for c in PUSHED)))}
    for borrower_id, link in list(pulled.links.items()):
        if borrower_id not in current:
            _delete(context, pulled.rows[borrower_id]["barcode"], link)
            del pulled.links[borrower_id]
    for borrower_id, row in current.items():
        before, link = pulled.rows.get(borrower_id), pulled.links.get(borrower_id)
        if link is not None:
            changed = [c for c in PUSHED if row[c] != before[c]]
            if changed:
                _update(context, borrower_id, link.borrowernumber, before, row, changed)
        elif row["status"] == "active" and (before is None or before["status"] == "recycled"):
            pulled.links[borrower_id] = Link(_insert(context, borrower_id, row), True)
    context.write()
    bulk_update(session, Borrower, [{"id": i, **values} for i, values in context.reverts.items()])
    for borrower_id, values in context.reverts.items():
        current[borrower_id].update(values)
    context.events.flush(session)
    pulled.rows = current
    return context.warnings


def _rejected(context: Push, borrower_id: int, barcode: str, column: str, problem: str, kept: object) -> None:
    context.warnings.append(f"borrower {barcode}: {column} not written to Koha: the value {problem}; "
                            "Koha keeps its own")
    context.events.add("rejected_by_koha", borrower_id=borrower_id, field=column, new=f"the value {problem}")
    if column in PUSHED and (kept is not None or Borrower.__table__.c[column].nullable):
        context.reverts.setdefault(borrower_id, {})[column] = kept


def _borrower_values(context: Push, row: dict, columns) -> dict[str, tuple[str | None, object]]:
    """Koha borrowers column -> (the mirror column it comes from, None if
    it is worked out from several, and its value)."""
    mapped = koha_columns(context.settings)
    values = {mapped[c]: (c, row[c]) for c in columns if c in mapped}
    if any(c in NAME_COLUMNS for c in columns):
        values["othernames"] = (None, other_names(row, context.data))
    return values


def _checked(context: Push, borrower_id: int, barcode: str, values: dict, kept: dict) -> dict[str, object]:
    """The values Koha can take; each other one rejected, with its reason."""
    table, accepted = context.tables.borrowers, {}
    for koha_column, (column, value) in values.items():
        problem = koha_problem(table.c[koha_column], value)
        if problem is None:
            accepted[koha_column] = value
        else:
            _rejected(context, borrower_id, barcode, column or koha_column, problem, kept.get(column))
    return accepted


def _update(context: Push, borrower_id: int, number: int, before: dict, row: dict, changed: list[str]) -> None:
    values = _borrower_values(context, row, changed)
    if "othernames" in values and other_names(before, context.data) == values["othernames"][1]:
        del values["othernames"]
    accepted = _checked(context, borrower_id, row["barcode"], values, before)
    accepted.update(_membership(context, borrower_id, number, before, row))
    if "guardians_digest" in changed:
        accepted.update(_first_guardian(context, borrower_id))
    if accepted:
        context.patron_values[number] = accepted
    _attributes(context, borrower_id, number, row, [c for c in changed if c in attribute_columns(context.settings)],
                before)
    if "photo_digest" in changed:
        _photo(context, number, borrower_id, row)


def _category(settings: KohaSettings, borrower_type: str) -> str:
    return settings.staff_category if borrower_type == "staff" else settings.student_category


def _membership(context: Push, borrower_id: int, number: int, before: dict, row: dict) -> dict:
    """Category and expiry: a leaver moves to the leaver category until the
    day they left (else their leaving date, else today; what they had is
    kept for a restore); a restore puts it back."""
    settings, session = context.settings, context.session
    if row["status"] == "recycled" and before["status"] != "recycled":
        borrowers = context.tables.borrowers.c
        category, expiry = session.execute(select(borrowers.categorycode, borrowers.dateexpiry)
                                           .where(borrowers.borrowernumber == number)).one()
        session.execute(update(KohaPatron).where(KohaPatron.borrower_id == borrower_id)
                        .values(category_before=category, expiry_before=expiry))
        left = context.left_on.get(borrower_id) or row["leaving_date"] or context.today
        return {"categorycode": settings.leaver_category, "dateexpiry": left}
    if row["status"] == "active" and before["status"] == "recycled":
        category, expiry = session.execute(select(KohaPatron.category_before, KohaPatron.expiry_before)
                                           .where(KohaPatron.borrower_id == borrower_id)).one()
        category = category or _category(settings, row["borrower_type"])
        session.execute(update(KohaPatron).where(KohaPatron.borrower_id == borrower_id)
                        .values(category_before=None, expiry_before=None))
        return {"categorycode": category, "dateexpiry": expiry or _expiry(context, category)}
    if row["status"] == "active" and row["borrower_type"] != before["borrower_type"]:
        return {"categorycode": _category(settings, row["borrower_type"])}
    if row["status"] == "recycled" and row["leaving_date"] != before["leaving_date"] and row["leaving_date"]:
        return {"dateexpiry": row["leaving_date"]}
    return {}


def _attributes(context: Push, borrower_id: int, number: int, row: dict, columns: list[str], before: dict) -> None:
    """Replace the patron's rows of each changed attribute code (at ``Push.write``)."""
    attributes, codes = context.tables.attributes, attribute_columns(context.settings)
    for column in columns:
        value = row[column]
        problem = koha_problem(attributes.c.attribute, value)
        if problem:
            _rejected(context, borrower_id, row["barcode"], column, problem, before.get(column))
        else:
            context.attribute_values[codes[column]][number] = value


def _photo(context: Push, number: int, borrower_id: int, row: dict) -> None:
    image = context.tables.patronimage
    context.session.execute(delete(image).where(image.c.borrowernumber == number))
    photo = context.session.execute(select(BorrowerPhoto.content_type, BorrowerPhoto.data)
                                    .where(BorrowerPhoto.borrower_id == borrower_id)).first()
    if row["photo_digest"] is None or photo is None:
        return
    problem = koha_problem(image.c.mimetype, photo.content_type)
    if problem:
        _rejected(context, borrower_id, row["barcode"], "photo_digest", problem, None)
        return
    context.session.execute(insert(image).values(borrowernumber=number, mimetype=photo.content_type,
                                                 imagefile=photo.data))


def _first_guardian(context: Push, borrower_id: int) -> dict:
    """The first guardian by priority in Koha's alternate contact; none clears it."""
    guardian = context.session.execute(
        select(Guardian.name, Guardian.phone).where(Guardian.borrower_id == borrower_id)
        .order_by(Guardian.priority.is_(None), Guardian.priority, Guardian.id).limit(1)).first()
    if guardian is None:
        return {"altcontactfirstname": None, "altcontactsurname": None, "altcontactphone": None}
    *first, last = guardian.name.split() or [""]
    return {"altcontactfirstname": " ".join(first) or None, "altcontactsurname": last or None,
            "altcontactphone": guardian.phone}


def _insert(context: Push, borrower_id: int, row: dict) -> int:
    """A new Koha patron, as Koha's own patron store would leave one: the
    configured branch and category, enrolled today until the category's
    enrolment period ends, a unique userid, no password."""
    borrowers = context.tables.borrowers
    problem = koha_problem(borrowers.c.cardnumber, row["barcode"])
    if problem:
        raise KohaRefused(f"borrower {row['barcode']}: cannot be added to Koha: the barcode {problem}; "
                          "nothing written")
    columns = [c for c in PUSHED if row[c] is not None]
    values = _checked(context, borrower_id, row["barcode"], _borrower_values(context, row, columns), {})
    category = _category(context.settings, row["borrower_type"])
    values.update(branchcode=context.settings.branchcode, categorycode=category, dateenrolled=context.today,
                  dateexpiry=_expiry(context, category), userid=_userid(context, row), password=None)
    number = context.session.execute(insert(borrowers).values(values)).inserted_primary_key[0]
    _attributes(context, borrower_id, number, row, [c for c in attribute_columns(context.settings) if row[c]], {})
    if row["photo_digest"]:
        _photo(context, number, borrower_id, row)
    if row["guardians_digest"]:
        context.patron_values[number] = _first_guardian(context, borrower_id)
    context.session.execute(delete(KohaPatron).where(KohaPatron.borrower_id == borrower_id))
    context.session.execute(insert(KohaPatron).values(borrower_id=borrower_id, borrowernumber=number,
                                                      created_by_mislink=True))
    return number


def _expiry(context: Push, category: str) -> date | None:
    """The category's enrolment period (months) from today, or its fixed date."""
    categories = context.tables.categories.c
    months, until = context.session.execute(select(categories.enrolmentperiod, categories.enrolmentperioddate)
                                            .where(categories.categorycode == category)).one()
    if months:
        year, month = divmod(context.today.month - 1 + months, 12)
        year += context.today.year
        return date(year, month + 1, min(context.today.day, monthrange(year, month + 1)[1]))
    return until


def _userid(context: Push, row: dict) -> str:
    """firstname.surname in lower-case ASCII, numbered on a clash (Koha
    compares userids without regard to case)."""
    text = unicodedata.normalize("NFKD", f"{row['forename']}.{row['surname']}").encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9.\-]", "", text.lower()).strip(".") or "patron"
    userid = context.tables.borrowers.c.userid
    for number in range(1, 10_000):
        suffix = "" if number == 1 else str(number)
        candidate = base[:USERID_WIDTH - len(suffix)] + suffix
        if not context.session.scalar(select(exists().where(userid == candidate))):
            return candidate
    raise KohaRefused(f"borrower {row['barcode']}: no free Koha userid for {base!r}")


def _delete(context: Push, barcode: str, link: Link) -> None:
    """Only a patron mislink itself created, with no loans and no loan
    history, is deleted from Koha (an undo of the change that made it)."""
    tables, number = context.tables, link.borrowernumber
    if not link.created_by_mislink:
        raise KohaRefused(f"borrower {barcode}: Koha patron {number} was not created by mislink, and Koha patrons "
                          "are never deleted; nothing written")
    for loans in (tables.issues, tables.old_issues):
        if context.session.scalar(select(exists().where(loans.c.borrowernumber == number))):
            raise KohaRefused(f"borrower {barcode}: Koha patron {number} has loans or loan history in Koha, so it "
                              "cannot be deleted; nothing written")
    # As Koha's own delete (Koha::Patron->move_to_deleted): the row is kept
    # in deletedborrowers first, updated_on left to stamp when it was deleted.
    kept = [c.name for c in tables.deleted_borrowers.c if c.name != "updated_on"]
    context.session.execute(insert(tables.deleted_borrowers).from_select(
        kept, select(*(tables.borrowers.c[c] for c in kept)).where(tables.borrowers.c.borrowernumber == number)))
    context.session.execute(delete(tables.borrowers).where(tables.borrowers.c.borrowernumber == number))
