"""Undoing a whole run from what it recorded (``run_changes``): which of its
changes can be put back and which are left alone (``plan_undo``), and putting
them back (``write_undo``), in the caller's transaction.

A run recorded, per row it touched, the columns before and after, a row it
created (before None) or one it deleted (after None); ``merged`` folds a row
recorded more than once into one. A column goes back to its old value when it
still holds what the run left; one changed since (by a later run, a decision
or a person) is named and left alone, unless forced, and so is a created
row changed since. Some things are left alone even when forced, since
putting them back would break the library: a row that no longer exists (or
exists again), an MIS link now another borrower's, an Intake entry for a
person who has another, a created borrower with loans or an Intake entry
naming it, an entry naming a borrower who is gone.

An Intake entry's best score is derived (``engine.intake.scores``): a run
records it as it was, before only, and it goes back without being compared.
Photos and guardians go back as an Intake decision's do
(``engine.decisions.restored_values``).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from engine.apply import EventLog, RunChanges, bulk_update, shown
from engine.decisions import (TABLES, changed_columns, chunks, decode_value, delete_rows, remove_attachments,
                              restored_values, row_states)
from engine.models import Borrower, IntakeEntry, Loan
from engine.optional_data import ATTACHMENTS, REMOVED
from engine.plan import LINK_COLUMNS
from engine.text import counted, unique_key

MODELS = {"borrowers": Borrower, "intake": IntakeEntry}
DERIVED = {"best_score"}
# A whole row, in an item: created by the run (and removed again), or deleted by it (and added back).
ROW = "(row)"
_DIGESTS = {a.digest_column: a.key for a in ATTACHMENTS}
_EVENT_TARGET = {"borrowers": "borrower_id", "intake": "intake_id"}
# The columns of each table's MIS key (one row per key), and those that name a row.
_KEYS = {"borrowers": ("mis_person_type", "mis_id"), "intake": ("person_type", "mis_id")}
_NAMED = {"borrowers": ("barcode", "forename", "surname"), "intake": ("forename", "surname")}


@dataclass
class RecordedRow:
    """One row's change in a run: before None, created; after None, deleted."""
    table: str
    row_id: int
    before: dict | None
    after: dict | None


def merged(recorded) -> list[RecordedRow]:
    """(table, row id, before JSON, after JSON) in the order recorded, one row
    each: its first recorded old values and its last new ones."""
    rows: dict[tuple[str, int], RecordedRow] = {}
    for table, row_id, before, after in recorded:
        before, after = None if before is None else json.loads(before), json.loads(after)
        row = rows.get((table, row_id))
        if row is None:
            rows[(table, row_id)] = RecordedRow(table, row_id, before, after)
            continue
        if row.before is not None and before is not None:
            row.before = {**before, **row.before}
        row.after = None if after is None else {**(row.after or {}), **after}
    return [row for row in rows.values() if row.before is not None or row.after is not None]


@dataclass(frozen=True)
class UndoItem:
    """One change an undo puts back, or leaves alone (``why``): a column of a
    row (``field``), or the whole row (``ROW``), as shown to a librarian."""
    table: str
    row_id: int
    label: str
    field: str
    now: str | None
    back_to: str | None
    # What the run left, where it is no longer there.
    run_left: str | None = None
    why: str | None = None


@dataclass
class UndoPlan:
    """What an undo would write, by table and row id: old column values to
    put back (encoded), rows to delete (as they are) and rows to add back."""
    current: dict[str, dict[int, dict]]
    updates: dict[str, dict[int, dict]] = field(default_factory=lambda: defaultdict(dict))
    deletes: dict[str, dict[int, dict]] = field(default_factory=lambda: defaultdict(dict))
    inserts: dict[str, dict[int, dict]] = field(default_factory=lambda: defaultdict(dict))
    left_alone: list[UndoItem] = field(default_factory=list)
    labels: dict[tuple[str, int], str] = field(default_factory=dict)

    def leave(self, row: RecordedRow, column: str, why: str, *, run_left: object = None) -> None:
        state = self.current[row.table].get(row.row_id) or {}
        back = (row.before or {}).get(column) if column != ROW else None
        now = state.get(column) if column != ROW else None
        self.left_alone.append(UndoItem(row.table, row.row_id, self.label(row.table, row.row_id), column,
                                        shown_value(column, now), shown_value(column, back),
                                        shown_value(column, run_left), why))

    def drop(self, table: str, row_id: int, why: str, columns=None) -> None:
        """Leave these columns of a row (every change to it, if None) as they are."""
        row = RecordedRow(table, row_id, self.updates[table].get(row_id, {}), None)
        if columns is None:
            for plan in (self.updates, self.deletes, self.inserts):
                plan[table].pop(row_id, None)
            self.leave(row, ROW, why)
            return
        values = self.updates[table].get(row_id, {})
        for column in [c for c in columns if c in values]:
            self.leave(row, column, why)
            del values[column]
        if not values:
            self.updates[table].pop(row_id, None)

    def label(self, table: str, row_id: int) -> str:
        return self.labels.get((table, row_id)) or (f"borrower #{row_id}" if table == "borrowers"
                                                    else f"Intake entry {row_id}")

    def put_back(self) -> list[UndoItem]:
        items = []
        for table in TABLES:
            for row_id, values in self.updates[table].items():
                state = self.current[table][row_id]
                items += [UndoItem(table, row_id, self.label(table, row_id), column,
                                   shown_value(column, state.get(column)), shown_value(column, value))
                          for column, value in values.items() if column not in DERIVED]
            items += [UndoItem(table, row_id, self.label(table, row_id), ROW, "added by the run", "removed")
                      for row_id in self.deletes[table]]
            items += [UndoItem(table, row_id, self.label(table, row_id), ROW, "removed by the run", "added back")
                      for row_id in self.inserts[table]]
        return items

    def changes(self) -> list[RecordedRow]:
        """What the undo would change, in the form a run records it."""
        rows = []
        for table in TABLES:
            current = self.current[table]
            rows += [RecordedRow(table, i, {c: current[i].get(c) for c in values}, values)
                     for i, values in self.updates[table].items()]
            rows += [RecordedRow(table, i, state, None) for i, state in self.deletes[table].items()]
            rows += [RecordedRow(table, i, None, state) for i, state in self.inserts[table].items()]
        return rows


def shown_value(column: str, value: object) -> str | None:
    """A recorded value as a librarian reads it: a record, a photo or a
    guardian list described, never copied; text bounded."""
    if value is None or value == REMOVED:
        return value
    if column == "record":
        return "(record)"
    if column in _DIGESTS:
        return f"({_DIGESTS[column]})"
    return shown(value)


# --- what can be put back ---------------------------------------------------------------

def plan_undo(session: Session, rows: list[RecordedRow], force: bool) -> UndoPlan:
    ids = defaultdict(list)
    for row in rows:
        ids[row.table].append(row.row_id)
    plan = UndoPlan({table: row_states(session, table, ids[table], attachments=False) for table in TABLES})
    for row in rows:
        plan.labels[(row.table, row.row_id)] = _label(row, plan.current[row.table].get(row.row_id))
    for row in rows:
        current = plan.current[row.table].get(row.row_id)
        if row.before is None:
            _undo_creation(plan, row, current, force)
        elif row.after is None:
            if current is None:
                plan.inserts[row.table][row.row_id] = row.before
            else:
                plan.leave(row, ROW, "it exists again")
        elif current is None:
            plan.leave(row, ROW, "it no longer exists")
        else:
            _undo_update(plan, row, current, force)
    _keep_barcodes_unique(session, plan)
    for table in TABLES:
        _keep_keys_unique(session, plan, table)
    _keep_references(session, plan)
    return plan


def _label(row: RecordedRow, current: dict | None) -> str:
    state = current or row.before or row.after or {}
    name = " ".join(n for n in (state.get("forename"), state.get("surname")) if n)
    if row.table == "borrowers":
        head = f"borrower {state['barcode']}" if state.get("barcode") else f"borrower #{row.row_id}"
    else:
        head = f"Intake entry {row.row_id}"
    return f"{head} ({name})" if name else head


def _undo_creation(plan: UndoPlan, row: RecordedRow, current: dict | None, force: bool) -> None:
    if current is None:
        plan.leave(row, ROW, "it no longer exists")
        return
    changed = sorted(set(changed_columns(row.table, row.after, current)) - DERIVED)
    if changed and not force:
        plan.leave(row, ROW, f"changed since the run ({', '.join(changed)})")
    else:
        plan.deletes[row.table][row.row_id] = current


def _undo_update(plan: UndoPlan, row: RecordedRow, current: dict, force: bool) -> None:
    changed = set(changed_columns(row.table, row.after, current)) - DERIVED
    values = {}
    for column, old in row.before.items():
        if column in changed and not force:
            plan.leave(row, column, "changed since the run", run_left=row.after[column])
        elif changed_columns(row.table, {column: old}, current):
            values[column] = old
    if values:
        plan.updates[row.table][row.row_id] = values


def _final(plan: UndoPlan, table: str, row_id: int, column: str) -> object:
    for source in (plan.updates, plan.inserts):
        if column in source[table].get(row_id, {}):
            return source[table][row_id][column]
    return plan.current[table].get(row_id, {}).get(column)


def _key(table: str, get) -> tuple | None:
    """A row's MIS key (a borrower's link, an Intake entry's person) as the
    unique index compares it, from ``get(column)``; None if it has none."""
    type_column, id_column = _KEYS[table]
    mis_id = get(id_column)
    return None if mis_id is None else (get(type_column), unique_key(mis_id))


def _keep_keys_unique(session: Session, plan: UndoPlan, table: str) -> None:
    """An MIS link, or an Intake entry's MIS person, that goes back must be
    no other row's once the undo is done: the database holds each once.
    Where two would clash, both stay as they are."""
    current = plan.current[table]

    def final(row_id: int) -> tuple | None:
        return _key(table, lambda column: _final(plan, table, row_id, column))

    differing = {i for i in plan.updates[table] if final(i) != _key(table, current[i].get)}
    moving = {i for i in differing | set(plan.inserts[table]) if final(i) is not None}
    if not moving:
        return
    columns = TABLES[table].c
    staying = {}
    for row in session.execute(select(*(columns[c] for c in ("id", *_KEYS[table], *_NAMED[table])))
                               .where(columns[_KEYS[table][1]].is_not(None))):
        if row.id not in differing and row.id not in plan.deletes[table]:
            staying[row.id] = _key(table, row._mapping.get)
            plan.labels.setdefault((table, row.id), _label(RecordedRow(table, row.id, None, None), row._mapping))
    while True:
        holders = defaultdict(set)
        for row_id, key in [*staying.items(), *((i, final(i)) for i in moving)]:
            holders[key].add(row_id)
        clashing = [i for i in moving if len(holders[final(i)]) > 1]
        if not clashing:
            return
        for row_id in clashing:
            other = plan.label(table, min(holders[final(row_id)] - {row_id}))
            if table == "borrowers" and row_id not in plan.inserts[table]:
                plan.drop(table, row_id, f"its MIS link is now {other}'s", LINK_COLUMNS)
            else:
                plan.drop(table, row_id, f"{other} is this person's now" if table == "intake" else
                          f"its MIS link is now {other}'s")
            moving.discard(row_id)
            if row_id in current and _key(table, current[row_id].get):
                staying[row_id] = _key(table, current[row_id].get)


def _keep_barcodes_unique(session: Session, plan: UndoPlan) -> None:
    """A borrower added back must not carry a barcode another borrower has now."""
    if not plan.inserts["borrowers"]:
        return
    barcodes = {unique_key(b) for b in session.scalars(select(Borrower.barcode))}
    for row_id, state in list(plan.inserts["borrowers"].items()):
        if unique_key(state["barcode"]) in barcodes:
            plan.drop("borrowers", row_id, f"barcode {state['barcode']} is another borrower's now")


def _keep_references(session: Session, plan: UndoPlan) -> None:
    """A borrower removed has no loans and no Intake entry naming it; an
    Intake entry names only a borrower who exists once the undo is done."""
    doomed = plan.deletes["borrowers"]
    for chunk in chunks(doomed):
        for row_id, loans in session.execute(select(Loan.borrower_id, func.count()).where(
                Loan.borrower_id.in_(chunk)).group_by(Loan.borrower_id)):
            plan.drop("borrowers", row_id, f"it has {counted(loans, 'loan')}")
        for entry_id, row_id in session.execute(select(IntakeEntry.id, IntakeEntry.borrower_id).where(
                IntakeEntry.borrower_id.in_(chunk))):
            if row_id in doomed and entry_id not in plan.deletes["intake"] \
                    and _final(plan, "intake", entry_id, "borrower_id") == row_id:
                plan.drop("borrowers", row_id, f"Intake entry {entry_id} names it")
    named = {i: _final(plan, "intake", i, "borrower_id") for i in (*plan.updates["intake"], *plan.inserts["intake"])}
    wanted = {b for b in named.values() if b is not None}
    existing = {b for chunk in chunks(wanted)
                for b in session.scalars(select(Borrower.id).where(Borrower.id.in_(chunk)))}
    gone = (wanted - existing - set(plan.inserts["borrowers"])) | (wanted & set(plan.deletes["borrowers"]))
    for entry_id, borrower_id in named.items():
        if borrower_id in gone:
            plan.drop("intake", entry_id, f"the borrower it named (#{borrower_id}) no longer exists")


# --- putting it back --------------------------------------------------------------------

def write_undo(session: Session, plan: UndoPlan, events: EventLog, changes: RunChanges, now: datetime) -> None:
    """Write the plan: each change an event and a recorded change of the undo's run."""
    _delete(session, plan, "intake", events, changes)
    for table in TABLES:
        _let_go(session, plan, table)
    _insert(session, plan, "borrowers", events, changes, now)
    _update(session, plan, "borrowers", events, changes, now)
    _insert(session, plan, "intake", events, changes, now)
    _update(session, plan, "intake", events, changes, now)
    _delete(session, plan, "borrowers", events, changes)


def _let_go(session: Session, plan: UndoPlan, table: str) -> None:
    """Every MIS key that moves is let go first (a borrower's link cleared, an
    Intake entry's MIS id, which it must have, a placeholder), so that none
    clashes on the way when keys are handed round."""
    moving = [i for i, values in plan.updates[table].items() if set(_KEYS[table]) & set(values)]
    bulk_update(session, MODELS[table], [{"id": i, "mis_id": None if table == "borrowers" else f"undoing:{i}"}
                                         for i in moving])


def _update(session: Session, plan: UndoPlan, table: str, events: EventLog, changes: RunChanges,
            now: datetime) -> None:
    rows, removals = [], defaultdict(list)
    for row_id, values in plan.updates[table].items():
        restored, attachments = restored_values(table, values)
        for key in attachments:
            removals[key].append(row_id)
        rows.append({"id": row_id, "updated_at": now, **restored})
        state = plan.current[table][row_id]
        for column in [c for c in values if c not in DERIVED]:
            events.add("undone", **{_EVENT_TARGET[table]: row_id}, field=column,
                       old=shown_value(column, state.get(column)), new=shown_value(column, restored[column]))
    changes.written(table, rows, plan.current[table])
    for key, ids in removals.items():
        remove_attachments(session, [key], ids)
    bulk_update(session, MODELS[table], rows)


def _insert(session: Session, plan: UndoPlan, table: str, events: EventLog, changes: RunChanges,
            now: datetime) -> None:
    columns = TABLES[table].c
    rows = [{**{c: decode_value(TABLES[table], c, v) for c, v in state.items() if c in columns}, "updated_at": now}
            for state in plan.inserts[table].values()]
    if not rows:
        return
    session.execute(insert(TABLES[table]), rows)
    changes.created(table, rows)
    for row in rows:
        events.add("undone", **{_EVENT_TARGET[table]: row["id"]}, field=ROW, old="removed by the run",
                   new="added back")


def _delete(session: Session, plan: UndoPlan, table: str, events: EventLog, changes: RunChanges) -> None:
    doomed = plan.deletes[table]
    if not doomed:
        return
    changes.deleted(table, doomed)
    for row_id in doomed:
        # The row goes: the event names it in words only.
        events.add("undone", field=ROW, old=plan.label(table, row_id), new="removed")
    delete_rows(session, table, list(doomed))
