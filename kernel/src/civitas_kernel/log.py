"""The one interface of the event log, whatever stores it."""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry import metrics

from civitas_schema.v1 import envelope_pb2

from civitas_kernel import telemetry
from civitas_kernel.anchors import Anchor
from civitas_kernel.errors import InvalidAppendError
from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.signing import SiteKey

STREAM_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
MAX_BATCH = 100_000
READ_PAGE = 5_000


@dataclass(frozen=True, slots=True)
class Position:
    """Where a site-stream stands: the last position and its event's own hash."""

    seq: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    site: str
    stream: str
    first_seq: int
    last_seq: int
    duplicate: bool = False  # the idempotency key was seen before: nothing new was appended


@dataclass(frozen=True, slots=True)
class KeptReply:
    """A keyed command's request (its digest) and the reply it got, kept with its events so a retry gets that reply."""

    caller: str
    key: str
    request: bytes
    reply: bytes


@dataclass(frozen=True, slots=True)
class StreamReport:
    site: str
    stream: str
    events: int
    checkpoints: int
    head: Position
    anchor: int = 0  # verified from the origin's signed anchor at this position (0: from position 1)


@dataclass
class VerifyReport:
    streams: list[StreamReport] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.streams)


class IngestRange(Protocol):
    """A run of a site-stream to add, and the site's checkpoint closing it (read once events are consumed)."""

    stream: str

    @property
    def events(self) -> Iterable[RecordedEvent]: ...

    @property
    def checkpoint(self) -> envelope_pb2.SignedCheckpoint: ...


Progress = Callable[[int], None]
# Told of every append once it is committed: (site, stream, sealed (seq, own hash, raw envelope) in order, the
# serialised SignedCheckpoint closing them). Called on the appending thread: keep it short and thread-safe.
AppendListener = Callable[[str, str, Sequence[tuple[int, bytes, bytes]], bytes], None]


def check_append(stream: str, events: Sequence[NewEvent]) -> None:
    if not STREAM_NAME.fullmatch(stream):
        raise InvalidAppendError(f"stream name {stream!r} is not valid: use lower-case letters, digits, '-' or '_'")
    if not events:
        raise InvalidAppendError("nothing to append: a batch needs at least one event")
    if len(events) > MAX_BATCH:
        raise InvalidAppendError(f"a batch holds at most {MAX_BATCH} events; split the batch")


class EventLog(ABC):
    """An append-only log of hash-chained events, per (site, stream), signed by checkpoints.

    The site appends its own events (sealing them); events of other sites arrive only through
    ingest, which accepts nothing that does not continue the chain already held.
    """

    site: str
    key: SiteKey

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        self._appended = threading.Condition()
        self._listeners: list[AppendListener] = []
        self._metrics = telemetry.instruments(meter_provider)

    def on_append(self, listener: AppendListener) -> None:
        """Tell `listener` of every append this object commits from now on (e.g. an outbox relay in this process)."""
        self._listeners.append(listener)

    @abstractmethod
    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """Append an atomic batch to this site's stream.

        expected_seq: the position the caller last saw; a different head raises ConcurrencyError.
        idempotency_key: a retried command with the same key appends nothing and returns the first result.
        """

    @abstractmethod
    def append_batches(self, batches: Sequence[tuple[str, Sequence[NewEvent], int | None]], *,
                       replies: Sequence[KeptReply] = ()) -> list[AppendResult]:
        """Append several streams' batches in one transaction: all of them, or (on any error) none.

        Each batch is (stream, events, expected_seq); a different head raises ConcurrencyError.
        replies: keyed commands' replies to keep in the same transaction (there may be no batch at all);
        a (caller, key) kept meanwhile by another writer raises ConcurrencyError too.
        """

    @abstractmethod
    def kept_reply(self, caller: str, key: str) -> KeptReply | None:
        """The request and reply kept for `caller`'s idempotency key, if a command with it was written."""

    @abstractmethod
    def idempotent_result(self, idempotency_key: str) -> AppendResult | None:
        """What the append that first used this key appended, if any did."""

    @abstractmethod
    def read(
        self, stream: str, *, site: str | None = None, after: int = 0, until: int | None = None
    ) -> Iterator[RecordedEvent]:
        """Events after `after` up to `until` (inclusive), in order."""

    @abstractmethod
    def head(self, stream: str, *, site: str | None = None) -> Position:
        """Where a site-stream stands; position 0 when it is empty."""

    @abstractmethod
    def streams(self) -> list[tuple[str, str, Position]]:
        """Every (site, stream) held, with its head, sorted."""

    @abstractmethod
    def checkpoints(self, stream: str, *, site: str | None = None) -> list[envelope_pb2.SignedCheckpoint]:
        """Signed checkpoints of a site-stream, by position."""

    @abstractmethod
    def public_key_of(self, site: str) -> bytes | None:
        """The key a site's checkpoints are signed with, as first recorded here."""

    @abstractmethod
    def ingest(self, site: str, public_key: bytes, ranges: Iterable[IngestRange], *,
               anchors: Mapping[str, bytes] | None = None) -> int:
        """Add verified events of a site atomically; returns how many were new.

        anchors: per stream, the site's signed checkpoint (serialised) to hold the stream from when this log holds
        none of it yet (civitas_kernel.anchors); checked against `public_key`, and against what is held if some is.
        """

    @abstractmethod
    def anchor(self, stream: str, *, site: str | None = None) -> Anchor | None:
        """Where this log holds a site-stream from, if from an anchor rather than position 1."""

    @abstractmethod
    def verify(
        self, *, site: str | None = None, stream: str | None = None, progress: Progress | None = None
    ) -> VerifyReport:
        """Re-check every stored event and checkpoint; raises IntegrityError at the first problem."""

    def follow(
        self,
        stream: str,
        *,
        site: str | None = None,
        after: int = 0,
        poll_interval: float = 0.5,
        stop: threading.Event | None = None,
    ) -> Iterator[RecordedEvent]:
        """Tail a stream: yield events after `after` as they are appended, until `stop` is set."""
        stop = stop or threading.Event()
        position = after
        while not stop.is_set():
            delivered = False
            for event in self.read(stream, site=site, after=position):
                position = event.seq
                delivered = True
                yield event
            if not delivered:
                with self._appended:
                    self._appended.wait(poll_interval)

    def _notify_appended(self, written: Sequence[tuple[str, Sequence[tuple[int, bytes, bytes]], bytes]] = ()) -> None:
        """After a commit: wake followers, and tell listeners what was sealed ((stream, sealed, checkpoint) per stream)."""
        for stream, sealed, checkpoint in written:
            self._metrics.events_appended.add(len(sealed), {"civitas.stream": stream})
            for listener in self._listeners:
                listener(self.site, stream, sealed, checkpoint)
        with self._appended:
            self._appended.notify_all()
