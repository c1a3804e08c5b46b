"""The library database: SQLAlchemy 2 typed models, created on first use.

The same models run on SQLite, PostgreSQL, MariaDB and SQL Server, so every
string has a length and large values use portable types with a MySQL variant.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LongBlob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Borrower(Base):
    __tablename__ = "mislink_borrowers"
    __table_args__ = (
        # One library record per MIS person: the database itself refuses a second link.
        UniqueConstraint("mis_person_type", "mis_id", name="uq_borrowers_mis_person"),
        Index("ix_borrowers_name", "surname", "forename"),
        Index("ix_borrowers_dob", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    borrower_type: Mapped[str] = mapped_column(String(16), default="student")
    # MIS identity; empty for borrowers the library typed in by hand.
    mis_person_type: Mapped[str | None] = mapped_column(String(16))
    mis_id: Mapped[str | None] = mapped_column(String(64))
    idaas_id: Mapped[str | None] = mapped_column(String(64), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    upn: Mapped[str | None] = mapped_column(String(64), index=True)
    admission_no: Mapped[str | None] = mapped_column(String(64))
    # The display name is the school's choice of preferred or legal; both are kept.
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    preferred_forename: Mapped[str | None] = mapped_column(String(100))
    preferred_surname: Mapped[str | None] = mapped_column(String(100))
    legal_forename: Mapped[str | None] = mapped_column(String(100))
    legal_surname: Mapped[str | None] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    year_group: Mapped[str | None] = mapped_column(String(64))
    tutor_group: Mapped[str | None] = mapped_column(String(64))
    house: Mapped[str | None] = mapped_column(String(64))
    # Optional data, each written only while the school has it switched on.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(16))
    photo_digest: Mapped[str | None] = mapped_column(String(64))
    guardians_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    recycled_at: Mapped[datetime | None] = mapped_column(DateTime)
    recycled_reason: Mapped[str | None] = mapped_column(String(200))
    # The tutor group before recycling, so a restore can put it back.
    group_before_recycle: Mapped[str | None] = mapped_column(String(64))
    # A restore that holds: the sync leaves a held borrower out of the recycle
    # bin until the MIS reports them on roll again or a person releases it.
    held_at: Mapped[datetime | None] = mapped_column(DateTime)
    held_by: Mapped[str | None] = mapped_column(String(64))
    # The leaving date the MIS last gave, so a departure it announced is expected.
    leaving_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BorrowerPhoto(Base):
    __tablename__ = "mislink_borrower_photos"

    borrower_id: Mapped[int] = mapped_column(ForeignKey("mislink_borrowers.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LongBlob)


class Guardian(Base):
    __tablename__ = "mislink_guardians"
    __table_args__ = (UniqueConstraint("borrower_id", "contact_id", name="uq_guardians_contact"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("mislink_borrowers.id"), index=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    relationship: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int | None] = mapped_column(Integer)
    parental_responsibility: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))


class Loan(Base):
    """Just enough of circulation to know who still has books out."""
    __tablename__ = "mislink_loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("mislink_borrowers.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)


class IntakeEntry(Base):
    """One MIS person the sync could not place. One row per person, ever: its
    status moves on (pending -> new -> transferred, matched, rejected…) rather
    than new rows piling up."""
    __tablename__ = "mislink_intake"
    __table_args__ = (
        UniqueConstraint("person_type", "mis_id", name="uq_intake_person"),
        Index("ix_intake_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_type: Mapped[str] = mapped_column(String(16))
    mis_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(32))
    reason_detail: Mapped[str | None] = mapped_column(String(500))
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    year_group: Mapped[str | None] = mapped_column(String(64))
    tutor_group: Mapped[str | None] = mapped_column(String(64))
    # The incoming record, already filtered by the school's data settings.
    record: Mapped[str] = mapped_column(LongText)
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("mislink_borrowers.id"))
    best_score: Mapped[int | None] = mapped_column(Integer)
    # A pre-admission: the day this pupil starts at the school.
    start_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class SyncRun(Base):
    __tablename__ = "mislink_sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="sync")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[str | None] = mapped_column(LongText)
    message: Mapped[str | None] = mapped_column(Text)
    estab: Mapped[str | None] = mapped_column(String(32))
    # The MIS the export came from (Xporter's meta MIS), to notice a change of MIS.
    mis_name: Mapped[str | None] = mapped_column(String(64))
    # A "runs undo" run names the run it undid; the undone run names its undo.
    undo_of: Mapped[int | None] = mapped_column(Integer)
    undone_by_run: Mapped[int | None] = mapped_column(Integer)
    # A live feed's run: the snapshot folder it fetched (or replayed), and the
    # feed's token for the next delta, kept only once this run has committed.
    snapshot: Mapped[str | None] = mapped_column(String(500))
    next_delta: Mapped[str | None] = mapped_column(String(500))


class RunChange(Base):
    """What a run changed in one row (a borrower or an Intake entry), exactly:
    the columns before and after as JSON, or ``before`` None for a row the run
    created, so that ``runs undo`` can put it back and tell what has changed
    since."""
    __tablename__ = "mislink_run_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("mislink_sync_runs.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(16))
    row_id: Mapped[int] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(LongText)
    after: Mapped[str] = mapped_column(LongText)


class SyncEvent(Base):
    """One change to the library: a field of a borrower or Intake entry, or a
    decision. Values are text as shown to a librarian."""
    __tablename__ = "mislink_sync_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("mislink_sync_runs.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="sync")
    action: Mapped[str] = mapped_column(String(32))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("mislink_borrowers.id"), index=True)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("mislink_intake.id"), index=True)
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))


class IntakeDecision(Base):
    """A librarian's Intake decision (match, new, transfer, reject, unreject)
    and exactly what it changed: for each row touched, the columns before and
    after (JSON), so that ``undo`` can put every one of them back, and can
    refuse when something has changed them since."""
    __tablename__ = "mislink_intake_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(500))
    changes: Mapped[str] = mapped_column(LongText)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    undone_by: Mapped[str | None] = mapped_column(String(64))


class KohaPatron(Base):
    """With a Koha library: which Koha patron each mirrored borrower is
    (``engine.koha``), and what a leaver had before mislink moved them to the
    leaver category, so that a restore can put it back."""
    __tablename__ = "mislink_koha_patrons"

    # An undo that removes a borrower mislink created removes its link too.
    borrower_id: Mapped[int] = mapped_column(ForeignKey("mislink_borrowers.id", ondelete="CASCADE"),
                                             primary_key=True)
    borrowernumber: Mapped[int] = mapped_column(Integer, unique=True)
    category_before: Mapped[str | None] = mapped_column(String(10))
    expiry_before: Mapped[date | None] = mapped_column(Date)
    created_by_mislink: Mapped[bool] = mapped_column(default=False)
