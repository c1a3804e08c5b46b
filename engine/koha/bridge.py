"""Which library engines are Koha libraries, and the transaction hooks.

``connect_library(config)`` is the one way the engine opens a library: for
``library.kind = "koha"`` it first checks the database is a Koha mislink can
use (refusing, naming the config key, before making any table of its own),
then gives the engine a ``KohaBridge``, found again by ``bridge_for``.
``engine.session.transaction`` calls ``pull`` right after a locked
transaction begins and ``push`` just before it commits.

What the pull left is kept on the session (``session.info``), not on the
bridge: the TUI uses one engine from several threads.
"""
from __future__ import annotations

import logging
from datetime import date
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine.config import Config
from engine.db import connect
from engine.koha.fingerprint import fingerprint
from engine.koha.pull import pull
from engine.koha.push import push
from engine.koha.tables import KohaTables, check_settings, looks_like_koha
from engine.koha.watch import pushed, unpushed_writes, watch
from engine.models import utcnow

log = logging.getLogger(__name__)
_bridges: WeakKeyDictionary[Engine, KohaBridge] = WeakKeyDictionary()
_PULLED, _SEEN = "koha_pulled", "koha_seen"


class KohaBridge:
    def __init__(self, config: Config, tables: KohaTables):
        self.settings, self.data, self.tables = config.koha, config.data, tables
        # What the latest pull found unusable in Koha, for the next snapshot
        # (a preview reads after a pull of its own transaction).
        self.warnings: list[str] = []
        # Koha as the mirror last committed it (engine.koha.fingerprint).
        self.seen: tuple | None = None

    def pull(self, session: Session) -> None:
        pulled = pull(session, self.tables, self.settings, self.data, utcnow())
        if pulled.warnings:
            log.warning("; ".join(pulled.warnings))
        self.warnings = pulled.warnings
        if pulled.changed:
            self.seen = None  # until a transaction with these changes commits
        session.info[_PULLED] = pulled
        session.info[_SEEN] = fingerprint(session, self.tables, self.settings)
        watch(session)

    def committed(self, session: Session) -> None:
        """The pull of this session's transaction is the mirror now."""
        self.seen = session.info.get(_SEEN)

    def unchanged(self, engine: Engine) -> bool:
        """Whether Koha's patrons look as they did when the mirror last took them in."""
        if self.seen is None:
            return False
        with engine.connect() as connection:
            return fingerprint(connection, self.tables, self.settings) == self.seen

    def push(self, session: Session, left_on: dict[int, date] | None = None) -> list[str]:
        """Write the transaction's changes to Koha; warnings for values it
        would not take. ``left_on``: the day each leaver a sync recycled left.
        Nothing to do (and the mirror not read) when nothing was written to
        it since the last push (``engine.koha.watch``)."""
        if not unpushed_writes(session):
            return []
        warnings = push(session, self.tables, self.settings, self.data, session.info[_PULLED], utcnow(),
                        left_on or {})
        pushed(session)
        return warnings


def connect_library(config: Config, *, create: bool = True) -> Engine:
    """An Engine on the configured library, a Koha bridge attached for a Koha
    library. ``engine.db`` keeps one Engine per URL: a library opened as
    another kind since loses its bridge."""
    if config.library.kind != "koha":
        engine = connect(config.library_url, create=create)
        _bridges.pop(engine, None)
        return engine
    holder: dict[str, KohaTables] = {}

    def check(engine: Engine) -> None:
        with engine.connect() as connection:
            looks_like_koha(connection, config.library_url)
            holder["tables"] = KohaTables.reflect(connection)
            check_settings(connection, holder["tables"], config.koha)

    # Koha's database exists already: mislink's own tables are made in it
    # (only once it is known to be Koha) whether or not the command writes.
    engine = connect(config.library_url, create=True, check=check)
    _bridges[engine] = KohaBridge(config, holder["tables"])
    return engine


def bridge_for(engine: Engine) -> KohaBridge | None:
    return _bridges.get(engine)


def session_bridge(session: Session) -> KohaBridge | None:
    """The bridge of the library this session works on, if it is a Koha."""
    return bridge_for(session.get_bind())


def pull_warnings(session: Session) -> list[str]:
    bridge = session_bridge(session)
    return list(bridge.warnings) if bridge else []
