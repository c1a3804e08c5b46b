"""A sync pushes to Koha when it applies its plan and again just before the
commit: the second push reads the mirror only if it was written since
(``engine.koha.watch``), and then still writes what changed."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

import engine.koha.bridge
from engine.api import connect_library, transaction
from engine.koha.bridge import bridge_for
from engine.models import Borrower
from tests.builders import student
from tests.test_koha_sync import sync_koha

ADA = student("Ada", "Lovelace", "2012-03-04", Id="201", RegGroup="8A", YearGroup="Year  8")


@pytest.fixture
def pushes(monkeypatch) -> list[int]:
    """Each push that read the mirror, by the number of pushes so far."""
    calls: list[int] = []
    push = engine.koha.bridge.push

    def counted(*args, **kwargs):
        calls.append(len(calls) + 1)
        return push(*args, **kwargs)

    monkeypatch.setattr(engine.koha.bridge, "push", counted)
    return calls


def test_a_sync_reads_the_mirror_for_koha_once_when_nothing_is_written_after_its_push(koha, tmp_path, pushes):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", sort1="7A")
    sync_koha(koha, tmp_path, [ADA])
    assert koha.patron("1001")["sort1"] == "8A"
    assert pushes == [1]


@pytest.mark.parametrize("write", [None, "statement", "flush"])
def test_a_change_after_the_first_push_is_still_written_to_koha(koha, tmp_path, pushes, write):
    koha.add_patron("1001", "Ada", "Lovelace", "2012-03-04", sort1="7A")
    sync_koha(koha, tmp_path, [ADA])
    library = connect_library(koha.config(tmp_path))
    try:
        with transaction(library, lock=True) as session:
            assert bridge_for(library).push(session) == []
            if write == "statement":
                session.execute(update(Borrower).where(Borrower.barcode == "1001").values(tutor_group="8Z"))
            elif write == "flush":
                session.scalars(select(Borrower).where(Borrower.barcode == "1001")).one().tutor_group = "8Z"
    finally:
        library.dispose()
    # The sync's one push, this transaction's own, and the commit's only after a write.
    assert pushes == [1, 2] if write is None else [1, 2, 3]
    assert koha.patron("1001")["sort1"] == ("8A" if write is None else "8Z")
