"""civitas sync: the site network. Peers with pinned keys, the core tree's rules, pull over HTTP."""

from civitas_sync.config import attach_peer, detach_peer, pinned_keys, read_network
from civitas_sync.domain.flows import PUBLIC, UPWARD, EventId
from civitas_sync.domain.peers import ROLES, Network, Peer, TopologyError
from civitas_sync.domain.retries import retry_delay
from civitas_sync.http import sync_router
from civitas_sync.settings import SyncOptions
from civitas_sync.state import load_state
from civitas_sync.worker import SyncWorker

__all__ = [
    "PUBLIC", "ROLES", "UPWARD", "EventId", "Network", "Peer", "SyncOptions", "SyncWorker", "TopologyError",
    "attach_peer", "detach_peer", "load_state", "pinned_keys", "read_network", "retry_delay", "sync_router",
]
