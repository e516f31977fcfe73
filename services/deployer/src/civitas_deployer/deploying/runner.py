"""The seam between the deployment engine and what runs a release: content on the embedded site, processes in host
mode. The engine decides and journals; a Runner only builds, starts, checks, switches and stops."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

MAX_LOG_TAIL = 4096  # what an incident keeps of a release's output


class ReleaseFailed(Exception):
    """A release failed at `phase` (building, starting, health, switching): why, and the tail of what it wrote."""

    def __init__(self, phase: str, reason: str, log_tail: str = "") -> None:
        super().__init__(f"{phase}: {reason}")
        self.phase, self.reason, self.log_tail = phase, reason, log_tail[-MAX_LOG_TAIL:]


@dataclass
class Candidate:
    """A release started beside the one that serves; `details` is the runner's own (processes, ports)."""

    commit: str
    previous: str | None  # the release serving when it started
    details: dict[str, Any] = field(default_factory=dict)


class Runner(Protocol):
    def prepare(self, commit: str, tree: Path) -> None:
        """Build the release exported at `tree`; raise ReleaseFailed("building", ...)."""

    def start(self, commit: str) -> Candidate:
        """Start the release beside the serving one; raise ReleaseFailed("starting", ...)."""

    def check(self, candidate: Candidate, window_s: float) -> None:
        """Health within `window_s` seconds (ready, smoke, no crash, no hang); raise ReleaseFailed("health", ...)."""

    def switch(self, candidate: Candidate) -> None:
        """Send the site's traffic to the candidate and stop the old release."""

    def stop(self, candidate: Candidate) -> None:
        """Stop the candidate; the release that served before it serves alone."""

    def recover(self) -> None:
        """After a crash: leave only the live release running."""
