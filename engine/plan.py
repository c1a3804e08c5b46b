"""Planning a sync: what would change in the library, without changing it.

``plan_sync(export, snapshot, config)`` is pure: it reads the parsed export and
a snapshot of the library and returns a ``SyncPlan``. ``--dry-run`` prints the
plan; ``apply_plan`` carries it out in one transaction. Applying a plan and then
planning again against the same export gives an empty plan.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Callable, NamedTuple

from engine.config import Config, DataSettings
from engine.export import Export, Rejection
from engine.leaver_groups import no_group_label
from engine.matching import (LINK_COLUMNS, NOT_IN_EXPORT, REASON_TEXT, IntakeReason, LibraryIndex, Match, Tier,
                             Unmatched, linked_key, match_people)
from engine.optional_data import OPTIONAL_FIELDS, record_key_on, shown, switched_off
from engine.person import Person, PersonKey, PersonType, Presence, person_to_record
from engine.rekey import (MisChange, NotRelinked, detect_mis_change, link_moves, rekey_entries, why_not_relinked,
                          without_links)
from engine.rollover import EXPECTED, Departure, Departures
from engine.statuses import OPEN_INTAKE, IntakeStatus
from engine.suggest import auto_accept
from engine.text import MAX_LENGTHS, fit_text, json_object, unique_key

SEEN_KEYS = {PersonType.STUDENT: "students_seen", PersonType.STAFF: "staff_seen"}


class Change(NamedTuple):
    """One field's change. A NamedTuple: a large sync makes hundreds of thousands."""
    field: str
    old: object
    new: object
    # A purge: the old value must not be copied into the audit trail.
    hidden: bool = False


@dataclass
class BorrowerUpdate:
    borrower_id: int
    barcode: str
    changes: list[Change]
    person: Person | None = None
    tier: Tier | None = None
    restore: bool = False


@dataclass
class Recycle:
    borrower_id: int
    barcode: str
    label: str
    reason: str
    old_group: str | None
    new_group: str
    loans_out: int
    changes: list[Change] = field(default_factory=list)
    # Whether anyone expected this departure (engine.rollover): the recycle
    # guard counts only the unexpected ones.
    departure: Departure = Departure.UNEXPECTED
    # The day they left: the MIS's leaving date, else the sync's day (a Koha
    # library ends their membership then).
    left_on: date | None = None


@dataclass
class IntakeAdd:
    person: Person
    reason: IntakeReason
    detail: str


@dataclass
class IntakeRefresh:
    entry_id: int
    person: Person | None
    reason: IntakeReason | None
    detail: str
    changes: list[Change]
    reopen: bool = False
    record: dict | None = None
    # Entry columns emptied as a purge (their old values never recorded).
    blank: tuple[str, ...] = ()


@dataclass
class IntakeClose:
    entry_id: int
    status: IntakeStatus  # matched or withdrawn
    borrower_id: int | None
    label: str


@dataclass
class Snapshot:
    """What the planner needs to know of the library."""
    borrowers: list[dict]
    intake: dict[PersonKey, dict]
    loans_out: dict[int, int]
    # From earlier successful syncs: the school's establishment number, and how
    # many people of each type a full export held.
    last_estab: str | None = None
    last_seen: dict[PersonType, int] = field(default_factory=dict)
    # Stored values the engine could not use, each left alone by this run.
    warnings: list[str] = field(default_factory=list)
    # The MIS the last successful sync that said so was from (engine.rekey).
    last_mis_name: str | None = None


@dataclass
class SyncPlan:
    estab: str | None
    today: date
    updates: list[BorrowerUpdate] = field(default_factory=list)
    recycles: list[Recycle] = field(default_factory=list)
    intake_adds: list[IntakeAdd] = field(default_factory=list)
    intake_refreshes: list[IntakeRefresh] = field(default_factory=list)
    intake_closes: list[IntakeClose] = field(default_factory=list)
    matched: Counter = field(default_factory=Counter)
    # Borrowers an incoming person matched, whether or not anything changed.
    matched_ids: set[int] = field(default_factory=set)
    skipped_rejected: int = 0
    purged: Counter = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seen: Counter = field(default_factory=Counter)
    # Per person type: does absence from the export mean leaving (a full export)?
    complete: dict[PersonType, bool] = field(default_factory=dict)
    active_borrowers: int = 0
    # Barcodes of held borrowers the MIS has leaving: a person restored them
    # with a hold, so they stay out of the recycle bin (never a recycle, so
    # never counted by the guards).
    held_back: list[str] = field(default_factory=list)
    # The MIS the export is from, and a change of MIS it shows (engine.rekey).
    mis_name: str | None = None
    mis_change: MisChange | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.updates or self.recycles or self.intake_adds or self.intake_refreshes or self.intake_closes)

    def counts(self) -> dict:
        restored = sum(1 for u in self.updates if u.restore)
        return {
            **{key: self.seen[person_type] for person_type, key in SEEN_KEYS.items()},
            "full_exports": {person_type.value: full for person_type, full in self.complete.items()},
            "matched_by_link": self.matched[Tier.LINK],
            "matched_by_upn": self.matched[Tier.UPN],
            "matched_by_name_dob": self.matched[Tier.NAME_DOB],
            "matched_by_fuzzy": self.matched[Tier.FUZZY],
            "matched_by_rekey": self.matched[Tier.REKEY],
            "updated": sum(1 for u in self.updates if u.changes),
            "unchanged": len(self.matched_ids - {u.borrower_id for u in self.updates}
                             - {r.borrower_id for r in self.recycles}),
            "intake_added": len(self.intake_adds),
            "intake_refreshed": len(self.intake_refreshes),
            "intake_closed": len(self.intake_closes),
            "recycled": len(self.recycles),
            "leavers_expected": sum(1 for r in self.recycles if r.departure in EXPECTED),
            "leavers_unexpected": sum(1 for r in self.recycles if r.departure is Departure.UNEXPECTED),
            "restored": restored,
            "held_not_recycled": len(self.held_back),
            "leavers_with_loans": sum(1 for r in self.recycles if r.loans_out),
            "skipped_rejected": self.skipped_rejected,
            "fields_purged": dict(self.purged),
            "rejected": len(self.rejections),
        }


def plan_sync(export: Export, snapshot: Snapshot, config: Config, today: date | None = None) -> SyncPlan:
    today = today or date.today()
    data = config.data
    plan = SyncPlan(estab=export.estab, today=today, rejections=list(export.rejections),
                    warnings=[*export.warnings, *snapshot.warnings], seen=export.seen,
                    complete=dict(export.complete))
    plan.active_borrowers = sum(1 for b in snapshot.borrowers if b["status"] == "active")
    export = _without_id_clashes(plan, export, snapshot)
    index = LibraryIndex(snapshot.borrowers)
    snapshot, stale = _rekeyed(plan, export, snapshot, index)
    if stale:
        index = LibraryIndex(snapshot.borrowers)
    rejected = {k for k, e in snapshot.intake.items() if e["status"] == IntakeStatus.REJECTED}
    left_out = _left_out_pre_admissions(plan, export, snapshot, data)
    people = [p for p in export.persons if p.key not in rejected and p.key not in left_out]
    plan.skipped_rejected = sum(1 for p in export.persons if p.key in rejected)

    def fuzzy(certain: dict[PersonKey, Match | Unmatched]) -> dict[PersonKey, Match]:
        accepted = auto_accept(people, certain, snapshot.borrowers, config.intake, today)
        return {key: Match(borrower_id, Tier.FUZZY) for key, borrower_id in accepted.items()}

    results, changes = _settled_matches(people, index, data, fuzzy if config.intake.auto_accept_score else None)
    for person in people:
        result = results[person.key]
        entry = snapshot.intake.get(person.key)
        if isinstance(result, Match):
            row = index.rows[result.borrower_id]
            plan.matched_ids.add(result.borrower_id)
            if row["id"] in stale:
                _plan_relink(plan, person, stale[row["id"]], result.tier, changes[person.key], snapshot, config)
            else:
                plan.matched[result.tier] += 1
                _plan_match(plan, person, row, result.tier, changes[person.key], snapshot, config)
            if entry and entry["status"] in OPEN_INTAKE:
                plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.MATCHED, row["id"], person.label))
        elif person.presence is Presence.LEFT:
            if entry and entry["status"] in OPEN_INTAKE:
                plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.WITHDRAWN, None, person.label))
        else:
            _plan_intake(plan, person, result, entry, data)
    _plan_absent_leavers(plan, export, index, snapshot, config)
    if plan.mis_change is not None:
        _plan_stale_links(plan, plan.mis_change, stale, index, people, snapshot, config)
        _plan_moved_entries(plan, plan.mis_change)
    _expect_departures(plan, index, snapshot, config)
    _note_held(plan)
    _plan_withdrawn_intake(plan, export, snapshot)
    _plan_purges(plan, snapshot, data, export.excluded)
    return plan


def _without_id_clashes(plan: SyncPlan, export: Export, snapshot: Snapshot) -> Export:
    """The export less anyone whose MIS id differs from one the library holds
    only as its unique indexes cannot tell (case, accents, trailing spaces:
    see ``unique_key``). MIS ids are case-sensitive, but no supported database
    can keep both, so the newcomer is rejected by name, and the person already
    stored counts as present: whether they left cannot be told."""
    stored = {key for key in snapshot.intake} | {
        (PersonType(b["mis_person_type"]), b["mis_id"]) for b in snapshot.borrowers if linked_key(b)}
    folded: dict[tuple, list[str]] = defaultdict(list)
    for person_type, mis_id in stored:
        folded[(person_type, unique_key(mis_id))].append(mis_id)
    kept, clashing = [], set()
    for person in export.persons:
        others = folded.get((person.person_type, unique_key(person.mis_id)), ())
        if others and person.key not in stored:
            plan.rejections.append(Rejection(
                export.files.get(person.person_type, ""), person.label, "Id",
                f"differs from MIS id {', '.join(sorted(others))} already in the library only in case, accents or "
                "trailing spaces, which the library cannot tell apart; this record is not used"))
            clashing.update((person.person_type, other) for other in others)
        else:
            kept.append(person)
    if not clashing:
        return export
    return dataclasses.replace(export, persons=kept, present=export.present | clashing)


def _settled_matches(people: list[Person], index: LibraryIndex, data: DataSettings, fuzzy=None, rounds: int = 3
                     ) -> tuple[dict[PersonKey, Match | Unmatched], dict[PersonKey, list[Change]]]:
    """Matches that still hold once this plan's own updates are made, with the
    changes each match makes. ``fuzzy``, when the school allows automatic
    fuzzy matches, adds them to the certain ones before settling.

    Linking and renaming borrowers changes what the next sync would see (a
    borrower now linked is no longer free; a renamed one may now look like a
    twin). Matching again against the library as this plan leaves it, until
    nothing moves, makes the plan a fixed point: the next sync finds nothing
    to do. An unchanged library needs only the one pass.
    """
    original = index.rows
    results = match_people(people, index)
    if fuzzy is not None:
        results.update(fuzzy(results))
    for _ in range(rounds):
        changes = _changes_of(people, results, original, data)
        if not any(changes.values()):
            return results, changes
        rows = dict(original)
        for key, changed in changes.items():
            if changed:
                borrower_id = results[key].borrower_id
                rows[borrower_id] = {**original[borrower_id], **{c.field: c.new for c in changed}}
        again = match_people(people, LibraryIndex(rows.values()))
        # Against the updated rows, a borrower this plan links is found by its
        # link: that is the same match, made by the tier that first found it.
        settled = {key: results[key] if _same_borrower(results[key], result) else result
                   for key, result in again.items()}
        if settled == results:
            return results, changes
        results = settled
    return results, _changes_of(people, results, original, data)


def _changes_of(people: list[Person], results: dict[PersonKey, Match | Unmatched], rows: dict[int, dict],
                data: DataSettings) -> dict[PersonKey, list[Change]]:
    return {p.key: match_changes(p, rows[results[p.key].borrower_id], data)
            for p in people if isinstance(results[p.key], Match)}


def _same_borrower(first: Match | Unmatched, second: Match | Unmatched) -> bool:
    return isinstance(first, Match) and isinstance(second, Match) and first.borrower_id == second.borrower_id


def desired_values(person: Person, data: DataSettings) -> dict[str, object]:
    """The borrower columns as the MIS says they should be. None means the MIS
    has no value, which never blanks a stored one."""
    forename = person.legal_forename if data.forename == "legal" else person.preferred_forename
    surname = person.legal_surname if data.surname == "legal" else person.preferred_surname
    values = {
        "borrower_type": person.person_type.value,
        "mis_person_type": person.person_type.value,
        "mis_id": person.mis_id,
        "idaas_id": person.idaas_id,
        "external_id": person.external_id,
        "upn": person.upn,
        "admission_no": person.admission_no,
        "forename": forename or person.preferred_forename,
        "surname": surname or person.preferred_surname,
        "preferred_forename": person.preferred_forename,
        "preferred_surname": person.preferred_surname,
        "legal_forename": person.legal_forename,
        "legal_surname": person.legal_surname,
        "middle_name": person.middle_name,
        "date_of_birth": person.date_of_birth,
        "gender": person.gender,
        "year_group": person.year_group,
        "tutor_group": person.tutor_group,
        "house": person.house,
        "leaving_date": person.leaving_date,
    }
    for column, read in _optional_columns(data):
        values[column] = read(person) if read else None
    return values


@lru_cache(maxsize=16)
def _optional_columns(data: DataSettings) -> tuple[tuple[str, Callable[[Person], object] | None], ...]:
    """Each optional column with how to read it, None where its data is
    switched off: worked out once per settings, not once per person."""
    return tuple((column, read if getattr(data, optional.setting) else None)
                 for optional in OPTIONAL_FIELDS for column, read in optional.columns.items())


def field_changes(row: dict, values: dict[str, object]) -> list[Change]:
    return [Change(name, row[name], new) for name, new in values.items()
            if new is not None and row[name] != new]


def _plan_match(plan: SyncPlan, person: Person, row: dict, tier: Tier, changes: list[Change], snapshot: Snapshot,
                config: Config) -> None:
    if person.presence is Presence.LEFT:
        if row["status"] == "active" and _held(plan, row):
            if changes:
                plan.updates.append(BorrowerUpdate(row["id"], row["barcode"], changes, person, tier))
        elif row["status"] == "active":
            plan.recycles.append(_recycle(row, "marked as a leaver in the MIS", person.leaving_date or plan.today,
                                          snapshot, config, changes, Departure.MARKED))
        return
    update = matched_update(person, row, tier, changes)
    if update.changes or update.restore:
        plan.updates.append(update)


def matched_update(person: Person, row: dict, tier: Tier | None, changes: list[Change]) -> BorrowerUpdate:
    """The update that linking an on-roll person to a borrower makes: the
    field changes, a recycled borrower restored with its old tutor group (none
    if it had none), and a hold ended: the MIS has them on roll again."""
    restore = row["status"] != "active"
    if restore and person.tutor_group is None and row["tutor_group"] != row["group_before_recycle"]:
        changes = [*changes, Change("tutor_group", row["tutor_group"], row["group_before_recycle"])]
    if person.presence is Presence.ON_ROLL and row.get("held_at") is not None:
        changes = [*changes, Change("held_at", row["held_at"], None), Change("held_by", row.get("held_by"), None)]
    return BorrowerUpdate(row["id"], row["barcode"], changes, person, tier, restore)


def match_changes(person: Person, row: dict, data: DataSettings) -> list[Change]:
    """What matching this person to this borrower changes: everything for
    someone on roll; for a leaver only the link, and nothing once recycled."""
    values = desired_values(person, data)
    if person.presence is Presence.LEFT:
        if row["status"] != "active":
            return []
        values = {k: values[k] for k in LINK_COLUMNS}
        return field_changes(row, values)
    changes = field_changes(row, values)
    if person.leaving_date is None and row.get("leaving_date") is not None:
        # The MIS has withdrawn the leaving date: their going is no longer expected.
        changes.append(Change("leaving_date", row["leaving_date"], None))
    return changes


def _recycle(row: dict, reason: str, when: date, snapshot: Snapshot, config: Config,
             changes: list[Change] | None = None, departure: Departure = Departure.UNEXPECTED) -> Recycle:
    old_group = row["tutor_group"]
    new_group = leaver_group(config.sync.leaver_group, when.year, old_group)
    name = " ".join(str(n) for n in (row["forename"], row["surname"]) if n)
    return Recycle(row["id"], row["barcode"], f"{row['barcode']} ({name})", reason, old_group, new_group,
                   snapshot.loans_out.get(row["id"], 0), changes or [], departure, when)


def leaver_group(template: str, year: int, group: str | None) -> str:
    """A leaver's tutor group, made to fit its column: the old group is kept
    whole in group_before_recycle, so a long one is shortened here (marked …)
    rather than the run failing on it. Someone with no group (staff, mostly)
    gets the template without its group clause: "Leaver 2026", never "Leaver
    2026 (Old Group none)"."""
    if not group:
        return fit_text(no_group_label(template, year), MAX_LENGTHS["group"])
    width = MAX_LENGTHS["group"]
    label = template.format(year=year, group=group)
    excess = len(label) - width
    if excess > 0 and len(group) > excess + 1:
        label = template.format(year=year, group=group[:len(group) - excess - 1] + "…")
    return fit_text(label, width)


def _held(plan: SyncPlan, row: dict) -> bool:
    """Is this active borrower held out of the recycle bin? Counted if so."""
    if row.get("held_at") is None:
        return False
    plan.held_back.append(row["barcode"])
    return True


def _note_held(plan: SyncPlan, shown: int = 10) -> None:
    """The report says who the MIS has leaving but a hold keeps, by barcode."""
    held = plan.held_back
    if held:
        barcodes = ", ".join(held[:shown]) + (f" and {len(held) - shown} more" if len(held) > shown else "")
        plan.warnings.append(
            f"{len(held)} held borrower{'s' if len(held) != 1 else ''} not recycled ({barcodes}): the MIS has them "
            "leaving, but a person restored them with a hold; 'mislink borrowers release BARCODE' ends a hold")


def _rekeyed(plan: SyncPlan, export: Export, snapshot: Snapshot,
             index: LibraryIndex) -> tuple[Snapshot, dict[int, dict]]:
    """The library as the rest of the plan sees it, and the stale borrowers as
    they are: after a change of MIS (engine.rekey), stale links mean nothing,
    so it matches as if they were gone, and each stale Intake entry is found
    under its person's new record. ``index`` is the library as it is."""
    plan.mis_name = export.mis_name
    plan.mis_change = detect_mis_change(export, export.persons, index, snapshot.last_mis_name)
    if plan.mis_change is None:
        return snapshot, {}
    stale = {b["id"]: b for b in snapshot.borrowers if b["id"] in plan.mis_change.stale}
    return dataclasses.replace(snapshot, borrowers=without_links(snapshot.borrowers, stale),
                               intake=rekey_entries(export, snapshot.intake, plan.mis_change)), stale


def _plan_relink(plan: SyncPlan, person: Person, row: dict, found_by: Tier, changes: list[Change],
                 snapshot: Snapshot, config: Config) -> None:
    """A borrower whose link a change of MIS left stale, matched to its
    person's new record: the link moves (each link column becomes exactly the
    new record's), and the borrower is updated as any match would update it."""
    plan.matched[Tier.REKEY] += 1
    plan.mis_change.relinked[(person.person_type, found_by)] += 1
    moves = [Change(*move) for move in link_moves(row, person)]
    if person.presence is Presence.LEFT and row["status"] != "active":
        plan.updates.append(BorrowerUpdate(row["id"], row["barcode"], moves, person, Tier.REKEY))
        return
    _plan_match(plan, person, row, Tier.REKEY, [c for c in changes if c.field not in LINK_COLUMNS] + moves,
                snapshot, config)


def _plan_stale_links(plan: SyncPlan, change: MisChange, stale: dict[int, dict], index: LibraryIndex,
                      people: list[Person], snapshot: Snapshot, config: Config) -> None:
    """Borrowers whose link a change of MIS left stale and whom no new record
    matched: the old link is cleared (its ids mean nothing in the new MIS, and
    may come back as somebody else's); an active one is recycled, unless held,
    and the report says why it was not re-linked."""
    for row in stale.values():
        if row["id"] in plan.matched_ids:
            continue
        clear = [Change(*move) for move in link_moves(row, None)]
        if row["status"] == "active":
            change.not_relinked.append(NotRelinked(row["barcode"], why_not_relinked(row, index, people)))
        if row["status"] == "active" and not _held(plan, row):
            plan.recycles.append(_recycle(row, NOT_IN_EXPORT, plan.today, snapshot, config, clear))
        else:
            plan.updates.append(BorrowerUpdate(row["id"], row["barcode"], clear))
    change.recycled = len(plan.recycles)


def _plan_moved_entries(plan: SyncPlan, change: MisChange) -> None:
    """Each Intake entry a change of MIS moves gets its new key, whatever else
    this plan does with it (a refresh that already moves it is enough). One
    still open that nothing closed is one moving to its old id, marked (its
    person is gone): withdrawn."""
    moving = {r.entry_id for r in plan.intake_refreshes if any(c.field == "mis_id" for c in r.changes)}
    closed = {c.entry_id for c in plan.intake_closes}
    for entry_id, (entry, person) in change.entry_moves.items():
        if entry_id in moving:
            continue
        reason = next((r for r in IntakeReason if r.value == entry["reason"]), IntakeReason.NO_MATCH)
        plan.intake_refreshes.append(IntakeRefresh(
            entry_id, person, reason, REASON_TEXT[reason], [Change("mis_id", entry["mis_id"], person.mis_id)],
            record=person_to_record(person)))
        if entry["status"] in OPEN_INTAKE and entry_id not in closed:
            plan.intake_closes.append(IntakeClose(entry_id, IntakeStatus.WITHDRAWN, None, person.label))


def _left_out_pre_admissions(plan: SyncPlan, export: Export, snapshot: Snapshot,
                             data: DataSettings) -> set[PersonKey]:
    """With ``data.pre_admissions`` off, the pre-admissions in the export: left
    out of the plan (still present, so nobody linked to them leaves), and any
    Intake entry of theirs still waiting is withdrawn."""
    if data.pre_admissions:
        return set()
    left_out = {p.key: p for p in export.persons if p.pre_admission}
    for key, person in left_out.items():
        entry = snapshot.intake.get(key)
        if entry and entry["status"] in OPEN_INTAKE:
            plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.WITHDRAWN, None, person.label))
    return set(left_out)


def _expect_departures(plan: SyncPlan, index: LibraryIndex, snapshot: Snapshot, config: Config) -> None:
    """Say of each departure not already known to be expected whether it was
    (engine.rollover): the recycle guard counts only the unexpected."""
    departures = Departures(index.rows.values(), snapshot.intake, config.sync, plan.today)
    for recycle in plan.recycles:
        if recycle.departure is Departure.UNEXPECTED:
            recycle.departure = departures.of(index.rows[recycle.borrower_id])


def _plan_absent_leavers(plan: SyncPlan, export: Export, index: LibraryIndex,
                         snapshot: Snapshot, config: Config) -> None:
    for row in index.rows.values():
        key = linked_key(row)
        if row["status"] != "active" or key is None or row["id"] in plan.matched_ids:
            continue
        person_type = PersonType(key[0])
        typed_key = (person_type, key[1])
        if typed_key in export.deleted:
            reason = "deleted in the MIS"
        elif export.complete.get(person_type) and typed_key not in export.present:
            reason = "no longer in the MIS export"
        else:
            continue
        if not _held(plan, row):
            plan.recycles.append(_recycle(row, reason, plan.today, snapshot, config))


def _plan_intake(plan: SyncPlan, person: Person, result: Unmatched, entry: dict | None, data: DataSettings) -> None:
    detail = f"{REASON_TEXT[result.reason]}; {result.detail}" if result.detail else REASON_TEXT[result.reason]
    if entry is None:
        plan.intake_adds.append(IntakeAdd(person, result.reason, detail))
        return
    record = person_to_record(person)
    reopen = entry["status"] not in OPEN_INTAKE
    if not reopen and entry["reason"] == result.reason.value and json.dumps(record, sort_keys=True) == entry["record"]:
        return  # the usual case on a nightly run: nothing new about this person
    stored = _stored_record(plan, entry)
    changes = [_record_change(k, stored.get(k), v, data) for k, v in record.items() if stored.get(k) != v]
    plan.purged.update(f"intake.{c.field}" for c in changes if c.hidden)
    if entry["reason"] != result.reason.value:
        changes.append(Change("reason", entry["reason"], result.reason.value))
    if changes or reopen:
        plan.intake_refreshes.append(IntakeRefresh(entry["id"], person, result.reason, detail, changes, reopen,
                                                   record))


def _stored_record(plan: SyncPlan, entry: dict) -> dict:
    """An Intake entry's stored record; one that cannot be read is reported
    and taken as empty, so that this run's refresh writes it afresh."""
    record = json_object(entry["record"])
    if record is not None:
        return record
    plan.warnings.append(f"Intake entry {entry['id']}: its stored record cannot be read; taken as empty")
    return {}


def _record_change(key: str, old: object, new: object, data: DataSettings) -> Change:
    """A change to an Intake record; a switched-off field is a purge, whose old
    value never reaches the audit trail."""
    if new is None and not record_key_on(key, data):
        return Change(key, None, None, hidden=True)
    return Change(key, shown(key, old), shown(key, new))


def _plan_withdrawn_intake(plan: SyncPlan, export: Export, snapshot: Snapshot) -> None:
    """Open Intake entries for people who are no longer in a full export."""
    for key, entry in snapshot.intake.items():
        person_type, _ = key
        if entry["status"] in OPEN_INTAKE and export.complete.get(person_type) and key not in export.present:
            plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.WITHDRAWN, None, f"{key[0]} {key[1]}"))
        elif entry["status"] in OPEN_INTAKE and key in export.deleted:
            plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.WITHDRAWN, None, f"{key[0]} {key[1]}"))


# What an excluded person's Intake record keeps: what identifies the entry;
# and the entry's own columns that go with the rest.
KEPT_WHEN_EXCLUDED = ("person_type", "mis_id", "preferred_forename", "preferred_surname", "presence")
BLANKED_WHEN_EXCLUDED = ("date_of_birth", "year_group", "tutor_group", "start_date")


def _plan_purges(plan: SyncPlan, snapshot: Snapshot, data: DataSettings, excluded: set[PersonKey]) -> None:
    """Data the school has switched off is removed from every borrower and
    every Intake record, and so is everything optional stored about anyone
    the school excluded (GDPR): their borrower row stays, their Intake entry
    is withdrawn and its record keeps only what identifies it. The audit trail says which
    field, never the value; the log says how many people, never who."""
    off = switched_off(data)
    off_columns = [c for optional in off for c in optional.columns]
    off_keys = [k for optional in off for k in optional.record_keys]
    every_column = [c for optional in OPTIONAL_FIELDS for c in optional.columns]
    updates = {u.borrower_id: u for u in plan.updates}
    scrubbed: set[PersonKey] = set()
    for row in snapshot.borrowers:
        key = linked_key(row)
        gone = key in excluded
        purges = [Change(c, None, None, hidden=True) for c in (every_column if gone else off_columns)
                  if row[c] is not None]
        if not purges:
            continue
        if gone:
            scrubbed.add(key)
        plan.purged.update(c.field for c in purges)
        if row["id"] in updates:
            updates[row["id"]].changes.extend(purges)
        else:
            plan.updates.append(BorrowerUpdate(row["id"], row["barcode"], purges))
    refreshed = {r.entry_id for r in plan.intake_refreshes}
    for key, entry in snapshot.intake.items():
        if key in excluded and entry["id"] not in refreshed:
            if _scrub_excluded_entry(plan, key, entry):
                scrubbed.add(key)
            continue
        if entry["id"] in refreshed or not off_keys:
            continue
        record = _stored_record(plan, entry)
        stale = [k for k in off_keys if record.get(k) is not None]
        if stale:
            plan.purged.update(f"intake.{k}" for k in stale)
            plan.intake_refreshes.append(IntakeRefresh(
                entry["id"], None, None, "", [Change(k, None, None, hidden=True) for k in stale],
                record={**record, **{k: None for k in stale}}))
    if scrubbed:
        count = len(scrubbed)
        plan.warnings.append(f"{count} {'person' if count == 1 else 'people'} excluded by the school (GDPR): their "
                             "stored details removed")


def _scrub_excluded_entry(plan: SyncPlan, key: PersonKey, entry: dict) -> bool:
    """Withdraw an excluded person's open Intake entry and empty its record of
    all but its name and id; whether anything was removed."""
    closed = {c.entry_id for c in plan.intake_closes}
    label = f"{key[0]} {key[1]}"
    if entry["status"] in OPEN_INTAKE and entry["id"] not in closed:
        plan.intake_closes.append(IntakeClose(entry["id"], IntakeStatus.WITHDRAWN, None, label))
    record = _stored_record(plan, entry)
    stale = [k for k, v in record.items() if k not in KEPT_WHEN_EXCLUDED and v is not None]
    if not stale:
        return False
    plan.purged.update(f"intake.{k}" for k in stale)
    record = {**dict.fromkeys(record), **{k: v for k, v in record.items() if k in KEPT_WHEN_EXCLUDED}}
    plan.intake_refreshes.append(IntakeRefresh(
        entry["id"], None, None, "", [Change(k, None, None, hidden=True) for k in stale], record=record,
        blank=BLANKED_WHEN_EXCLUDED))
    return True
