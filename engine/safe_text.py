"""Text on its way to the run log, stderr or a printed report: one line, no
control characters, and bounded where it comes from outside.

Values from the export, the config file or a database driver can hold line
breaks (which would forge log lines), terminal escapes, or a page of someone's
data. Each line mislink writes for people goes through ``one_line``; a message
that quotes outside text whole (an Xporter error envelope, say) is also cut to
``QUOTED_LIMIT`` characters.
"""
from __future__ import annotations

import re
import traceback

from engine.text import fit_text

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the
# bidirectional overrides that can make a line read differently from its bytes.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Enough of a quoted error to recognise it, not enough to copy a record.
QUOTED_LIMIT = 300


def _escape(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def one_line(value: object, limit: int | None = None) -> str:
    """``value`` as text on a single line, every control character written as
    an escape (``\\n``, ``\\x1b``…), and at most ``limit`` characters (the cut
    marked with "…")."""
    text = _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))
    return text if limit is None else fit_text(text, limit)


def stack_only(exc: BaseException) -> str:
    """Where an unexpected error happened, for whoever debugs it: the stack and
    the exception's kind, never its message (which may quote a pupil's data)."""
    return "".join(traceback.format_tb(exc.__traceback__)) + f"{type(exc).__name__} (message withheld)"
