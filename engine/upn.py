"""Unique Pupil Numbers (UPNs): a check letter, then twelve characters.

The DfE check letter is the sum of the other twelve characters' values times
the weights 2..13, modulo 23, as a letter of a 23-letter alphabet (no I, O or
S). Digits count as their value; a letter (only in the last place, on a
temporary UPN) counts as its place in the same alphabet. A UPN whose check
letter is wrong was mistyped somewhere, so it is never trusted to match.
"""
from __future__ import annotations

from operator import mul

UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_VALUES = {**{digit: int(digit) for digit in "0123456789"}, **{c: i for i, c in enumerate(UPN_ALPHABET)}}


def check_letter(rest: str) -> str:
    """The check letter for the twelve characters after it."""
    return UPN_ALPHABET[sum(map(mul, map(_VALUES.__getitem__, rest), range(2, 14))) % 23]


def is_valid_upn(upn: object) -> bool:
    """A well-formed UPN whose check letter is right. Only ASCII digits count:
    str.isdigit() is true of "٣" and "３" too. Anything else, stored or
    incoming, is simply not a trusted UPN."""
    if type(upn) is not str or len(upn) != 13 or upn[0] not in UPN_ALPHABET:
        return False
    rest = upn[1:]
    if not (rest[:11].isascii() and rest[:11].isdigit() and (rest[11] in _VALUES)):
        return False
    return check_letter(rest) == upn[0]
