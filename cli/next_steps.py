"""A refusal's next step spelled as the command to run.

The engine's refusal says in words what to do ("unreject it first") and names
that step (``NextStep``) and what it is about (the Intake id or barcode); the
command line adds the command exactly as it is typed. Each entry goes after
the message, so it carries its own joining word.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.api import Refusal

_SPELLED = {
    "unreject": ": `mislink intake unreject {subject}`",
    "transfer": ": `mislink intake transfer {subject}`",
    "undo decision": ": `mislink intake decisions` lists the decisions with the ids `mislink intake undo ID` takes",
    "confirm new": ": `mislink intake new ID`",
    "unlink": ": `mislink borrowers unlink {subject}`",
    "list recycled": "; `mislink recycle-bin list` shows who is",
    "release": "; `mislink borrowers release {subject}` ends the hold",
    "list intake": "; `mislink intake list --status all` lists every entry",
    "list decisions": "; `mislink intake decisions` lists the latest",
    "list runs": "; `mislink runs list` lists the latest",
    "show run": "; `mislink runs show {subject}` shows what it changed",
    "force undo run": ": `mislink runs undo {subject} --force`",
    # In brackets: the message may end in "did you mean …?".
    "search borrowers": " (`mislink intake search NAME` finds borrowers by name or barcode)",
}


def spelled(refusal: Refusal) -> str:
    """The refusal's message, with its next step as the command to run."""
    from engine.api import LibraryMissing

    if isinstance(refusal, LibraryMissing):  # "…; run a sync first", which creates the library
        return f"{refusal}: `mislink --sync`"
    step = refusal.next_step
    return str(refusal) + (_SPELLED[step].format(subject=refusal.subject) if step else "")
