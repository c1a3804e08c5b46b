"""The tutor group of a leaver who had none (staff, mostly).

``sync.leaver_group`` (default ``"Leaver {year} (Old Group {group})"``) is
written for someone with a group. Without one, the label is the template less
the clause that holds ``{group}``: "Leaver 2026", never "Leaver 2026 (Old Group
none)". The clause is, in this order of preference:

- the bracketed part around ``{group}``: ``(Old Group {group})``, ``[{group}]``;
- else the part between separators (a spaced dash, slash or bar; a comma,
  semicolon or colon and a space): ``Leaver {year} - Old Group {group}``,
  ``Old Group {group}: left {year}``;
- else ``{group}`` alone: ``Leaver {year} {group}``.

Separators left loose at either end go too. A template that is nothing but its
group clause gives ``Leaver {year}``.
"""
from __future__ import annotations

import re

# Stands for the missing group while the template is filled in: a control
# character, which no template may hold (config refuses them in a group), so
# escaped braces ("{{" "}}") are already resolved when the clause is looked for.
_NO_GROUP = "\x00"
_BRACKETED = re.compile(r"\s*(\([^()]*\x00[^()]*\)|\[[^\[\]]*\x00[^\[\]]*\])")
# Captured, so that split() keeps the separators between the clauses. A
# hyphen without spaces does not separate: "Ex-pupil", "Y11-{group}".
_SEPARATOR = re.compile(r"(\s+[-–—/|]\s+|[,;:]\s+)")
_LOOSE_ENDS = " -–—/|,;:"


def no_group_label(template: str, year: int) -> str:
    """The leaver group for someone with no tutor group (see the module)."""
    label = _BRACKETED.sub("", template.format(year=year, group=_NO_GROUP))
    parts = _SEPARATOR.split(label)
    at = next((i for i, part in enumerate(parts) if _NO_GROUP in part), None)
    if len(parts) > 1 and at is not None:
        # Clauses and separators alternate: the clause goes with the separator
        # before it, or with the one after it when it comes first.
        start, stop = (at - 1, at + 1) if at else (0, 2)
        label = "".join(parts[:start] + parts[stop:])
    label = " ".join(label.replace(_NO_GROUP, "").split()).strip(_LOOSE_ENDS)
    return label or f"Leaver {year}"
