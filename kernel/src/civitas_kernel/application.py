"""The pattern every service's command layer follows: keep state folded from the log, decide, append.

Decisions are made against the state at a known position and appended with that position as
the expected one; if another writer got there first, the state catches up and the command is
decided again. A retried command carrying a used idempotency key appends nothing.

In a batch (PendingWrites), decided events are folded into the state at once, so the next
command sees them, and all of them are written together in one transaction at flush.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.events import NewEvent, decode_body
from civitas_kernel.log import AppendResult, EventLog, KeptReply

ATTEMPTS = 8
Evolve = Callable[[str, Message, str], None]  # (event type, body, actor)


class PendingWrites:
    """Events decided by a batch of commands and not yet written."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.events: dict[str, list[NewEvent]] = {}
        self.replies: list[KeptReply] = []  # keyed commands' replies, written with the events
        self._expected: dict[str, int] = {}
        self._owners: dict[str, StreamFolder] = {}

    def add(self, folder: StreamFolder, stream: str, events: Sequence[NewEvent]) -> None:
        if stream not in self._expected:
            self._expected[stream], self._owners[stream] = folder.positions[stream], folder
        self.events.setdefault(stream, []).extend(events)

    def flush(self) -> None:
        """Write everything decided so far, atomically; ConcurrencyError if another writer came first."""
        if not self.events and not self.replies:
            return
        batches = [(stream, events, self._expected[stream]) for stream, events in self.events.items()]
        for result in self.log.append_batches(batches, replies=self.replies):
            self._owners[result.stream].positions[result.stream] = result.last_seq
        self.events.clear()
        self.replies.clear()
        self._expected.clear()


class StreamFolder:
    """Folds this site's events of some streams into a state, through `evolve(type, message, actor)`."""

    def __init__(self, log: EventLog, streams: Sequence[str], evolve: Evolve) -> None:
        self.log, self.evolve = log, evolve
        self.positions = {stream: 0 for stream in streams}
        self.pending: PendingWrites | None = None

    def refold(self, evolve: Evolve) -> None:
        """Fold every stream again from the start through `evolve` (a fresh state's), e.g. after its state got
        ahead of the log because a write failed."""
        self.evolve, self.positions = evolve, dict.fromkeys(self.positions, 0)
        pending, self.pending = self.pending, None
        try:
            self.catch_up()
        finally:
            self.pending = pending

    def catch_up(self) -> int:
        if self.pending is not None:
            return 0  # the batch's own events are folded already; another writer's surface at flush
        folded = 0
        for stream, position in self.positions.items():
            for event in self.log.read(stream, after=position):
                self.evolve(event.type, event.message(), event.actor)
                self.positions[stream] = event.seq
                folded += 1
        return folded

    def append(
        self, stream: str, decide: Callable[[], Sequence[NewEvent]], *, idempotency_key: str | None = None
    ) -> AppendResult | None:
        """Decide against the current state and append; None when decide found nothing to write."""
        if self.pending is not None and idempotency_key is None:
            return self._defer(stream, decide())
        if idempotency_key is not None and (prior := self.log.idempotent_result(idempotency_key)) is not None:
            self.catch_up()
            return prior
        for _ in range(ATTEMPTS):
            self.catch_up()
            events = decide()
            if not events:
                return None
            try:
                result = self.log.append(
                    stream, events, expected_seq=self.positions[stream], idempotency_key=idempotency_key
                )
            except ConcurrencyError:
                continue
            self.catch_up()
            return result
        raise ConcurrencyError(self.log.site, stream, self.positions[stream], self.log.head(stream).seq)

    def _defer(self, stream: str, events: Sequence[NewEvent]) -> AppendResult | None:
        if not events:
            return None
        for event in events:
            self.evolve(event.type, decode_body(event.type, event.body), event.actor)
        self.pending.add(self, stream, events)
        return AppendResult(self.log.site, stream, 0, 0)  # positions are known once flushed
