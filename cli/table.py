"""Aligned columns under a header, each as wide as its widest value."""
from __future__ import annotations

from typing import Collection, Iterable, Sequence


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, right: Collection[int] = ()) -> list[str]:
    """The header and rows as lines; the columns numbered in ``right`` (counts)
    are right-aligned, the rest left-aligned; no line ends in spaces."""
    cells = [list(header)] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(cell.rjust(width) if i in right else cell.ljust(width)
                      for i, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in cells]
