"""What each mirror has, what it still needs, and when to try it again: a JSON file, so a restart forgets nothing.

The file holds shown URLs only (never a credential). It is rewritten whole through a temporary file and a rename,
so a crash leaves the old state or the new one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

RETRY_FIRST_S = 30.0  # the wait after a mirror's first failure; it doubles with each failure after
RETRY_MAX_S = 3600.0  # and never passes this
KEPT_TAGS = 1000  # release tags remembered for mirrors that are behind; older ones are pushed with the next


def retry_wait_s(failures: int, first_s: float = RETRY_FIRST_S, max_s: float = RETRY_MAX_S) -> float:
    """Capped exponential backoff: first_s, 2·first_s, 4·first_s … at most max_s (failures ≥ 1)."""
    return min(max_s, first_s * 2 ** min(max(failures - 1, 0), 40))


@dataclass(frozen=True)
class Release:
    """A release that passed its health window: its commit, its tag's name and message."""

    commit: str
    tag: str
    message: str


@dataclass
class RemoteState:
    """One mirror: what it last took, when it was last tried and will be next, and the last error."""

    pushed_commit: str | None = None
    tag: str | None = None
    last_attempt_us: int | None = None
    next_attempt_us: int | None = None
    failures: int = 0
    error: str | None = None


@dataclass
class MirrorState:
    """Every verified release still needed by some mirror (oldest first), and each mirror's state by shown URL."""

    releases: list[Release] = field(default_factory=list)
    remotes: dict[str, RemoteState] = field(default_factory=dict)

    @property
    def latest(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def missing(self, url: str) -> list[Release]:
        """The releases `url` has not taken yet: those after the last tag it took (all, if it took none known)."""
        tags = [r.tag for r in self.releases]
        taken = self.remotes[url].tag
        return self.releases[tags.index(taken) + 1:] if taken in tags else list(self.releases)

    def forget_taken(self) -> None:
        """Drop releases every mirror has (keeping the latest), and the oldest past KEPT_TAGS."""
        keep_from = min((len(self.releases) - len(self.missing(u)) for u in self.remotes), default=0)
        keep_from = max(0, min(keep_from, len(self.releases) - 1), len(self.releases) - KEPT_TAGS)
        del self.releases[:keep_from]

    def to_json(self) -> bytes:
        body = {"releases": [asdict(r) for r in self.releases],
                "remotes": {url: asdict(s) for url, s in sorted(self.remotes.items())}}
        return json.dumps(body, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> MirrorState:
        body = json.loads(data)
        return cls([Release(**r) for r in body.get("releases", [])],
                   {url: RemoteState(**s) for url, s in body.get("remotes", {}).items()})


def load_state(path: Path) -> MirrorState:
    """The state file, or an empty state when there is none yet."""
    try:
        return MirrorState.from_json(path.read_bytes())
    except FileNotFoundError:
        return MirrorState()


def save_state(path: Path, state: MirrorState) -> None:
    """Write the state whole: a temporary file beside it, flushed, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as out:
        out.write(state.to_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
