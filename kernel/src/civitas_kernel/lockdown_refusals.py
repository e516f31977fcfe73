"""The operator's token used after the lock-out: which refused attempts become events of the `lockout` stream.

Only the real token, presented on a locked-down site, is recorded: a wrong token or a voter's session is refused as
always and writes nothing, so no stranger can fill the log, and no record names a voter. Of each kind, at most one
event a minute is written; the attempts between are counted in the next one (`folded`), so whoever holds the old
token cannot flood the log either. The token itself is never written.

The stream's one writer holds this: the embedded gateway (the site's log), or in front of other processes the
deployer service, to which each gateway reports the attempts it refused. The count survives a restart: at start the
writer reads when each kind was last written (`resume`), so the minute holds across it, and at a stop the attempts
counted since are written as one event (`stop`), the newest of them with the others folded into it. Only a process
killed outright loses the attempts of its last minute. A lock-out module: changing it is constitutional.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from civitas_kernel.events import NewEvent
from civitas_schema.v1 import lockout_pb2

STREAM = "lockout"
ACTOR = "operator"  # the attempt was made with the operator's token: whoever made it holds that
OPERATOR_TOKEN = "operator-token"
KINDS = (OPERATOR_TOKEN,)  # what may be refused and recorded; anything else is not an attempt of the lock-out's
EVERY_US = 60_000_000  # one event a minute of each kind
MAX_ROUTE = 200
SHOWN = 200  # the newest attempts a page reads, and what a writer reads back at start

__all__ = ["ACTOR", "EVERY_US", "KINDS", "OPERATOR_TOKEN", "STREAM", "RefusedAttempts", "refused_attempts"]


def _now_us() -> int:
    return time.time_ns() // 1000


class RefusedAttempts:
    """Decides which refused attempts become events (one a minute of each kind), and writes them with `append`."""

    def __init__(self, append: Callable[[NewEvent], None] | None, clock: Callable[[], int] = _now_us) -> None:
        self.append, self.clock = append, clock
        self._written: dict[str, int] = {}  # kind -> when its last event was written
        self._folded: dict[str, int] = {}  # kind -> attempts since, not written
        self._newest: dict[str, tuple[str, str, str, int]] = {}  # kind -> the newest of those (method, ..., at)
        self._lock = threading.Lock()

    def resume(self, log) -> None:
        """At start: when each kind was last written, from the stream (its newest events), so a restart does not
        open a new minute."""
        for attempt in refused_attempts(log)[::-1]:
            self._written[attempt["kind"]] = max(self._written.get(attempt["kind"], 0), attempt["at_us"])

    def event(self, kind: str, method: str, route: str, client: str) -> NewEvent | None:
        """The event to write for this attempt, or None when one was written in the last minute (it is counted)."""
        now = self.clock()
        with self._lock:
            last = self._written.get(kind)
            if last is not None and now - last < EVERY_US:
                self._folded[kind] = self._folded.get(kind, 0) + 1
                self._newest[kind] = (method, route, client, now)
                return None
            self._written[kind], folded = now, self._folded.pop(kind, 0)
            self._newest.pop(kind, None)
        return _refused(kind, method, route, client, now, folded)

    def note(self, kind: str, method: str, route: str, client: str) -> None:
        event = self.event(kind, method, route, client)
        if event is not None and self.append is not None:
            self.append(event)

    def pending(self) -> list[NewEvent]:
        """The attempts counted and not written yet, as one event a kind: the newest, the others folded into it."""
        with self._lock:
            events = [_refused(kind, *self._newest[kind], self._folded[kind] - 1) for kind in sorted(self._folded)]
            for kind in self._folded:
                self._written[kind] = self._newest[kind][3]
            self._folded.clear()
            self._newest.clear()
        return events

    def stop(self) -> None:
        """At a stop: write what was counted since the last event, so the count outlives the process."""
        for event in self.pending():
            if self.append is not None:
                self.append(event)


def _refused(kind: str, method: str, route: str, client: str, at_us: int, folded: int) -> NewEvent:
    return NewEvent.of(lockout_pb2.OperatorRefused(kind=kind, method=method[:16], route=route[:MAX_ROUTE],
                                                   client=client[:64], at_us=at_us, folded=folded), ACTOR)


def refused_attempts(log, limit: int = SHOWN) -> list[dict]:
    """The newest refused attempts recorded, newest first (at most `limit`: a read is bounded).

    A log that does not hold the stream here says none; one that cannot be read now raises (the page says so)."""
    try:
        head = log.head(STREAM).seq
    except (KeyError, AttributeError):  # not a log of this stream (no deployer behind this gateway)
        return []
    found = []
    for recorded in log.read(STREAM, after=max(0, head - limit)):
        m = recorded.message()
        if isinstance(m, lockout_pb2.OperatorRefused):
            found.append({"kind": m.kind, "method": m.method, "route": m.route, "client": m.client,
                          "at_us": m.at_us, "folded": m.folded})
    return found[::-1]
