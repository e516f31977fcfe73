"""Taking a parent site's cut for a fork: its public streams pulled as they are, origin-signed and verified with
the parent's pinned key (never re-sealed), up to the heads it signed in one exchange; those signed heads are the cut."""

from __future__ import annotations

import httpx

from civitas_kernel.errors import IntegrityError, LogError
from civitas_kernel.log import EventLog

from civitas_sync.domain.peers import Peer
from civitas_sync.pulling import PeerUnreachable, Puller
from civitas_sync.serving import signed_at


class ForkRefused(Exception):
    """The parent's log cannot be forked from as served; the message says why. Nothing is kept."""


def take_cut(log: EventLog, parent: str, url: str, parent_key: bytes, *, in_flight: int = 4,
             client: httpx.Client | None = None) -> list[bytes]:
    """Pull the parent's public streams into `log` (which holds nothing of the parent yet) up to the heads it
    serves now, each verified with `parent_key`; returns the parent's SignedCheckpoint at each stream's cut."""
    if any(site == parent for site, _, _ in log.streams()):
        raise ForkRefused(f"this log holds events of {parent} already; a fork starts from an empty site")
    peer = Peer(parent, "source", url, parent_key)  # a source: the public input, never doubt
    own = client is None
    client = client or httpx.Client(timeout=30)
    try:
        report = Puller(log, peer, {}, client, in_flight=in_flight).run()
    except PeerUnreachable as e:
        raise ForkRefused(f"the parent does not answer as a civitas site: {e}") from None
    finally:
        if own:
            client.close()
    # Only the parent's own streams make the cut; other sites' streams it holds are not taken (no key pinned here).
    problems = [f"{s.origin}/{s.stream}: {s.error}" for s in report.streams if s.error and s.origin == parent]
    if problems:
        raise ForkRefused("the parent's log does not verify with the key given: " + "; ".join(problems))
    if not any(s.origin == parent for s in report.streams):
        raise ForkRefused(f"{parent} at {url} serves no streams of its own to fork from")
    try:
        log.verify(site=parent)
    except (IntegrityError, LogError) as e:
        raise ForkRefused(f"the parent's log does not verify: {e}") from None
    heads = []
    for outcome in sorted(report.streams, key=lambda s: s.stream):
        if outcome.origin != parent or outcome.local == 0:
            continue
        signed = signed_at(log, parent, outcome.stream, outcome.local)
        if signed is None:  # ingest ends every range where the origin signed: a head without one is not a cut
            raise ForkRefused(f"{parent}/{outcome.stream}: no head signed by the parent at {outcome.local}")
        heads.append(signed)
    return heads
