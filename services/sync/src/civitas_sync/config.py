"""The peers a site names, in CIVITAS_HOME/sync.toml; attaching one also pins its key for `civitas audit`."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

from civitas_kernel.signers import KNOWN_SITES, read_known_sites, write_known_sites

from civitas_sync.domain.anchors import DeclaredAnchor, anchor_lines, declared_anchor
from civitas_sync.domain.peers import Network, Peer, TopologyError, attach, detach

SYNC_FILE = "sync.toml"


def read_network(home: Path, site: str) -> Network:
    """The peers named in HOME/sync.toml (none if there is no file); a malformed file says what to fix."""
    path = home / SYNC_FILE
    if not path.exists():
        return Network(site)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid TOML ({e}); fix it or remove it") from None
    peers, network = data.get("peer", []), Network(site)
    if not isinstance(peers, list):
        raise ValueError(f"{path}: write each peer as a [[peer]] table with site, role, url and key")
    for entry in peers:
        try:
            anchors = entry.get("anchor", [])
            if not isinstance(anchors, list):
                raise ValueError("write each anchor as a [[peer.anchor]] table under its peer")
            peer = Peer(str(entry["site"]), str(entry["role"]), str(entry["url"]), bytes.fromhex(str(entry["key"])),
                        tuple(declared_anchor(a) for a in anchors))
        except KeyError as e:
            raise ValueError(f"{path}: a [[peer]] lacks {e.args[0]!r} (each needs site, role, url and key)") from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        try:
            network = attach(network, peer)
        except TopologyError as e:
            raise ValueError(f"{path}: {e}") from None
    return network


def write_network(home: Path, network: Network) -> None:
    """Write the peers atomically."""
    lines = ["# The peers of this site: `civitas sync attach` and `civitas sync detach` keep this file."]
    for p in network.peers:
        lines += ["", "[[peer]]", f"site = {json.dumps(p.site)}", f"role = {json.dumps(p.role)}",
                  f"url = {json.dumps(p.url)}", f"key = \"{p.public_key.hex()}\""]
        for anchor in p.anchors:
            lines += ["", *anchor_lines(anchor)]
    path = home / SYNC_FILE
    home.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)


def pinned_keys(home: Path) -> dict[str, bytes]:
    """Every origin's key this site holds: the sites pinned in known-sites.toml."""
    return read_known_sites(home / KNOWN_SITES)


def attach_peer(home: Path, site: str, peer: Peer, descendants: frozenset[str] = frozenset()) -> Network:
    """Attach `peer` (TopologyError if the network's rules refuse it) and pin its key; writes nothing if refused."""
    known = pinned_keys(home)
    network = attach(read_network(home, site), peer, descendants, known)
    write_network(home, network)
    if known.get(peer.site) != peer.public_key:
        write_known_sites(home / KNOWN_SITES, {**known, peer.site: peer.public_key})
    return network


def detach_peer(home: Path, site: str, peer_site: str) -> Network:
    """Detach a peer; its pinned key stays, so its archives and the events already held still check."""
    network = detach(read_network(home, site), peer_site)
    write_network(home, network)
    return network


def declare_anchor(home: Path, site: str, peer_site: str, anchor: DeclaredAnchor) -> Network:
    """Declare on the link to `peer_site` that `anchor.origin`'s stream is held from `anchor` (replacing an earlier
    declaration of that stream on the link); TopologyError if no such peer is attached."""
    network = read_network(home, site)
    peer = network.peer(peer_site)
    if peer is None:
        raise TopologyError(f"{peer_site} is not attached; attach it first with `civitas sync attach`")
    kept = tuple(a for a in peer.anchors if a.name != anchor.name)
    network = replace(network, peers=tuple(replace(p, anchors=(*kept, anchor)) if p.site == peer_site else p
                                           for p in network.peers))
    write_network(home, network)
    return network
