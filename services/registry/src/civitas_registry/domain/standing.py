"""A trust level explained: which sources count, how many at which level, and what the next level needs.

Pure: it reads the rule of `trust.level_from_sources` back to the voter. The caller gives the registrar's
primary edges and each voter who trusts the one explained, with that voter's level in a voter list and
whether the edge counts (an edge from a barred voter, or from outside the trust range, counts for nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civitas_registry.domain.trust import level_from_sources


@dataclass(frozen=True)
class Source:
    voter: str
    level: int
    why_not: str = ""  # why this edge counts for nothing; empty when it counts

    @property
    def counts(self) -> bool:
        return not self.why_not


@dataclass(frozen=True)
class LevelExplained:
    level: int  # what the rule gives from these sources
    primary: int
    sources: tuple[Source, ...]  # highest level first
    at_level: int  # counted sources at `level` or above
    next_needs: int  # more counted sources at `level + 1` or above that `level + 1` would need
    lines: tuple[str, ...]  # the same, in words


def source_from(voter: str, level: int, bar: str, neighbourhood: str, *, of: str, prefix: int | None) -> Source:
    """A trust edge from `voter` (their level, bar and neighbourhood in a voter list) to a voter in neighbourhood
    `of`, under the list's trust range (`prefix`, as ListConfig.range_prefix; None: every edge counts)."""
    if bar:
        return Source(voter, level, f"barred: {bar}")
    if prefix is not None and not in_range(neighbourhood, of, prefix):
        return Source(voter, level, f"outside the trust range ({prefix} leading characters of the postal code)")
    return Source(voter, level)


def in_range(a: str, b: str, prefix: int) -> bool:
    """As trust.edges_in_range decides one edge: both codes known, long enough, and alike in their first `prefix`."""
    return bool(a) and bool(b) and len(a) >= prefix and len(b) >= prefix and a[:prefix] == b[:prefix]


def explain_level(primary: int, sources: Sequence[Source], *, who: str = "you") -> LevelExplained:
    """`who` is how the lines name the voter explained: "you", or their address on a public page."""
    ordered = tuple(sorted(sources, key=lambda s: (not s.counts, -s.level, s.voter)))
    counted = [s.level for s in ordered if s.counts]
    level = level_from_sources(primary, counted)
    at_level = sum(1 for lv in counted if lv >= level) if level else 0
    above = sum(1 for lv in counted if lv >= level + 1)
    next_needs = max(0, level + 1 - primary - above)
    whose = "your" if who == "you" else f"{who}'s"
    lines = [_edges(primary, who), _sources(ordered, who), _why(level, primary, at_level, whose),
             _next(level + 1, primary, above, next_needs)]
    return LevelExplained(level, primary, ordered, at_level, next_needs, tuple(line for line in lines if line))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _edges(primary: int, who: str) -> str:
    if not primary:
        return f"The registrar extends {who} no primary edge."
    return f"The registrar extends {who} {_plural(primary, 'primary edge')}."


def _sources(ordered: tuple[Source, ...], who: str) -> str:
    if not ordered:
        return f"Nobody trusts {who} yet."
    counting = [s for s in ordered if s.counts]
    ignored = [s for s in ordered if not s.counts]
    parts = []
    if counting:
        listed = ", ".join(f"{s.voter} (level {s.level})" for s in counting)
        parts.append(f"{_plural(len(counting), 'voter')} who trust {who} count: {listed}")
    if ignored:
        listed = ", ".join(f"{s.voter} ({s.why_not})" for s in ignored)
        parts.append(f"{_plural(len(ignored), 'trust')} count{'s' if len(ignored) == 1 else ''} for nothing: {listed}")
    return "; ".join(parts) + "."


def _why(level: int, primary: int, at_level: int, whose: str) -> str:
    if level == 0:
        return f"So {whose} trust level is 0: a level T needs primary edges plus sources at level T or above to reach T."
    return (f"So {whose} trust level is {level}: {primary} primary + {at_level} at level {level} or above = "
            f"{primary + at_level}, at least {level}.")


def _next(target: int, primary: int, above: int, needs: int) -> str:
    return (f"Level {target} would need {primary} primary + sources at level {target} or above to reach {target}: "
            f"you have {above}, so {_plural(needs, 'more such source')} (or more primary edges).")
