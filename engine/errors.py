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


class Refusal(Exception):
    """The command cannot be carried out as asked; nothing was written; the
    message says why and what to do."""
