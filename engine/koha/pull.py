"""Koha -> mirror: bring ``mislink_borrowers`` up to date with Koha's pupil
and staff patrons, at the start of a locked transaction.

Only patrons in the student, staff or leaver category are read (any other
patron, a parent or a member of the public, is never read nor touched), and
only those with a cardnumber. Every change found is an event (actor
``koha``, no run) so that the change marker moves and the audit trail shows
what was edited in Koha; a pull that finds nothing changed writes nothing.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine.apply import EventLog, bulk_update
from engine.config import DataSettings, KohaSettings
from engine.decisions import chunks
from engine.koha.mirror import (PUSHED, attribute_columns, koha_columns, mirror_value, pulled_columns)
from engine.koha.tables import KohaTables
from engine.models import Borrower, KohaPatron, Loan
from engine.text import unique_key

ACTOR = "koha"
MOVED_TO_LEAVERS = "moved to the leaver category in Koha"
DELETED = "deleted in Koha"
NOT_OURS = "no longer a pupil, staff or leaver patron in Koha"
# A Koha loan without an issue date (the column allows NULL; the mirror's does not).
UNKNOWN_ISSUE = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Link:
    borrowernumber: int
    created_by_mislink: bool


@dataclass
class Pulled:
    """The mirror right after the pull, for the push to compare with: each
    row's pushed columns by borrower id, and each linked row's Koha patron."""
    rows: dict[int, dict]
    links: dict[int, Link]
    warnings: list[str] = field(default_factory=list)
    # Whether the pull brought anything in.
    changed: bool = False


def pull(session: Session, tables: KohaTables, settings: KohaSettings, data: DataSettings,
         now: datetime) -> Pulled:
    patrons, unnumbered = _koha_patrons(session, tables, settings, data)
    warnings = [f"{unnumbered} Koha patron(s) in the pupil, staff or leaver categories have no cardnumber: "
                "left out until they have one"] if unnumbered else []
    mirror = _mirror(session)
    links = _links(session)
    by_number = {link.borrowernumber: borrower_id for borrower_id, link in links.items()}
    unlinked = {unique_key(row["barcode"]): borrower_id for borrower_id, row in mirror.items()
                if borrower_id not in links}
    events = EventLog(None, ACTOR, now, session)
    columns = pulled_columns(data)
    updates, adds, new_links = [], [], []
    taken = {_id_key(row): borrower_id for borrower_id, row in mirror.items()
             if borrower_id not in links and row["mis_id"]}
    for number in sorted(patrons):
        patron = patrons[number]
        borrower_id = by_number.get(number) or unlinked.pop(unique_key(patron["barcode"]), None)
        row, link = mirror.get(borrower_id), links.get(borrower_id)
        wanted = _settled(patron, settings, row["borrower_type"] if row else None, link)
        _keep_ids_unique(wanted, borrower_id or ("new", number), taken, settings, warnings)
        if borrower_id is None:
            adds.append((number, _new_row(wanted, now)))
            continue
        if link is None:
            new_links.append({"borrower_id": borrower_id, "borrowernumber": number, "created_by_mislink": False})
        values = _changes(row, wanted, columns, events, borrower_id, now)
        if values:
            updates.append({"id": borrower_id, "updated_at": now, **values})
    bulk_update(session, Borrower, updates)
    _hand_moved_leavers(session, updates, links, settings)
    gone = [(borrower_id, link) for borrower_id, link in links.items() if link.borrowernumber not in patrons]
    _unlink_gone(session, tables, gone, mirror, events, now)
    _add(session, adds, events, new_links)
    if new_links:
        session.execute(insert(KohaPatron), new_links)
    changed = bool(updates or gone or adds or new_links)
    changed |= _follow_loans(session, tables, settings, events)
    events.flush(session)
    if changed:
        mirror, links = _mirror(session), _links(session)
    return Pulled({i: {c: row[c] for c in PUSHED} for i, row in mirror.items()},
                  {i: Link(link.borrowernumber, link.created_by_mislink) for i, link in links.items()}, warnings,
                  changed)


def _categories(settings: KohaSettings) -> tuple[str, str, str]:
    return settings.student_category, settings.staff_category, settings.leaver_category


def _ours(tables: KohaTables, settings: KohaSettings):
    return tables.borrowers.c.categorycode.in_(_categories(settings))


def _koha_patrons(session: Session, tables: KohaTables, settings: KohaSettings,
                  data: DataSettings) -> tuple[dict[int, dict], int]:
    """Every patron in our categories with a cardnumber, as mirror values
    (``borrower_type`` and ``status`` still to be settled against the
    mirror) by borrowernumber; and how many have no cardnumber."""
    b = tables.borrowers.c
    wanted = {column: koha for column, koha in koha_columns(settings).items() if column in pulled_columns(data)}
    rows = session.execute(select(b.borrowernumber, b.categorycode, *(b[k].label(m) for m, k in wanted.items()))
                           .where(_ours(tables, settings)))
    patrons, unnumbered = {}, 0
    for row in rows:
        values = dict(row._mapping)
        if not (values["barcode"] or "").strip():
            unnumbered += 1
            continue
        number = values.pop("borrowernumber")
        patrons[number] = {column: mirror_value(column, value) if column != "categorycode" else value
                           for column, value in values.items()}
        patrons[number]["barcode"] = values["barcode"]
        for column in attribute_columns(settings):
            patrons[number][column] = None
    _read_attributes(session, tables, settings, patrons)
    if data.photos:
        image = tables.patronimage.c
        digests = session.execute(select(image.borrowernumber, func.sha2(image.imagefile, 256))
                                  .join(tables.borrowers, tables.borrowers.c.borrowernumber == image.borrowernumber)
                                  .where(_ours(tables, settings)))
        for number, digest in digests:
            if number in patrons:
                patrons[number]["photo_digest"] = digest
        for patron in patrons.values():
            patron.setdefault("photo_digest", None)
    return patrons, unnumbered


def _read_attributes(session: Session, tables: KohaTables, settings: KohaSettings, patrons: dict) -> None:
    """The MIS id, UPN and admission number; where Koha holds a code twice
    (it does not enforce non-repeatable types), the first one entered."""
    a = tables.attributes.c
    column_of = {code: column for column, code in attribute_columns(settings).items()}
    rows = session.execute(select(a.borrowernumber, a.code, a.attribute)
                           .join(tables.borrowers, tables.borrowers.c.borrowernumber == a.borrowernumber)
                           .where(_ours(tables, settings), a.code.in_(column_of)).order_by(a.id.desc()))
    for number, code, value in rows:
        if number in patrons:
            patrons[number][column_of[code]] = mirror_value(column_of[code], value)


def _links(session: Session) -> dict:
    link = KohaPatron.__table__.c
    return {row.borrower_id: row for row in session.execute(select(link.borrower_id, link.borrowernumber,
                                                                   link.category_before, link.created_by_mislink))}


def _mirror(session: Session) -> dict[int, dict]:
    columns = [Borrower.__table__.c[c] for c in (*PUSHED, "group_before_recycle")]
    return {row.id: dict(row._mapping) for row in session.execute(select(Borrower.id, *columns))}


def _settled(patron: dict, settings: KohaSettings, mirror_type: str | None, link) -> dict:
    """The patron's mirror values with type, status and MIS person type
    worked out: a leaver keeps the type the mirror has (or had before)."""
    values = dict(patron)
    category = values.pop("categorycode")
    if category == settings.staff_category:
        kind = "staff"
    elif category == settings.student_category:
        kind = "student"
    else:
        before = link.category_before if link is not None else None
        kind = mirror_type or ("staff" if before == settings.staff_category else "student")
    values["borrower_type"] = kind
    values["status"] = "recycled" if category == settings.leaver_category else "active"
    values["mis_person_type"] = kind if values.get("mis_id") else None
    return values


def _id_key(values: dict) -> tuple | None:
    """An MIS id as the mirror's unique index compares it (None: no id)."""
    return (values["mis_person_type"], unique_key(values["mis_id"])) if values.get("mis_id") else None


def _keep_ids_unique(wanted: dict, owner, taken: dict, settings: KohaSettings, warnings: list[str]) -> None:
    """Koha does not enforce a unique attribute: where two patrons hold one
    MIS id, the first (by borrowernumber) keeps it in the mirror."""
    key = _id_key(wanted)
    if key is None:
        return
    if taken.setdefault(key, owner) != owner:
        warnings.append(f"Koha patron {wanted['barcode']}: its {settings.attribute_mis_id} attribute is another "
                        "patron's too; left unlinked from the MIS until one of them is corrected in Koha")
        wanted.update(mis_id=None, mis_person_type=None)


def _changes(row: dict, wanted: dict, columns: tuple[str, ...], events: EventLog, borrower_id: int,
             now: datetime) -> dict:
    """The mirror columns Koha has changed, each an event."""
    values = {c: wanted[c] for c in columns if c in wanted and wanted[c] != row[c]}
    for column, value in values.items():
        events.add("changed_in_koha", borrower_id=borrower_id, field=column, old=row[column], new=value)
    if values.get("status") == "recycled":
        values.update(recycled_at=now, recycled_reason=MOVED_TO_LEAVERS)
        if row["group_before_recycle"] is None:
            values["group_before_recycle"] = row["tutor_group"]
    elif values.get("status") == "active":
        values.update(recycled_at=None, recycled_reason=None, group_before_recycle=None)
    return values


def _hand_moved_leavers(session: Session, updates: list[dict], links: dict, settings: KohaSettings) -> None:
    """A patron moved to the leaver category by hand: a restore moves them
    back to their type's category (their expiry is not known)."""
    for values in updates:
        link = links.get(values["id"])
        if values.get("status") == "recycled" and link is not None and link.category_before is None:
            kind = values.get("borrower_type") or session.scalar(select(Borrower.borrower_type)
                                                                 .where(Borrower.id == values["id"]))
            category = settings.staff_category if kind == "staff" else settings.student_category
            session.execute(update(KohaPatron).where(KohaPatron.borrower_id == values["id"])
                            .values(category_before=category))


def _new_row(values: dict, now: datetime) -> dict:
    row = {"created_at": now, "updated_at": now, **values}
    if values["status"] == "recycled":
        row.update(recycled_at=now, recycled_reason=MOVED_TO_LEAVERS, group_before_recycle=values.get("tutor_group"))
    return row


def _add(session: Session, adds: list[tuple[int, dict]], events: EventLog, new_links: list[dict]) -> None:
    """Mirror rows for patrons first seen in Koha (typed in by hand)."""
    if not adds:
        return
    by_columns = defaultdict(list)
    for _, row in adds:
        by_columns[tuple(sorted(row))].append(row)
    for rows in by_columns.values():
        session.execute(insert(Borrower), rows)
    wanted = {unique_key(row["barcode"]): number for number, row in adds}
    for chunk in _text_chunks([row["barcode"] for _, row in adds]):
        for borrower_id, barcode in session.execute(select(Borrower.id, Borrower.barcode)
                                                    .where(Borrower.barcode.in_(chunk))):
            number = wanted.get(unique_key(barcode))
            if number is not None:
                new_links.append({"borrower_id": borrower_id, "borrowernumber": number,
                                  "created_by_mislink": False})
                events.add("added_in_koha", borrower_id=borrower_id, field="barcode", new=barcode)


def _text_chunks(values: list[str]) -> list[list[str]]:
    return [values[start:start + 1000] for start in range(0, len(values), 1000)]


def _unlink_gone(session: Session, tables: KohaTables, gone: list, mirror: dict, events: EventLog,
                 now: datetime) -> None:
    """A mirrored patron no longer in our categories (deleted in Koha, or
    moved to another category): recycled in the mirror and unlinked, so no
    later push re-creates it unless a person restores it."""
    if not gone:
        return
    numbers = [link.borrowernumber for _, link in gone]
    existing = set()
    for chunk in chunks(numbers):
        existing.update(session.scalars(select(tables.borrowers.c.borrowernumber)
                                        .where(tables.borrowers.c.borrowernumber.in_(chunk))))
    recycled = []
    for borrower_id, link in gone:
        reason = NOT_OURS if link.borrowernumber in existing else DELETED
        events.add("deleted_in_koha", borrower_id=borrower_id, field="status", old=mirror[borrower_id]["status"],
                   new=f"recycled ({reason})")
        if mirror[borrower_id]["status"] == "active":
            recycled.append({"id": borrower_id, "status": "recycled", "recycled_at": now, "recycled_reason": reason,
                             "group_before_recycle": mirror[borrower_id]["tutor_group"], "updated_at": now})
    bulk_update(session, Borrower, recycled)
    for chunk in chunks([borrower_id for borrower_id, _ in gone]):
        session.execute(delete(KohaPatron).where(KohaPatron.borrower_id.in_(chunk)))


def _follow_loans(session: Session, tables: KohaTables, settings: KohaSettings, events: EventLog) -> bool:
    """Mirrored patrons' loans out are Koha's ``issues``: the planner's
    "leaver with loans out" reads them. Whether anything changed."""
    issues = tables.issues.c
    numbers = {number: borrower_id for number, borrower_id
               in session.execute(select(KohaPatron.borrowernumber, KohaPatron.borrower_id))}
    koha = defaultdict(set)
    rows = session.execute(select(issues.borrowernumber, issues.itemnumber, issues.issuedate, issues.date_due)
                           .join(tables.borrowers, tables.borrowers.c.borrowernumber == issues.borrowernumber)
                           .where(_ours(tables, settings)))
    for number, item, issued, due in rows:
        if number in numbers:
            koha[numbers[number]].add((str(item), issued or UNKNOWN_ISSUE, due))
    linked, mirror = set(numbers.values()), defaultdict(set)
    for borrower_id, item, issued, due in session.execute(
            select(Loan.borrower_id, Loan.item, Loan.issued_at, Loan.due_at).where(Loan.returned_at.is_(None))):
        if borrower_id in linked:
            mirror[borrower_id].add((item, issued, due))
    changed = [b for b in set(koha) | set(mirror) if koha.get(b, set()) != mirror.get(b, set())]
    for chunk in chunks(changed):
        session.execute(delete(Loan).where(Loan.borrower_id.in_(chunk), Loan.returned_at.is_(None)))
    rows = [{"borrower_id": b, "item": item, "issued_at": issued, "due_at": due}
            for b in changed for item, issued, due in koha.get(b, ())]
    if rows:
        session.execute(insert(Loan), rows)
    for borrower_id in changed:
        events.add("loans_in_koha", borrower_id=borrower_id, field="loans out",
                   old=len(mirror.get(borrower_id, ())), new=len(koha.get(borrower_id, ())))
    return bool(changed)
