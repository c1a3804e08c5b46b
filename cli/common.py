"""What ``cli.main`` and ``cli.intake`` share: exit codes, how a command ends
(``Failure``), the report on stdout and diagnostics on stderr, and running work
in the library. Both import this module and neither imports the other's
internals, so the command line has no import cycle. The engine is reached
through ``engine.api`` only, imported when a command needs it, so that
``--help`` and a usage error load none of it.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:
    from engine.api import Config


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    GUARD = 3
    LOCKED = 4


class Failure(Exception):
    """The command ends with an error: its exit code and what to say."""

    def __init__(self, code: ExitCode, message: str):
        super().__init__(message)
        self.code = code


# Set once a writer's commit has returned: from then on the command is done.
saved: ContextVar[bool] = ContextVar("saved", default=False)


def emit(text: str) -> None:
    """Print the report on stdout. A reader that has gone away (``| head``)
    ends the output quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        silence(sys.stdout)


def emit_json(data: object) -> None:
    emit(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def complain(message: str) -> None:
    """One line on stderr, control characters escaped."""
    from engine.api import one_line

    try:
        print(f"mislink: {one_line(message)}", file=sys.stderr, flush=True)
    except BrokenPipeError:
        silence(sys.stderr)


def silence(stream) -> None:
    """Python's recipe for a closed pipe: point the stream at /dev/null, so
    that nothing more written to it (not even the flush at exit) fails."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def fail(failure: Failure, *, as_json: bool) -> ExitCode:
    """Say why the command failed (and, with ``--json``, as JSON on stdout too);
    its exit code."""
    from engine.api import one_line

    complain(str(failure))
    if as_json:
        emit_json({"error": one_line(failure), "exit_code": int(failure.code)})
    return failure.code


def whole(value: str) -> int:
    """An argparse type: a whole number written in 0-9. ``int`` would also take
    "３" or "٣", which no librarian means as an Intake id."""
    from engine.api import whole_number

    number = whole_number(value)
    if number is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number (0-9)")
    return number


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """"1 borrower", "2 borrowers", "1,024 borrowers"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def listed(words: Iterable[str], last: str = "or") -> str:
    """"a, b or c"."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely misspells, if any is close."""
    found = difflib.get_close_matches(word.casefold(), [str(c) for c in choices], n=1, cutoff=0.6)
    return found[0] if found else None


def one_of(value: str, choices: Iterable[str], what: str) -> str:
    """``value`` if it is one of ``choices``; otherwise an argparse error that
    lists them, with the one most likely meant."""
    choices = [str(c) for c in choices]
    if value in choices:
        return value
    near = closest(value, choices)
    raise argparse.ArgumentTypeError(f"{value!r} is not {what}" + (f"; did you mean {near!r}?" if near else "")
                                     + f" (choose {listed(choices)})")


def in_library(config: Config, work, *, write: bool):
    """``work(session)``'s result, once its transaction has committed. Raises
    ``Failure`` (saying why) if it could not be done: then nothing was written.
    A refusal (``engine.api.Refusal``) ends it with the refusal's message."""
    from engine.api import open_library

    with library_errors(config, write=write):
        with open_library(config, write=write) as session:
            result = work(session)
    saved.set(write)
    return result


@contextmanager
def library_errors(config: Config, *, write: bool) -> Iterator[None]:
    """What goes wrong in the library database, or is refused, as a ``Failure``
    saying why (never the URL's password)."""
    from sqlalchemy.exc import SQLAlchemyError

    from engine.api import CommitFailed, LibraryBusy, Refusal, driver_reason, mask_url

    try:
        yield
    except LibraryBusy as exc:
        raise Failure(ExitCode.LOCKED, str(exc)) from None
    except CommitFailed as exc:
        raise Failure(ExitCode.FAILED, f"the library database did not save the change, nothing written: {exc}") \
            from None
    except SQLAlchemyError as exc:
        raise Failure(ExitCode.FAILED, f"library database {mask_url(config.library_url)}: {driver_reason(exc)}"
                                       + ("; nothing written" if write else "")) from None
    except Refusal as exc:
        from cli.next_steps import spelled

        raise Failure(ExitCode.FAILED, spelled(exc)) from None
