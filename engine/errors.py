"""What the engine raises when an operation is not carried out.

``Refusal``: the command cannot be carried out as asked, and nothing was
written; the message says why and what to do, in words a librarian can act
on, so a caller shows it as it is and catches this one class. Every refusal
the engine raises derives from it (``IntakeError``, ``LibraryBusy``,
``ConfigError``, …), keeping its own name so a caller that needs to (the
command line's exit code for a busy library) can still tell them apart.

A failure is different: the library database did not save what it was asked
to (``engine.session.CommitFailed``), or something unexpected went wrong. It
is not a ``Refusal``; its message is the database's, not advice.
"""
from __future__ import annotations

from enum import StrEnum


class Refusal(Exception):
    """The command cannot be carried out as asked; nothing was written; the
    message says why and what to do. ``next_step`` names that next step
    (a ``NextStep``), and ``subject`` what it is about, for a caller that
    spells it as its own command."""

    next_step: NextStep | None = None
    subject: str | int | None = None

    def __init__(self, message: str = "", *, next_step: NextStep | None = None,
                 subject: str | int | None = None):
        super().__init__(message)
        self.next_step, self.subject = next_step, subject


class NextStep(StrEnum):
    """What a person can do next about a refusal, named so that each caller
    spells it its own way (the command line as the command to run). The
    refusal's message already says it in words; ``Refusal.subject`` is the
    Intake id, barcode or run it is about.

    Every refusal names one, so that nobody is left without a command to
    run; tests/test_next_steps.py finds every refusal made without one. The
    exceptions, each listed there with why: where no mislink command helps,
    the message itself says what to do instead, naming the file, setting or
    record outside mislink to edit (a configuration file, an import file, a
    Koha patron), or saying to run the same command again later (a busy
    library); a few messages spell their command themselves; and some
    refusals never reach a person as they are (a caller's mistake, or one
    caught and raised again with a next step)."""
    # The Intake entry is rejected: unreject it first.
    UNREJECT = "unreject"
    # The Intake entry is confirmed new: a transfer makes the borrower.
    TRANSFER = "transfer"
    # The Intake entry was decided: undo that decision first.
    UNDO_DECISION = "undo decision"
    # No Intake entry is confirmed new: confirm one first.
    CONFIRM_NEW = "confirm new"
    # The borrower is linked to an MIS person: unlink them if that link is wrong.
    UNLINK = "unlink"
    # The borrower is not in the recycle bin, or not held: see who is.
    LIST_RECYCLED = "list recycled"
    # The borrower is held already: releasing the hold ends it.
    RELEASE = "release"
    # No such Intake entry, decision or run, or none that can be undone: list them.
    LIST_INTAKE = "list intake"
    LIST_DECISIONS = "list decisions"
    LIST_RUNS = "list runs"
    # The run was undone by another (the subject): see what that one changed.
    SHOW_RUN = "show run"
    # What the run changed was changed again since: forcing puts it back all the same.
    FORCE_UNDO_RUN = "force undo run"
    # No such borrower, or not the one meant: find them by name or barcode.
    SEARCH_BORROWERS = "search borrowers"
