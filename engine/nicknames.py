"""UK forenames and their short forms, from the shipped ``data/nicknames.csv``.

Two forenames are *short forms* of each other when the table pairs them
(Alfred / Alfie), and *siblings* when both are short forms of one name (Alfie /
Freddie, through Alfred). Two full names are never related through a short form
they share: Samuel and Samantha are both "Sam", and are different children.
Names are compared as ``name_key`` forms. The table is read once, on first use.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources

from engine.text import name_key


class Relation(Enum):
    SHORT_FORM = "short form"
    SIBLING = "short forms of the same name"


@dataclass(frozen=True)
class NicknameTable:
    # name -> the names it is a short form of, or that are short forms of it
    direct: dict[str, frozenset[str]]
    # short form -> the full names it stands for
    full_names: dict[str, frozenset[str]]

    def relation(self, a: str, b: str) -> Relation | None:
        """How two (``name_key``) forenames are related, if at all."""
        if b in self.direct.get(a, ()):
            return Relation.SHORT_FORM
        if self.full_names.get(a, frozenset()) & self.full_names.get(b, frozenset()):
            return Relation.SIBLING
        return None

    def knows(self, name: str) -> bool:
        """Is this (``name_key``) forename in the table, as a name or a short form?"""
        return name in self.direct

    def roots(self, name: str) -> frozenset[str]:
        """The full names a forename may stand for (itself included): two
        related forenames always share a root, which is what blocking needs."""
        return self.full_names.get(name, frozenset()) | {name}


@cache
def nickname_table() -> NicknameTable:
    direct: dict[str, set[str]] = defaultdict(set)
    full_names: dict[str, set[str]] = defaultdict(set)
    text = resources.files("engine").joinpath("data/nicknames.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    for row in rows:
        name, short = name_key(row["name"]), name_key(row["short_form"])
        direct[name].add(short)
        direct[short].add(name)
        full_names[short].add(name)
    return NicknameTable({k: frozenset(v) for k, v in direct.items()},
                         {k: frozenset(v) for k, v in full_names.items()})
