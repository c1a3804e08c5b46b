"""A cheap sign that Koha's patrons have not changed, so that a read (the
TUI polls every few seconds; a preview) need not pull every patron again.

It is made of counts, sums and latest values of the rows a pull reads. A
change it cannot see (a photo replaced in place, an attribute edited in
place by SQL) is still brought in by the next write, which always pulls in
full; a write whose pull found changes forgets the fingerprint, so a preview
refused for that reason is read afresh. A fingerprint taken within two
seconds of the latest patron edit is not trusted (``updated_on`` counts
whole seconds).
"""
from __future__ import annotations

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from engine.config import KohaSettings
from engine.koha.mirror import attribute_columns
from engine.koha.tables import KohaTables


def fingerprint(connection: Connection | Session, tables: KohaTables, settings: KohaSettings) -> tuple | None:
    b, a, i, p = (tables.borrowers.c, tables.attributes.c, tables.issues.c, tables.patronimage.c)
    ours = b.categorycode.in_((settings.student_category, settings.staff_category, settings.leaver_category))
    patrons = connection.execute(select(
        func.count(), func.sum(b.borrowernumber), func.max(b.updated_on),
        func.max(b.updated_on) >= func.date_sub(func.now(), text("INTERVAL 2 SECOND"))).where(ours)).one()
    if patrons[3]:
        return None
    attributes = connection.execute(select(func.count(), func.max(a.id))
                                    .where(a.code.in_(attribute_columns(settings).values()))).one()
    issues = connection.execute(select(func.count(), func.max(i.issue_id), func.max(i.date_due))).one()
    images = connection.execute(select(func.count(), func.sum(p.borrowernumber))).one()
    return tuple(patrons[:3]) + tuple(attributes) + tuple(issues) + tuple(images)
