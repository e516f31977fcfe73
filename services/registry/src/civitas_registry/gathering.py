"""A voter's events, read from the log by hash: what a move statement names, what a fork's confirmation carries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from civitas_kernel.events import RecordedEvent
from civitas_kernel.log import EventLog

from civitas_registry.domain import register as r

DRAFT_STREAM = "draft"


@dataclass
class Gathered:
    named: list[bytes] = field(default_factory=list)  # own hashes of every event of theirs
    carried: list[RecordedEvent] = field(default_factory=list)  # the ones that still stand: attributes, trust given
    received: list[bytes] = field(default_factory=list)  # own hashes of standing trust edges others gave them


def _standing(registration: Iterable[RecordedEvent], trust: Iterable[RecordedEvent], voter: str,
              trusters: set[str] | None = None) -> Gathered:
    """The voter's attributes and trust edges as they stand after these events of each stream, in order.
    trusters: whose edges to the voter are carried too (a fork's confirmed voters); None: none, only named."""
    out = Gathered()
    attributes: dict[str, RecordedEvent] = {}
    given: dict[str, RecordedEvent] = {}
    received: dict[str, RecordedEvent] = {}
    primary: RecordedEvent | None = None
    for event in registration:
        if event.type in (r.ATTRIBUTE_SET, r.ATTRIBUTE_UNSET):
            m = event.message()
            if m.voter == voter:
                out.named.append(event.hash)
                if event.type == r.ATTRIBUTE_SET:
                    attributes[m.attribute] = event
                else:
                    attributes.pop(m.attribute, None)
    for event in trust:
        if event.type in (r.TRUST_EXTENDED, r.TRUST_WITHDRAWN):
            m = event.message()
            edges, other = (given, m.trustee) if m.truster == voter else (received, m.truster)
            if m.truster == voter:
                out.named.append(event.hash)
            elif m.trustee != voter:
                continue
            if event.type == r.TRUST_EXTENDED:
                edges[other] = event
            else:
                edges.pop(other, None)
        elif event.type in (r.PRIMARY_EXTENDED, r.PRIMARY_WITHDRAWN) and event.message().voter == voter:
            primary = event if event.type == r.PRIMARY_EXTENDED else None
    if trusters is not None:  # on a fork an edge counts once both ends chose the fork: the later one carries it
        given = {k: v for k, v in given.items() if k in trusters}
    out.carried = [*attributes.values(), *(given[k] for k in sorted(given))]
    if trusters is not None:  # a fork: the registrar's primary trust, and edges from voters who chose the fork
        out.carried += [*([primary] if primary else []), *(received[k] for k in sorted(received) if k in trusters)]
    out.received = [received[k].hash for k in sorted(received)]
    return out


class VoterIndex:
    """Where each voter's events are in some of a site's streams (those naming them; in the draft stream, those they
    wrote), read once and then only what was appended since: a statement or a confirmation then reads just the events
    of its voter, not the streams whole. until: read no further than these positions (a fork's cut, which never
    moves); None: follow the streams as they grow."""

    def __init__(self, log: EventLog, site: str | None = None, until: dict[str, int] | None = None,
                 streams: tuple[str, ...] = ("registration", "trust")) -> None:
        self.log, self.site, self.until = log, site, until
        self.positions = dict.fromkeys(streams, 0)
        self.at: dict[tuple[str, str], list[int]] = {}  # (stream, voter) -> positions naming the voter, in order

    def catch_up(self) -> None:
        for stream, position in self.positions.items():
            until = None if self.until is None else self.until.get(stream, 0)
            for event in self.log.read(stream, site=self.site, after=position, until=until):
                self.positions[stream] = event.seq
                for who in _named(stream, event):
                    self.at.setdefault((stream, who), []).append(event.seq)

    def events(self, stream: str, voter: str) -> Iterator[RecordedEvent]:
        for seq in self.at.get((stream, voter), ()):
            yield from self.log.read(stream, site=self.site, after=seq - 1, until=seq)


NAMES = {"registration": ("voter",), "trust": ("truster", "trustee", "voter")}


def _named(stream: str, event: RecordedEvent) -> set[str]:
    if stream == DRAFT_STREAM:
        return {event.actor} if event.actor else set()
    if event.type not in CARRIED_FROM.get(stream, ()):
        return set()
    m = event.message()
    return {getattr(m, n) for n in NAMES[stream] if hasattr(m, n)}


def own_index(log: EventLog) -> VoterIndex:
    """This site's own registration, trust and draft streams, indexed by voter."""
    return VoterIndex(log, streams=("registration", "trust", DRAFT_STREAM))


def own_events_of(index: VoterIndex, voter: str) -> Gathered:
    """What a move statement names: the voter's events on this site (their drafts too), and what still stands."""
    index.catch_up()
    out = _standing(index.events("registration", voter), index.events("trust", voter), voter)
    out.named += [e.hash for e in index.events(DRAFT_STREAM, voter)]
    return out


CARRIED_FROM = {"registration": (r.ATTRIBUTE_SET, r.ATTRIBUTE_UNSET),
                "trust": (r.TRUST_EXTENDED, r.TRUST_WITHDRAWN, r.PRIMARY_EXTENDED, r.PRIMARY_WITHDRAWN)}


def inherited_of(index: VoterIndex, voter: str, confirmed: set[str]) -> Gathered:
    """What a fork's confirmation carries: the voter's standing on the parent at the cut, held here as the parent's."""
    return _standing(index.events("registration", voter), index.events("trust", voter), voter, trusters=confirmed)
