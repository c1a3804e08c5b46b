"""``mislink intake …``: the Intake queue on the command line.

    mislink intake list [--status S] [--reason R] [--year Y] [--name TEXT]
    mislink intake show ID
    mislink intake match ID BARCODE [--force]
    mislink intake new ID
    mislink intake transfer ID… | --all-new  [--force]
    mislink intake reject ID / unreject ID
    mislink intake decisions [--limit N]
    mislink intake undo [DECISION_ID]
    mislink intake search TEXT

Each is one call into ``engine.intake`` in one transaction; a decision is
printed only once its commit has returned. ``--json`` (before or after the
action) prints one JSON object. A refusal prints its reason on stderr (and,
with ``--json``, as a JSON error) and exits 1; nothing is written. These are
commands a person runs to look at records, so they show names.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Callable

from cli.common import ExitCode, Failure, counted, emit, emit_json, fail, in_library, one_of, whole

if TYPE_CHECKING:
    from engine.api import Config


def add_intake_commands(subparsers, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``intake`` and its actions to the top-level parser's subcommands.
    ``add(group, name, help=…)`` makes a subcommand that also takes the shared
    options (``--config``, ``--json``) after its name."""
    intake = add(subparsers, "intake", help="the Intake queue: records waiting for a decision")
    actions = intake.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return add(actions, name, help=help_text)

    lister = action("list", "the waiting records, oldest first, with their best suggestion's score")
    lister.add_argument("--status", type=_status, help="pending and new (the default), rejected, matched, "
                                                      "transferred, withdrawn, or all")
    lister.add_argument("--reason", type=_reason, help="only this reason (no_match, possible_twin, …)")
    lister.add_argument("--year", type=_year, help="only this year group (7, or Year 7; R for Reception)")
    lister.add_argument("--name", help="only names containing this")
    action("show", "a record and its ranked suggestions, with why").add_argument("id", type=whole)
    matcher = action("match", "this record is that existing borrower: link them and update the borrower")
    matcher.add_argument("id", type=whole)
    matcher.add_argument("barcode")
    _force(matcher, "match even a borrower that looks like a different person (a twin, say)")
    action("new", "this record is not yet a borrower (transfer creates them)").add_argument("id", type=whole)
    transfer = action("transfer", "create borrowers for these records, barcodes by the configured scheme")
    transfer.add_argument("ids", type=whole, nargs="*", metavar="ID")
    transfer.add_argument("--all-new", action="store_true", help="every record confirmed as new")
    _force(transfer, "transfer even a record that looks like an existing borrower")
    action("reject", "this person is not to be imported; later syncs skip them").add_argument("id", type=whole)
    action("unreject", "undo a rejection: the record waits in Intake again").add_argument("id", type=whole)
    decisions = action("decisions", "the latest Intake decisions, newest first, with the ids undo takes")
    decisions.add_argument("--limit", type=whole, help="how many (the latest 20)")
    action("undo", "revert an Intake decision: the last one, or the one with this id").add_argument(
        "decision_id", type=whole, nargs="?", metavar="DECISION_ID")
    action("search", "find borrowers by name or barcode").add_argument("text", nargs="+")


# The option values are checked against the engine's own names, loaded only
# when the option is given, so that --help loads no engine.

def _status(value: str) -> str:
    from engine.api import ALL_INTAKE, IntakeStatus

    return one_of(value, [*IntakeStatus, ALL_INTAKE], "an Intake status")


def _reason(value: str) -> str:
    from engine.api import IntakeReason

    return one_of(value, IntakeReason, "an Intake reason")


def _year(value: str) -> str:
    from engine.api import year_number

    if year_number(value) is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a year group (7, Year 7, or R for Reception)")
    return value


def _force(parser: argparse.ArgumentParser, help_text: str) -> None:
    # SUPPRESS: the top-level --force (for --sync) already gives the default.
    parser.add_argument("--force", action="store_true", default=argparse.SUPPRESS, help=help_text)


# Actions that only read; every other action writes, and so holds the library lock.
READING = {"list", "show", "search", "decisions"}


def run_intake(config: Config, args: argparse.Namespace) -> int:
    from engine import api

    def work(session):
        return _run(api, session, config, args)

    as_json = getattr(args, "json", False)
    try:
        data, text = in_library(config, work, write=args.action not in READING)
    except Failure as failure:
        return fail(failure, as_json=as_json)
    if as_json:
        emit_json(data)
    else:
        emit(text)
    return ExitCode.OK


def _run(api, session, config: Config, args: argparse.Namespace) -> tuple[dict, str]:
    """One action: its JSON form and its text for people. ``api`` is
    ``engine.api``, imported only when an intake command runs."""
    if args.action == "list":
        return _list(api.list_entries(session, status=args.status, reason=args.reason, year=args.year,
                                      name=args.name))
    if args.action == "show":
        return _show(api.show_entry(session, args.id))
    if args.action == "search":
        return _search(api.search_borrowers(session, " ".join(args.text)))
    if args.action == "decisions":
        return _decisions(api.recent_decisions(session, args.limit or api.DECISIONS_SHOWN))
    if args.action == "transfer" and args.ids and args.all_new:
        raise api.IntakeError("give Intake ids or `--all-new`, not both")
    if args.action == "transfer" and not (args.ids or args.all_new):
        raise api.IntakeError("name the Intake entries to transfer (`mislink intake transfer ID…`), or transfer "
                              "every one confirmed as new with `mislink intake transfer --all-new`")
    actor = api.current_user()
    if args.action == "undo":
        decision = (api.undo_last(session, actor=actor) if args.decision_id is None
                    else api.undo_decision_by_id(session, args.decision_id, actor=actor))
    else:
        ids = args.ids if args.action == "transfer" else [args.id]
        try:
            decision = api.make_decision(session, config, args.action, ids, actor=actor,
                                         barcode=getattr(args, "barcode", None), force=getattr(args, "force", False),
                                         all_new=getattr(args, "all_new", False))
        except api.NeedsForce as exc:
            raise api.NeedsForce(f"{exc}: `{_forced(args)}`") from None
    return dataclasses.asdict(decision), decision.summary[0].upper() + decision.summary[1:] + "."


def _forced(args: argparse.Namespace) -> str:
    """The command just refused, with ``--force``."""
    if args.action == "match":
        return f"mislink intake match {args.id} {args.barcode} --force"
    return f"mislink intake transfer {' '.join(map(str, args.ids)) if args.ids else '--all-new'} --force"


def _list(items) -> tuple[dict, str]:
    lines = [f"{'ID':>6}  {'STATUS':<11} {'SCORE':>5}  {'YEAR':<8} {'NAME':<28} {'BORN':<10}  REASON"]
    lines += [f"{i.id:>6}  {i.status:<11} {'-' if i.best_score is None else i.best_score:>5}  "
              f"{i.year_group or '':<8} {i.name[:28]:<28} {str(i.date_of_birth or ''):<10}  {i.reason}"
              + (f"  starts {i.start_date}" if i.start_date else "") for i in items]
    lines.append(counted(len(items), "Intake record"))
    return {"entries": [dataclasses.asdict(i) for i in items]}, "\n".join(lines)


def _show(detail) -> tuple[dict, str]:
    item, person, suggestions = detail.item, detail.person, detail.suggestions
    legal = " ".join(n for n in (person.legal_forename, person.legal_surname) if n)
    facts = [f"born {person.date_of_birth}" if person.date_of_birth else "no date of birth", person.gender,
             person.year_group, person.tutor_group, f"UPN {person.upn}" if person.upn else None,
             f"admission no {person.admission_no}" if person.admission_no else None, person.postcode]
    lines = [f"Intake {item.id}: {item.status}, {item.reason_detail or item.reason}",
             f"  {person.person_type} {person.mis_id}: {item.name}"
             + (f" (legal name {legal})" if legal and legal != item.name else "") + ", "
             + ", ".join(f for f in facts if f)]
    if item.borrower_barcode:
        lines.append(f"  decided: borrower {item.borrower_barcode}")
    lines.append("Suggestions:" if suggestions.ranked else "No existing borrower looks like this person.")
    for rank, suggestion in enumerate(suggestions.ranked, start=1):
        lines += _suggestion_lines(f"{rank}.", suggestion)
    for suggestion in suggestions.linked_elsewhere:
        lines += _suggestion_lines("!", suggestion)
    data = {"entry": dataclasses.asdict(item), "person": _person_json(person),
            "suggestions": [_suggestion_json(s) for s in suggestions.ranked],
            "linked_elsewhere": [_suggestion_json(s) for s in suggestions.linked_elsewhere]}
    return data, "\n".join(lines)


def _suggestion_lines(marker: str, suggestion) -> list[str]:
    from engine.api import BorrowerStatus

    flags = [] if suggestion.status == BorrowerStatus.ACTIVE else [suggestion.status]
    if suggestion.linked_to:
        flags.append(f"linked to {suggestion.linked_to}: not offered")
    elif suggestion.absent_link:
        flags.append(f"linked to MIS {suggestion.absent_link}, who is no longer in the MIS export; matching moves "
                     "the link")
    elif suggestion.probable_duplicate:
        flags.append("probable duplicate")
    head = f"  {marker:<3} {suggestion.barcode}  {suggestion.name}  score {suggestion.score}" + \
        (f"  ({'; '.join(flags)})" if flags else "")
    return [head] + [f"        {e.field:<14} {e.verdict:<9} {e.weight:+6.1f}  {e.detail}"
                     for e in suggestion.evidence if e.verdict != "missing"]


def _suggestion_json(suggestion) -> dict:
    return {**dataclasses.asdict(suggestion), "probable_duplicate": suggestion.probable_duplicate,
            "evidence": [e._asdict() for e in suggestion.evidence]}


def _person_json(person) -> dict:
    from engine.api import person_to_record

    record = person_to_record(person)
    if record.get("photo"):
        record["photo"] = {"content_type": record["photo"]["content_type"], "digest": record["photo"]["digest"]}
    return record


def _decisions(lines) -> tuple[dict, str]:
    text = [f"{'ID':>6}  {'WHEN':<16}  {'WHO':<12} {'ACTION':<9} SUMMARY"]
    text += [f"{d.id:>6}  {d.at:%Y-%m-%d %H:%M}  {d.actor[:12]:<12} {d.action:<9} {d.summary}"
             + (f"  (undone {d.undone_at:%Y-%m-%d %H:%M} by {d.undone_by})" if d.undone_at else "") for d in lines]
    text.append(f"{len(lines)} decision{'s' if len(lines) != 1 else ''}; undo one with `mislink intake undo ID`")
    return {"decisions": [dataclasses.asdict(d) for d in lines]}, "\n".join(text)


def _search(hits) -> tuple[dict, str]:
    lines = [f"  {h.barcode:<12} {h.name:<30} {str(h.date_of_birth or ''):<10}  {h.year_group or '':<8} "
             f"{h.tutor_group or '':<8} {h.status}" + (f"  linked to {h.linked_to}" if h.linked_to else "")
             for h in hits]
    lines.append(f"{len(hits)} borrower{'s' if len(hits) != 1 else ''} found")
    return {"borrowers": [dataclasses.asdict(h) for h in hits]}, "\n".join(lines)
