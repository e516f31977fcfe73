"""Whether this site's heads moved since a reader last read them: a mark that GET /sync/v1/heads?wait=S&seen=MARK
waits on, so a reader (the counter service, for the origins it lists) hears of what was pulled within a moment, not
at its next poll. Only a hint: the wait is bounded, and what is answered is read from the log as always."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time

from civitas_kernel.log import EventLog

MAX_WAIT_S = 30.0  # the longest a heads request is held
POLL_S = 0.05  # how often a held request looks at the mark: a count in memory, no query


class HeadsMoved:
    """Moved by whatever adds to the log in this process: the sync worker's pulls, the mirror consumers, the site's
    own appends (`watch`). A reader holding an older mark is answered at once."""

    def __init__(self) -> None:
        self._epoch = secrets.token_hex(4)  # another process, another count: a mark from before a restart is stale
        self._count = 0
        self._lock = threading.Lock()
        self._watched: set[int] = set()

    @property
    def mark(self) -> str:
        return f"{self._epoch}-{self._count}"

    def moved(self) -> None:
        with self._lock:
            self._count += 1

    def watch(self, log: EventLog) -> None:
        """Move on every append `log` commits in this process (once per log)."""
        with self._lock:
            if id(log) in self._watched:
                return
            self._watched.add(id(log))
        log.on_append(lambda *_: self.moved())

    async def after(self, seen: str, wait_s: float) -> None:
        """Return once the mark is no longer `seen`, or after wait_s (at most MAX_WAIT_S)."""
        deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
        while self.mark == seen and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
