"""governance.toml: the rules a proposal is judged by, read from the text at the proposal's base commit.

Fractions are written as strings ("1/2", "2/3", "0"), never floats, so every site computes the same
thresholds; they are held as fractions.Fraction. Unknown keys are refused, so a misspelt rule never
silently falls back to its default.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from civitas_kernel.commands import CommandError

from civitas_deployer.domain.patterns import Pattern, PatternError

FRACTION = re.compile(r"(\d+)(?:/(\d+))?")
DEFAULT_CONSTITUTIONAL_PATHS = ("governance.toml", "modules.toml")
MAX_HOURS = 24 * 366  # a window longer than a year is a typo, not a rule


class RulesError(CommandError):
    """governance.toml or modules.toml cannot be read; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Thresholds:
    voting_hours: int
    quorum: Fraction  # of the electorate, casting yes, no or abstain
    majority: Fraction  # of yes + no
    strict: bool  # yes must exceed majority × (yes + no), not merely reach it


@dataclass(frozen=True)
class Governance:
    review_hours: int
    voting: Thresholds
    min_trust: int
    inactive_after_days: int  # 0: activity is not asked for
    constitutional: Thresholds
    constitutional_paths: tuple[Pattern, ...]
    stop_review_hours: int = 0  # a request that only stops something (pause, roll back): reviewed this long
    stop_voting_hours: int = 24  # and voted this long, by the usual quorum and majority

    def thresholds(self, constitutional: bool) -> Thresholds:
        return self.constitutional if constitutional else self.voting

    def is_constitutional(self, path: str) -> bool:
        return any(p.matches(path) for p in self.constitutional_paths)


DEFAULTS = Governance(
    review_hours=48,
    voting=Thresholds(voting_hours=168, quorum=Fraction(0), majority=Fraction(1, 2), strict=True),
    min_trust=1,
    inactive_after_days=0,
    constitutional=Thresholds(voting_hours=336, quorum=Fraction(1, 10), majority=Fraction(2, 3), strict=False),
    constitutional_paths=tuple(Pattern(p) for p in DEFAULT_CONSTITUTIONAL_PATHS),
)

VOTING_KEYS = {"review_hours", "voting_hours", "quorum", "majority", "strict", "min_trust", "inactive_after_days"}
CONSTITUTIONAL_KEYS = {"paths", "voting_hours", "quorum", "majority", "strict"}
STOP_KEYS = {"stop_review_hours", "stop_voting_hours"}


def parse_governance(text: str, *, where: str = "governance.toml") -> Governance:
    """The rules written in `text`, defaults filling what is absent; RulesError naming `where` when malformed."""
    table = load_toml(text, where)
    unknown = set(table) - {"voting", "constitutional", "maintenance"}
    if unknown:
        raise RulesError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}; "
                         "it takes [voting], [constitutional] and [maintenance]")
    stops = _section(table, "maintenance", STOP_KEYS, where)
    voting = _section(table, "voting", VOTING_KEYS, where)
    constitutional = _section(table, "constitutional", CONSTITUTIONAL_KEYS, where)
    d, dc = DEFAULTS.voting, DEFAULTS.constitutional
    read = _Reader(where)
    return Governance(
        review_hours=read.hours(voting, "voting", "review_hours", DEFAULTS.review_hours, allow_zero=True),
        voting=Thresholds(
            voting_hours=read.hours(voting, "voting", "voting_hours", d.voting_hours),
            quorum=read.fraction(voting, "voting", "quorum", d.quorum),
            majority=read.fraction(voting, "voting", "majority", d.majority),
            strict=read.boolean(voting, "voting", "strict", d.strict),
        ),
        min_trust=read.count(voting, "voting", "min_trust", DEFAULTS.min_trust),
        inactive_after_days=read.count(voting, "voting", "inactive_after_days", DEFAULTS.inactive_after_days),
        constitutional=Thresholds(
            voting_hours=read.hours(constitutional, "constitutional", "voting_hours", dc.voting_hours),
            quorum=read.fraction(constitutional, "constitutional", "quorum", dc.quorum),
            majority=read.fraction(constitutional, "constitutional", "majority", dc.majority),
            strict=read.boolean(constitutional, "constitutional", "strict", dc.strict),
        ),
        constitutional_paths=read.patterns(constitutional, "constitutional", "paths", DEFAULTS.constitutional_paths),
        stop_review_hours=read.hours(stops, "maintenance", "stop_review_hours", DEFAULTS.stop_review_hours,
                                     allow_zero=True),
        stop_voting_hours=read.hours(stops, "maintenance", "stop_voting_hours", DEFAULTS.stop_voting_hours),
    )


def load_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{where} is not valid TOML ({error}); fix the file with a proposal") from None


def _section(table: dict, name: str, keys: set[str], where: str) -> dict:
    section = table.get(name, {})
    if not isinstance(section, dict):
        raise RulesError(f"{where}: {name} must be a table, written [{name}]")
    unknown = set(section) - keys
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} in [{name}]; "
                         f"it takes {', '.join(sorted(keys))}")
    return section


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where

    def _fail(self, section: str, key: str, wanted: str, value: Any) -> RulesError:
        return RulesError(f"{self.where}: [{section}] {key} must be {wanted}; it is {value!r}")

    def fraction(self, table: dict, section: str, key: str, default: Fraction) -> Fraction:
        if key not in table:
            return default
        value = table[key]
        found = FRACTION.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise self._fail(section, key, 'a fraction written as a string, like "1/2" or "0"', value)
        numerator, denominator = int(found.group(1)), int(found.group(2) or 1)
        if denominator == 0 or numerator > denominator:
            raise self._fail(section, key, "a fraction from 0 to 1 (the denominator not 0)", value)
        return Fraction(numerator, denominator)

    def count(self, table: dict, section: str, key: str, default: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(section, key, "a whole number, 0 or more", value)
        return value

    def hours(self, table: dict, section: str, key: str, default: int, *, allow_zero: bool = False) -> int:
        value = self.count(table, section, key, default)
        if value > MAX_HOURS or (value == 0 and not allow_zero):
            raise self._fail(section, key, f"a number of hours from {0 if allow_zero else 1} to {MAX_HOURS}", value)
        return value

    def boolean(self, table: dict, section: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(section, key, "true or false", value)
        return value

    def patterns(self, table: dict, section: str, key: str, default: tuple[Pattern, ...]) -> tuple[Pattern, ...]:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, list) or not value:
            raise self._fail(section, key, 'a non-empty list of path patterns, like ["governance.toml"]', value)
        try:
            return tuple(Pattern(p) for p in value)
        except PatternError as error:
            raise RulesError(f"{self.where}: [{section}] {key}: {error}") from None
