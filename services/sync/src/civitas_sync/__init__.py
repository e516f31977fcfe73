"""civitas sync: the site network. Peers with pinned keys, the core tree's rules, pull over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civitas_kernel.lazy_names import lazy_names

if TYPE_CHECKING:
    from civitas_sync.anchoring import served_anchor
    from civitas_sync.config import attach_peer, declare_anchor, detach_peer, pinned_keys, read_network
    from civitas_sync.domain.anchors import anchor_lines
    from civitas_sync.domain.flows import PUBLIC, UPWARD, EventId
    from civitas_sync.domain.peers import ROLES, Network, Peer, TopologyError
    from civitas_sync.domain.retries import retry_delay
    from civitas_sync.forking import ForkRefused, take_cut
    from civitas_sync.http import sync_router
    from civitas_sync.overview import network_view
    from civitas_sync.rules import held_rules
    from civitas_sync.settings import SyncOptions
    from civitas_sync.state import load_state
    from civitas_sync.worker import SyncWorker

# Loaded on first use: `civitas sync --help` names the roles without importing the HTTP stack.
_HOMES = {
    "served_anchor": "anchoring", "declare_anchor": "config", "anchor_lines": "domain.anchors",
    "attach_peer": "config", "detach_peer": "config", "pinned_keys": "config", "read_network": "config",
    "PUBLIC": "domain.flows", "UPWARD": "domain.flows", "EventId": "domain.flows",
    "ROLES": "domain.peers", "Network": "domain.peers", "Peer": "domain.peers", "TopologyError": "domain.peers",
    "retry_delay": "domain.retries", "sync_router": "http", "network_view": "overview", "SyncOptions": "settings",
    "load_state": "state", "SyncWorker": "worker", "held_rules": "rules", "ForkRefused": "forking", "take_cut": "forking",
}

__all__ = [
    "PUBLIC", "ROLES", "UPWARD", "EventId", "ForkRefused", "Network", "Peer", "SyncOptions", "SyncWorker",
    "TopologyError", "anchor_lines", "attach_peer", "declare_anchor", "detach_peer", "held_rules", "load_state",
    "network_view", "pinned_keys", "read_network", "retry_delay", "served_anchor", "sync_router", "take_cut",
]


__getattr__ = lazy_names(__name__, _HOMES)
