"""A site's peers and the shape of the network: the core tree stays a tree; peripheral links may loop.

Each peer is named from this site's point of view by its role:
- `super`: this site's super-site, which pulls this site's registration and trust (and its sub-sites');
- `sub`: a sub-site, from which this site pulls registration and trust (its own and its sub-sites');
- `source`: a site this one, as a peripheral site, pulls the public voter input from (core or peripheral);
- `peripheral`: a peripheral site that pulls the public voter input from this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from civitas_sync.domain.anchors import DeclaredAnchor

ROLES = ("super", "sub", "source", "peripheral")
PULLS_FROM = ("sub", "source")  # the roles this site pulls from; the others pull from it
SITE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
URL = re.compile(r"https?://[^\s/]+(/[^\s]*)?")


class TopologyError(ValueError):
    """A peer that would break the network's rules (a second super-site, a cycle in the core tree, ...)."""


@dataclass(frozen=True)
class Peer:
    site: str
    role: str
    url: str  # where its sync pages are served, e.g. http://127.0.0.1:8000
    public_key: bytes  # pinned: no trust on first use between sites
    anchors: tuple[DeclaredAnchor, ...] = ()  # streams pulled over this link from an origin's signed head, not from 1

    def __post_init__(self) -> None:
        if not SITE_NAME.fullmatch(self.site):
            raise ValueError(f"peer name {self.site!r} is not a DNS-style site name such as civitas.example.org")
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        if not URL.fullmatch(self.url):
            raise ValueError(f"url {self.url!r} is not an http(s) URL such as http://127.0.0.1:8000")
        if len(self.public_key) != 32:
            raise ValueError(f"the key of {self.site} must be 32 bytes (64 hex digits, what `civitas site` prints there)")
        if self.anchors and self.role not in PULLS_FROM:
            raise ValueError(f"{self.site} is a {self.role} peer, which pulls from this site: an anchor is declared "
                             "only on a link this site pulls from (sub or source)")
        names = [a.name for a in self.anchors]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.site}: declare each stream's anchor once ({', '.join(sorted(names))})")

    def anchor(self, origin: str, stream: str) -> DeclaredAnchor | None:
        """The anchor declared on this link for origin/stream, if any."""
        return next((a for a in self.anchors if (a.origin, a.stream) == (origin, stream)), None)

    @property
    def pulled(self) -> bool:
        """Whether this site pulls from the peer (else the peer pulls from this site)."""
        return self.role in PULLS_FROM

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")


@dataclass(frozen=True)
class Network:
    """This site and its peers, as its configuration names them."""

    site: str
    peers: tuple[Peer, ...] = ()

    def peer(self, site: str) -> Peer | None:
        return next((p for p in self.peers if p.site == site), None)

    @property
    def super_site(self) -> Peer | None:
        return next((p for p in self.peers if p.role == "super"), None)

    def with_role(self, *roles: str) -> tuple[Peer, ...]:
        return tuple(p for p in self.peers if p.role in roles)


def attach(network: Network, peer: Peer, descendants: frozenset[str] = frozenset(),
           known_keys: dict[str, bytes] | None = None) -> Network:
    """The network with `peer` attached, or TopologyError saying why not.

    descendants: the sites known to be below this one in the core tree (its sub-sites and the origins it holds
    from them); known_keys: keys already pinned for sites (a site back under its name with another key is refused).
    """
    if peer.site == network.site:
        raise TopologyError(f"{peer.site} is this site itself; a site is not its own peer")
    held = network.peer(peer.site)
    if held is not None:
        if replace(held, anchors=()) == replace(peer, anchors=()):
            return network  # attached again as it is: its declared anchors stay
        raise TopologyError(f"{peer.site} is already attached as {held.role} at {held.url}; "
                            f"detach it first (`civitas sync detach {peer.site}`)")
    pinned = (known_keys or {}).get(peer.site)
    if pinned is not None and pinned != peer.public_key:
        raise TopologyError(f"{peer.site} is pinned with another key ({pinned.hex()}); a site back under the same "
                            "name with a new key is refused: check with its operator, then unpin it by hand")
    if peer.role == "super":
        current = network.super_site
        if current is not None:
            raise TopologyError(f"this site already has a super-site, {current.site}; the core tree gives each "
                                "site one (detach it first)")
        if peer.site in descendants:
            raise TopologyError(f"{peer.site} is below this site in the core tree; making it the super-site "
                                "would close a cycle")
    if peer.role == "sub":
        above = network.super_site
        if above is not None and above.site == peer.site:
            raise TopologyError(f"{peer.site} is this site's super-site; it cannot also be its sub-site")
    return replace(network, peers=tuple(sorted((*network.peers, peer), key=lambda p: (ROLES.index(p.role), p.site))))


def detach(network: Network, site: str) -> Network:
    if network.peer(site) is None:
        names = ", ".join(p.site for p in network.peers) or "none"
        raise TopologyError(f"{site} is not attached (peers: {names})")
    return replace(network, peers=tuple(p for p in network.peers if p.site != site))
