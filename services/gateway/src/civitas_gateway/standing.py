"""A voter's standing as their pages show it: who trusts and doubts them, their trust level explained, and in each
poll who votes for them and whose votes reach them through the cascade (from the reported count).

Shown on the voter's own registration page and on their public page; everything here is public (the register and
votes are), and read from the site's register, its reported voter list and its reported count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civitas_kernel.count_result import Reach
from civitas_registry import LevelExplained, Source, explain_level, source_from


@dataclass
class PollStanding:
    name: str
    title: str
    vote: str | None  # whom the voter votes for now
    counted: bool  # the reported count holds this poll
    direct: list[str] = field(default_factory=list)  # who casts a vote for the voter, in the count
    through: list[Reach] = field(default_factory=list)  # whose votes reach the voter through others
    uncast: list[tuple[str, str]] = field(default_factory=list)  # who votes for the voter uncast, and why
    receive: int = 0
    hold: int = 0
    trace: list[str] = field(default_factory=list)  # the voter's own vote's path

    @property
    def shown(self) -> bool:
        return bool(self.vote or self.direct or self.through or self.uncast)


@dataclass
class Standing:
    voter: str
    attributes: dict[str, str]
    trusts: list[str]  # whom the voter trusts
    trusted_by: list[str]  # who trusts the voter
    doubts: list[tuple[str, str]]  # whom the voter doubts, with reasons
    doubted_by: list[tuple[str, str]]  # who doubts the voter, with reasons
    listed: bool  # a voter list is reported
    level: int | None  # in the reported list; None: not on it, or no list
    bar: str
    explained: LevelExplained | None
    polls: list[PollStanding]
    moved_to: str | None = None  # the site their registration moved to, if they left this one
    moved_url: str | None = None  # where that site answers, as this site's operator named it

    @property
    def differs(self) -> bool:
        """Trust given or withdrawn since the reported list: the next list's level will differ from it."""
        return self.explained is not None and self.level is not None and self.explained.level != self.level


def standing_of(site, voter: str, *, who: str = "you") -> Standing:
    """Read a voter's standing from `site`; the caller holds site.lock."""
    registry = site.registry
    registry.catch_up()
    trusters = registry.trusters_of(voter)
    reported = site.reported_list()
    entry = reported.get(voter) if reported else None
    explained = None
    if reported is not None:
        prefix = _range_prefix(site)
        own = entry.neighbourhood if entry else ""
        sources = [_source(reported, truster, own, prefix) for truster in trusters]
        explained = explain_level(registry.primary_edges(voter), sources, who=who)
    return Standing(
        voter=voter, attributes=registry.attributes(voter), trusts=registry.trusted_by(voter), trusted_by=trusters,
        doubts=registry.doubts_by(voter), doubted_by=registry.doubters_of(voter), listed=reported is not None,
        level=entry.trust_level if entry else None, bar=entry.bar if entry else "", explained=explained,
        polls=_polls(site, voter), **_moved(registry, voter),
    )


def _moved(registry, voter: str) -> dict:
    """Where a voter who left this site went, and their page there (the register's lineage)."""
    where = registry.where_moved(voter)
    return {k: where.get(k) for k in ("moved_to", "moved_url")}


def _source(reported, truster: str, own: str, prefix: int | None) -> Source:
    entry = reported.get(truster)
    if entry is None:
        return Source(truster, 0, "not on the reported voter list")
    return source_from(truster, entry.trust_level, entry.bar, entry.neighbourhood, of=own, prefix=prefix)


def _range_prefix(site) -> int | None:
    """The trust range the reported list was compiled under (its snap's configuration)."""
    for record in site.records.status("list"):
        if record.reported:
            return (record.snap.get("config") or {}).get("range_prefix")
    return None


def _polls(site, voter: str) -> list[PollStanding]:
    count = site.reported_count()
    standings = []
    for poll in site.polls.list_polls().data:
        name = poll["name"]
        result = count.polls.get(name) if count else None
        standing = PollStanding(name, poll.get("title") or name, site.polls.state.vote_of(name, voter), result is not None)
        if result is not None:
            reaching = result.reaching(voter)
            standing.direct = [r.voter for r in reaching if r.steps == 1]
            standing.through = [r for r in reaching if r.steps > 1]
            standing.uncast = result.uncast_for(voter)
            node = result.node(voter)
            standing.receive, standing.hold = (node.receive, node.hold) if node else (0, 0)
            standing.trace = result.trace(voter)
        standings.append(standing)
    return standings
