"""A voter's events, read from the log by hash: what a move statement names, what a fork's confirmation carries."""

from __future__ import annotations

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


def _standing(log: EventLog, voter: str, site: str | None, until: dict[str, int] | None,
              trusters: set[str] | None = None) -> Gathered:
    """The voter's attributes and trust edges as they stand at `until` (per stream; None: the heads).
    trusters: whose edges to the voter are carried too (a fork's confirmed voters); None: none, only named."""
    out = Gathered()
    attributes: dict[str, RecordedEvent] = {}
    given: dict[str, RecordedEvent] = {}
    received: dict[str, RecordedEvent] = {}
    primary: RecordedEvent | None = None
    limit = (lambda s: None) if until is None else (lambda s: until.get(s, 0))
    for event in log.read("registration", site=site, until=limit("registration")):
        if event.type in (r.ATTRIBUTE_SET, r.ATTRIBUTE_UNSET):
            m = event.message()
            if m.voter == voter:
                out.named.append(event.hash)
                if event.type == r.ATTRIBUTE_SET:
                    attributes[m.attribute] = event
                else:
                    attributes.pop(m.attribute, None)
    for event in log.read("trust", site=site, until=limit("trust")):
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


def own_events_of(log: EventLog, voter: str) -> Gathered:
    """What a move statement names: the voter's events on this site (their drafts too), and what still stands."""
    out = _standing(log, voter, None, None)
    if log.head(DRAFT_STREAM).seq:
        out.named += [e.hash for e in log.read(DRAFT_STREAM) if e.actor == voter]
    return out


def inherited_of(log: EventLog, parent: str, cut: dict[str, int], voter: str, confirmed: set[str]) -> Gathered:
    """What a fork's confirmation carries: the voter's standing on the parent at the cut, held here as the parent's."""
    return _standing(log, voter, parent, cut, trusters=confirmed)
