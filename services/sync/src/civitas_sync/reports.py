"""What a pull from one peer comes to: per stream where it stands, what was added, refused or kept as evidence; and
the two ways a pull stops short (a pruned peer, a peer that does not answer)."""

from __future__ import annotations

from dataclasses import dataclass, field


class Pruned(Exception):
    """The peer no longer holds what this site needs next: `first`, the earliest position it holds, is past it."""

    def __init__(self, first: int) -> None:
        super().__init__(first)
        self.first = first


class PeerUnreachable(Exception):
    """The peer did not answer as a civitas site should (down, timed out, a server error): retried later."""


@dataclass
class StreamOutcome:
    origin: str
    stream: str
    remote: int  # the position the peer's signed head stands at
    remote_hash: str
    local: int = 0  # where this site stands after the pull
    added: int = 0
    error: str | None = None
    evidence: dict | None = None  # two signed, different histories of one stream: kept as proof
    gap: int | None = None  # the peer holds the stream only from here, past what this site needs next: pruned


@dataclass
class PullReport:
    peer: str
    streams: list[StreamOutcome] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what the peer offered that this site does not take
    evidence: list[dict] = field(default_factory=list)  # split views seen in heads this site does not pull
    witnessed: bool = False  # heads compared only: the peer pulls from this site
    rules: list = field(default_factory=list)  # the signed list-rules statements the peer serves

    @property
    def added(self) -> int:
        return sum(s.added for s in self.streams)

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.streams if s.error]
