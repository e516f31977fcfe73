"""Where a registrant lives, as the voter list sees it: the neighbourhood code of their residence.

Default rule: the postal code, written last, names the neighbourhood. It is the last comma- or
space-separated token that holds a digit and only letters, digits and '-' ("12 Elm St,
Springfield 90210" -> "90210"), or a two-token code written last ("Ottawa K1A 0B1" -> "K1A 0B1",
"London SW1A 1AA" -> "SW1A 1AA"). A registrant whose residence gives no code is barred, and the
bar says why in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NO_RESIDENCE = "no residence given"
NO_POSTAL_CODE = "residence names no postal code: write it last"

_POSTAL_TOKEN = re.compile(r"[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*", re.ASCII)
# The two-token codes of the UK and Canada: an outward part ("SW1A", "K1A"), an inward one ("1AA", "0B1").
_OUTWARD = re.compile(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]?", re.ASCII)
_INWARD = re.compile(r"[0-9][A-Za-z0-9]{2}", re.ASCII)
MAX_CODE = 16


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    code: str  # e.g. "90210"; empty when the residence gives none
    bar: str = ""  # why the registrant is barred, in words; empty when not barred

    @property
    def barred(self) -> bool:
        return bool(self.bar)


def neighbourhood_of(residence: str | None) -> Neighbourhood:
    """The neighbourhood a residence names, or a bar saying why it names none."""
    return Neighbourhood(*code_and_bar(residence))


def code_and_bar(residence: str | None) -> tuple[str, str]:
    """(code, "") for a residence that names a neighbourhood, ("", bar) for one that does not.

    The same rule as neighbourhood_of, without an object per call: a voter list asks a million times.
    """
    tokens = residence.replace(",", " ").split() if residence else None
    if not tokens:
        return "", NO_RESIDENCE
    if len(tokens) >= 2 and _OUTWARD.fullmatch(tokens[-2]) and _INWARD.fullmatch(tokens[-1]):
        return f"{tokens[-2]} {tokens[-1]}".upper(), ""
    for token in reversed(tokens):
        if len(token) <= MAX_CODE and _POSTAL_TOKEN.fullmatch(token) and token.strip("-"):
            return token.upper(), ""
    return "", NO_POSTAL_CODE
