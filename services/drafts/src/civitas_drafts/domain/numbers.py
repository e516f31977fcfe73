"""Weights, vote values and scores as exact integers, so a score is the same whatever the order of its votes.

Vote values and the default score are kept in millionths of a vote (UNIT); weights are whole numbers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from civitas_drafts.domain.errors import DraftError, VoteValueError

UNIT = 1_000_000  # one vote, in millionths
MAX_WEIGHT = 1_000_000
MAX_VOTE = 1_000 * UNIT  # no single vote worth more than a thousand
MAX_DEFAULT_SCORE = MAX_WEIGHT * UNIT


def _decimal(text: str, what: str, error: type[DraftError]) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise error(f"{text!r} is not a number; write {what} like 1, -1 or 0.5") from None
    if not value.is_finite():
        raise error(f"{what} must be a finite number, not {text!r}")
    return value


def to_micro(value: Decimal, text: str, what: str, limit: int, error: type[DraftError]) -> int:
    if abs(value) > Decimal(limit) / UNIT:
        raise error(f"{what} {text!r} is too large: at most {limit // UNIT:,} either way")
    micro = value * UNIT
    if micro != micro.to_integral_value():
        raise error(f"{what} {text!r} has too many decimals: at most 6")
    return int(micro)


def parse_vote_value(text: str) -> int:
    """A vote value typed by a voter, in millionths; finite, non-zero, at most MAX_VOTE either way."""
    micro = to_micro(_decimal(text, "a vote", VoteValueError), text, "a vote", MAX_VOTE, VoteValueError)
    check_vote_value(micro)
    return micro


def check_vote_value(micro: int) -> None:
    if micro == 0:
        raise VoteValueError("a vote of 0 changes nothing; vote up, down or a number other than 0")
    if abs(micro) > MAX_VOTE:
        raise VoteValueError(f"a vote is at most {MAX_VOTE // UNIT:,} either way")


def parse_default_score(text: str) -> int:
    value = _decimal(text, "a default score", DraftError)
    return to_micro(value, text, "a default score", MAX_DEFAULT_SCORE, DraftError)


def parse_weight(text: str) -> int:
    value = _decimal(text, "a weight", DraftError)
    if value != value.to_integral_value():
        raise DraftError(f"a weight is a whole number, not {text!r}")
    check_weight(int(value))
    return int(value)


def check_weight(weight: int) -> None:
    if abs(weight) > MAX_WEIGHT:
        raise DraftError(f"a weight is a whole number from {-MAX_WEIGHT:,} to {MAX_WEIGHT:,}")


def format_micro(micro: int) -> str:
    """A score or vote for people: 1, -0.5, 12.25."""
    whole, part = divmod(abs(micro), UNIT)
    sign = "-" if micro < 0 else ""
    return f"{sign}{whole}" + (f".{part:06d}".rstrip("0") if part else "")
