"""The terminal UI's one door to the library database.

Workers call ``Library.run(engine_function, ...)`` from their own thread: it
opens a session, calls the engine function with it inside one transaction
(committed when the function returns, rolled back if it raises) and closes the
session, so no session ever crosses threads. The connection pool is made on
first use, in a worker, never at import or when the app is built.
"""
from __future__ import annotations

import getpass
import threading
from typing import Callable, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine.db import connect

Result = TypeVar("Result")


class Library:
    def __init__(self, url: str):
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def run(self, function: Callable[..., Result], *args, **kwargs) -> Result:
        with Session(self._connected()) as session, session.begin():
            return function(session, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _connected(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = connect(self.url)
            return self._engine


def actor() -> str:
    """Who decides, for the audit trail: the account the librarian logged in as."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return "unknown"
