"""Publishing an owner's log to Kafka: right after each command (in its trace), and by a loop that retries."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.errors import KafkaError

from civitas_kernel.kafka import KafkaSettings, OutboxRelay
from civitas_kernel.sql.base import SqlEventLog

log = logging.getLogger("civitas.outbox")

# The loop leaves what a command appended this recently to that command's own round, which publishes in its trace;
# while a command is still on its way to its round (a loaded machine may take seconds), it waits as long as
# the command does.
HANDOFF_S = 1.0


class Publisher:
    """One OutboxRelay, driven by one lock so the command path and the loop never publish the same events twice at once."""

    def __init__(self, log_: SqlEventLog, kafka: KafkaSettings, streams: tuple[str, ...], *, retry_s: float = 0.5,
                 wait_s: float = 1.0) -> None:
        self.log, self.streams, self.retry_s, self.wait_s = log_, streams, retry_s, wait_s
        self.relay = OutboxRelay(log_, kafka, streams, name="outbox")
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._next: tuple[asyncio.Future, contextvars.Context] | None = None  # the round requests wait for
        self._running = False
        self._on_their_way = 0  # commands between their append and the end of their round
        self.started = False
        self.last_error: str | None = None
        self.last_success = 0.0

    async def start(self) -> None:
        """Connect (retrying until the broker answers, so the service can come up before Kafka) and start the loop."""
        self._task = asyncio.create_task(self._loop(), name="outbox-loop")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.relay.stop()

    @asynccontextmanager
    async def command(self) -> AsyncIterator[None]:
        """Around a command's append and its publish_now: the loop leaves its events to it meanwhile."""
        self._on_their_way += 1
        try:
            yield
        finally:
            self._on_their_way -= 1

    async def publish_now(self) -> None:
        """Publish what is pending, waiting for Kafka's ack up to `wait_s` (never failing: the loop retries).

        Requests that arrive while a round is publishing share the next round, so a burst of commands
        costs one round trip to the broker, not one each. Each round runs in the trace context of the
        first request that asked for it, so its producer span joins that command's trace.
        """
        if not self.started:
            self._wake.set()
            return
        if self._next is None:
            self._next = (asyncio.get_running_loop().create_future(), contextvars.copy_context())
        round_done = self._next[0]  # taken before a round may start and clear _next
        if not self._running:
            self._start_round()
        done, _ = await asyncio.wait({round_done}, timeout=self.wait_s)
        if not done:
            self._wake.set()

    def _start_round(self) -> None:
        future, context = self._next
        self._next, self._running = None, True
        asyncio.get_running_loop().create_task(self._round(future), context=context)

    async def _round(self, future: asyncio.Future) -> None:
        try:
            await self._publish_once(read_log=False)  # what the commands just appended; the loop reads the log
        finally:
            if not future.done():
                future.set_result(None)
            self._running = False
            if self._next is not None:
                self._start_round()

    async def _publish_once(self, *, read_log: bool = True) -> int:
        async with self._lock:
            try:
                # The loop's rounds (read_log) leave a command's fresh events to that command's own round.
                if not read_log:
                    published = await self.relay.publish_pending(read_log=False)
                elif self._on_their_way:
                    # A command's append may be committed but not yet handed over: reading the log would take it.
                    published = await self.relay.publish_pending(read_log=False,
                                                                 leave_recent_s=max(HANDOFF_S, self.wait_s))
                else:
                    published = await self.relay.publish_pending(leave_recent_s=HANDOFF_S)
            except KafkaError as error:
                self.last_error = repr(error)
                log.warning("publishing failed, the loop retries: %r", error)
                self._wake.set()
                return 0
            self.last_error, self.last_success = None, time.monotonic()
            return published

    async def _connect(self) -> None:
        while not self._stop.is_set():
            try:
                await self.relay.start()
                self.started = True
                return
            except (KafkaError, OSError) as error:
                self.last_error = repr(error)
                log.warning("cannot reach Kafka yet, retrying: %r", error)
                await self.relay.stop()
                await self._sleep(self.retry_s * 2)

    async def _loop(self) -> None:
        await self._connect()
        while not self._stop.is_set():
            try:
                published = await self._publish_once()
            except Exception as error:  # noqa: BLE001 - e.g. the database blinked; keep the loop alive
                self.last_error = repr(error)
                log.exception("outbox loop round failed")
                published = 0
            if not published:
                await self._sleep(self.retry_s if self.last_error else self.relay.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    def unpublished(self) -> int:
        """Events the log holds beyond what Kafka acknowledged (blocking: call from a thread)."""
        site = self.log.site
        return sum(max(0, self.log.head(s).seq - self.relay.acknowledged(site, s)) for s in self.streams)
