"""Who is making a change, for the audit trail.

One answer for the command line, the terminal UI and the engine: the account
logged in on the machine, since librarians and technicians reach the Xporter
machine under their own logins. Kept apart from the database code so that any
front end can ask cheaply.
"""
from __future__ import annotations

import getpass

# The width of every ``actor`` / ``decided_by`` / ``undone_by`` column.
ACTOR_WIDTH = 64


def current_user() -> str:
    """The OS login, cut to fit the audit columns; "unknown" when the system
    cannot say (no login name in the environment or the password database)."""
    try:
        return getpass.getuser()[:ACTOR_WIDTH]
    except (KeyError, OSError):
        return "unknown"
