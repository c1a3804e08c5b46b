"""A borrowers CSV as ``mislink borrowers import`` reads it, and importing one
into a library (barcodes S000001 on, as of 1 March 2024)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.borrower_import import import_borrowers
from engine.config import BarcodeSettings
from tests.builders import library_session

HEADER = "ManagementSystemID,Forename,Surname,DateOfBirth,Gender,TutorGroup,YearGroup"
SETTINGS = BarcodeSettings(scheme="sequence", prefix="S", digits=6)


def csv_file(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "borrowers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def do_import(library_url: str, path: Path, **options):
    """Import the file; nothing is kept unless the import says it was written."""
    with library_session(library_url) as session:
        result = import_borrowers(session, path, SETTINGS, today=date(2024, 3, 1), **options)
        if not result.written:
            session.rollback()
    return result
