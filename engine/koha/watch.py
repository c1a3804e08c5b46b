"""Whether a session wrote to the mirror since its last push to Koha.

A sync pushes twice: once when it applies its plan (so that the run's report
carries Koha's rejections) and once more just before the commit, for what
came after. Each push reads the whole mirror, so the second one is skipped
when nothing that a push reads (the borrowers, their photos and guardians)
was written since the first. Every write the engine makes goes through the
session: a statement (``do_orm_execute``) or the ORM's flush (``before_flush``).
Any doubt (a statement on a table it cannot name) counts as a write.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from engine.models import Borrower, BorrowerPhoto, Guardian

_PUSHED = "koha_mirror_pushed"
MIRROR = (Borrower, BorrowerPhoto, Guardian)
_MIRROR_TABLES = frozenset(model.__table__.name for model in MIRROR)


def watch(session: Session) -> None:
    """From a pull on: the mirror is not pushed until ``pushed`` says so."""
    session.info[_PUSHED] = False
    if not event.contains(session, "do_orm_execute", _statement):
        event.listen(session, "do_orm_execute", _statement)
        event.listen(session, "before_flush", _flush)


def pushed(session: Session) -> None:
    """The mirror as it is now is in Koha."""
    session.info[_PUSHED] = True


def unpushed_writes(session: Session) -> bool:
    """Whether the mirror may hold a change Koha has not been sent (one
    still waiting in the session for its flush counts)."""
    return not session.info.get(_PUSHED, False) or _pending(session)


def _statement(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if table is not None and table.name not in _MIRROR_TABLES:
        return  # a write to another table
    state.session.info[_PUSHED] = False


def _flush(session: Session, context, instances) -> None:
    if _pending(session):
        session.info[_PUSHED] = False


def _pending(session: Session) -> bool:
    return any(isinstance(item, MIRROR) for group in (session.new, session.dirty, session.deleted) for item in group)
