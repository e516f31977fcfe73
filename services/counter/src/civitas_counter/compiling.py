"""Compiling lists and counts at the counter, once its replica holds what the owners held: on request and on a schedule.

A compile is a cut of the replica, so it waits until the replica has reached the positions asked
for (by the gateway, which read them from the owners right after a command), or, on the counter's
own schedule, the positions the owners report at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from civitas_kernel.records import Record
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.problems import Problem

from civitas_counter.records import STREAMS_OF_KIND
from civitas_counter.scheduler import compile_all

POLL_S = 0.05


class ReplicaBehind(Problem):
    def __init__(self, waited_s: float, lag: dict[str, tuple[int, int]]) -> None:
        super().__init__(503, f"the counter's replica is still behind the owners' logs after {waited_s:g}s "
                         f"(stream: held, wanted): {lag}; is Kafka up?", kind="replica-behind")


class Compiler:
    """run(kind): snap, ready, mount and report over the replica; has_polls(): whether the replica holds a poll;
    heads(): the replica's positions; owners: registry and polls."""

    def __init__(self, run: Callable[[str], list[Record]], has_polls: Callable[[], bool],
                 heads: Callable[[], dict[str, int]], owners: dict[str, ServiceClient], wait_s: float) -> None:
        self.run, self.has_polls, self.heads, self.owners, self.wait_s = run, has_polls, heads, owners, wait_s

    def behind(self, wanted: dict[str, int]) -> dict[str, tuple[int, int]]:
        held = self.heads()
        return {s: (held.get(s, 0), seq) for s, seq in wanted.items() if held.get(s, 0) < seq}

    def compile(self, kind: str, wanted: dict[str, int]) -> list[Record]:
        """Snap, ready, mount and report a record of `kind` once the replica holds `wanted` (blocking)."""
        deadline = time.monotonic() + self.wait_s
        while lag := self.behind(wanted):
            if time.monotonic() > deadline:
                raise ReplicaBehind(self.wait_s, lag)
            time.sleep(POLL_S)
        return self.run(kind)

    def owners_heads(self, kind: str) -> dict[str, int]:
        """Where the owners' streams of `kind` stand now."""
        wanted = STREAMS_OF_KIND[kind]
        return {s["stream"]: s["seq"] for owner in self.owners.values() for s in owner.get("/streams")
                if s["stream"] in wanted}

    def compile_all(self) -> None:
        """What the schedule runs: a voter list, then a count against it when there are polls."""
        compile_all(lambda kind: self.compile(kind, self.owners_heads(kind)), self.has_polls)
