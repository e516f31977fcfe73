"""What a site remembers of each peer between runs, in CIVITAS_HOME/sync/state.json: when to try it next (the
backoff survives a restart), when it last answered, its heads and errors, and the evidence of any split view.
The cursors are not here: they are the log's own heads, moved in the same transaction as the events."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = Path("sync") / "state.json"


@dataclass
class PeerState:
    failures: int = 0
    next_attempt: float = 0.0  # unix seconds; 0: at once
    last_contact: float | None = None  # last time the peer answered
    last_error: str | None = None
    remote: dict[str, dict] = field(default_factory=dict)  # "origin/stream" -> {"seq", "hash", "error"}
    evidence: list[dict] = field(default_factory=list)  # split views seen: both signed checkpoints
    refused_rules: list[str] = field(default_factory=list)  # list rules it served that were not kept, and why

    @property
    def frozen(self) -> frozenset[str]:
        return frozenset(f"{e['origin']}/{e['stream']}" for e in self.evidence)


@dataclass
class SyncState:
    peers: dict[str, PeerState] = field(default_factory=dict)

    def of(self, site: str) -> PeerState:
        return self.peers.setdefault(site, PeerState())

    def origins_from(self, sites: set[str]) -> frozenset[str]:
        """Every origin received from any of `sites`."""
        return frozenset(key.partition("/")[0] for s in sites if s in self.peers for key in self.peers[s].remote)


def load_state(home: Path) -> SyncState:
    path = home / STATE_FILE
    if not path.exists():
        return SyncState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SyncState({site: PeerState(**entry) for site, entry in data.get("peers", {}).items()})
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path} is not a sync state file ({e}); remove it to start the schedule afresh "
                         "(the cursors are in the log and stay)") from None


def save_state(home: Path, state: SyncState) -> None:
    path = home / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"peers": {s: asdict(p) for s, p in sorted(state.peers.items())}}, indent=1),
                       encoding="utf-8")
    partial.replace(path)
