"""The operator's token used after the lock-out: refused (403 locked-down) and the attempt recorded in the log.

Only the real token, presented on a locked-down site, is recorded: a wrong token or a voter's session is refused as
always and writes nothing, so no stranger can fill the log, and no record names a voter. Of each kind, at most one
event a minute is written; the attempts between are counted in the next one (`folded`), so whoever holds the old
token cannot flood the log either. The token itself is never written.
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
EVERY_US = 60_000_000  # one event a minute of each kind
MAX_ROUTE = 200
SHOWN = 200  # the newest attempts a page reads


def _now_us() -> int:
    return time.time_ns() // 1000


class RefusedAttempts:
    """Decides which refused attempts become events (one a minute of each kind), and writes them with `append`."""

    def __init__(self, append: Callable[[NewEvent], None] | None, clock: Callable[[], int] = _now_us) -> None:
        self.append, self.clock = append, clock
        self._written: dict[str, int] = {}  # kind -> when its last event was written
        self._folded: dict[str, int] = {}  # kind -> attempts since, not written
        self._lock = threading.Lock()

    def event(self, kind: str, method: str, route: str, client: str) -> NewEvent | None:
        """The event to write for this attempt, or None when one was written in the last minute (it is counted)."""
        now = self.clock()
        with self._lock:
            last = self._written.get(kind)
            if last is not None and now - last < EVERY_US:
                self._folded[kind] = self._folded.get(kind, 0) + 1
                return None
            self._written[kind], folded = now, self._folded.pop(kind, 0)
        return NewEvent.of(lockout_pb2.OperatorRefused(kind=kind, method=method[:16], route=route[:MAX_ROUTE],
                                                       client=client[:64], at_us=now, folded=folded), ACTOR)

    def note(self, kind: str, method: str, route: str, client: str) -> None:
        event = self.event(kind, method, route, client)
        if event is not None and self.append is not None:
            self.append(event)


def appender_of(log) -> Callable[[NewEvent], None] | None:
    """Where the events go: the site's own log; None where the gateway holds no log it may write (another process)."""
    if not callable(getattr(log, "append", None)):
        return None
    return lambda event: log.append(STREAM, [event])


def refused_attempts(log, limit: int = SHOWN) -> list[dict]:
    """The newest refused attempts recorded, newest first (at most `limit`: a read is bounded)."""
    try:
        head = log.head(STREAM).seq
    except Exception:  # a log that does not hold the stream here (the deployer's, another process's)
        return []
    found = []
    for recorded in log.read(STREAM, after=max(0, head - limit)):
        m = recorded.message()
        if isinstance(m, lockout_pb2.OperatorRefused):
            found.append({"kind": m.kind, "method": m.method, "route": m.route, "client": m.client,
                          "at_us": m.at_us, "folded": m.folded})
    return found[::-1]
