"""Where a consumer fills a gap Kafka left: the log of record, event by event, with the checkpoints that close appends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from civitas_kernel.events import RecordedEvent
from civitas_kernel.sql.base import SqlEventLog

Sealed = tuple[RecordedEvent, bytes | None]  # an event and the site's SignedCheckpoint at its position, if any


class Source(Protocol):
    def sealed(self, stream: str, *, site: str, after: int, until: int) -> Iterable[Sealed]:
        """Events of (site, stream) after `after` up to `until`, in order, each with its checkpoint if one closes there."""


class LogSource:
    """A Source over an SQL log this process can open itself."""

    def __init__(self, log: SqlEventLog) -> None:
        self.log = log

    def sealed(self, stream: str, *, site: str, after: int, until: int) -> Iterator[Sealed]:
        checkpoints = self.log.checkpoints_between(stream, site=site, after=after, until=until)
        for event in self.log.read(stream, site=site, after=after, until=until):
            yield event, checkpoints.get(event.seq)
