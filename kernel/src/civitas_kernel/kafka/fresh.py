"""What this process just appended, kept for the outbox relay so it publishes without reading the log back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

MAX_FRESH = 50_000  # events per stream kept in memory for publishing; beyond that (Kafka down), the log is read
Key = tuple[str, str]  # (site, stream)
SealedRow = tuple[int, bytes, bytes]  # (seq, own hash, raw envelope)


class FreshEvents:
    """What this process just appended, per (site, stream), until the relay has published it (thread-safe)."""

    def __init__(self, keys: set[Key]) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._events: dict[Key, dict[int, tuple[bytes, bytes, float]]] = {}  # seq -> (hash, raw, when added)
        self._checkpoints: dict[Key, dict[int, bytes]] = {}

    def add(self, site: str, stream: str, sealed: Sequence[SealedRow], checkpoint: bytes) -> None:
        key = (site, stream)
        if key not in self._keys:
            return
        with self._lock:
            events = self._events.setdefault(key, {})
            if len(events) + len(sealed) > MAX_FRESH:
                events.clear()  # bounded: the relay reads these from the log instead
                self._checkpoints.pop(key, None)
                return
            now = time.monotonic()
            for seq, own_hash, raw in sealed:
                events[seq] = (own_hash, raw, now)
            self._checkpoints.setdefault(key, {})[sealed[-1][0]] = checkpoint

    def take(self, key: Key, after: int, limit: int, *, older_than: float = 0.0
             ) -> tuple[list[SealedRow], dict[int, bytes]] | None:
        """The run of events right after `after` (at most `limit`, added at least `older_than` seconds ago), with
        their checkpoints; None if it is not here."""
        with self._lock:
            events = self._events.get(key)
            if not events or after + 1 not in events:
                return None
            taken, seq, before = [], after + 1, time.monotonic() - older_than
            while seq in events and len(taken) < limit and events[seq][2] <= before:
                own_hash, raw, _ = events[seq]
                taken.append((seq, own_hash, raw))
                seq += 1
            if not taken:
                return None
            checkpoints = self._checkpoints.get(key, {})
            return taken, {s: checkpoints[s] for s, _, _ in taken if s in checkpoints}

    def first(self, key: Key) -> int | None:
        with self._lock:
            events = self._events.get(key)
            return min(events) if events else None

    def forget(self, key: Key, upto: int) -> None:
        """Drop what the broker acknowledged."""
        with self._lock:
            for table in (self._events.get(key), self._checkpoints.get(key)):
                if table:
                    for seq in [s for s in table if s <= upto]:
                        del table[seq]
