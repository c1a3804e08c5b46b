"""The terminal UI's one door to the library database.

Workers call ``Library.run(engine_function, ...)`` (to read) or
``Library.write(...)`` (to change anything) from their own thread: it opens a
session, calls the engine function with it inside one transaction (committed
when the function returns, rolled back if it raises) and closes the session,
so no session ever crosses threads. ``write`` also holds the library lock, as
a sync does, so a decision never interleaves with a scheduled sync: while one
runs, the decision is refused with a message saying so. The connection pool is made on
first use, in a worker, never at import or when the app is built.
"""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from sqlalchemy import Engine

from engine.api import Config, connect_library, transaction

Result = TypeVar("Result")


class Library:
    def __init__(self, config: Config):
        self.config = config
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def run(self, function: Callable[..., Result], *args, **kwargs) -> Result:
        with transaction(self._connected(), lock=False) as session:
            return function(session, *args, **kwargs)

    def write(self, function: Callable[..., Result], *args, **kwargs) -> Result:
        """As ``run``, holding the library lock. A commit that fails raises
        ``CommitFailed``: the decision is not done, whatever it returned."""
        with transaction(self._connected(), lock=True) as session:
            return function(session, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _connected(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = connect_library(self.config)
            return self._engine

