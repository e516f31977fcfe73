"""The pattern every service's command layer follows: keep state folded from the log, decide, append.

Decisions are made against the state at a known position and appended with that position as
the expected one; if another writer got there first, the state catches up and the command is
decided again. A retried command carrying a used idempotency key appends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.events import NewEvent
from civitas_kernel.log import AppendResult, EventLog

ATTEMPTS = 8


class StreamFolder:
    """Folds this site's events of some streams into a state, through `evolve(type, message)`."""

    def __init__(self, log: EventLog, streams: Sequence[str], evolve: Callable[[str, Message], None]) -> None:
        self.log, self.evolve = log, evolve
        self.positions = {stream: 0 for stream in streams}

    def catch_up(self) -> int:
        folded = 0
        for stream, position in self.positions.items():
            for event in self.log.read(stream, after=position):
                self.evolve(event.type, event.message())
                self.positions[stream] = event.seq
                folded += 1
        return folded

    def append(
        self, stream: str, decide: Callable[[], Sequence[NewEvent]], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Decide against the current state and append; decide again if another writer moved the stream."""
        if idempotency_key is not None and (prior := self.log.idempotent_result(idempotency_key)) is not None:
            return prior
        for _ in range(ATTEMPTS):
            self.catch_up()
            events = decide()
            try:
                result = self.log.append(
                    stream, events, expected_seq=self.positions[stream], idempotency_key=idempotency_key
                )
            except ConcurrencyError:
                continue
            self.catch_up()
            return result
        raise ConcurrencyError(self.log.site, stream, self.positions[stream], self.log.head(stream).seq)
