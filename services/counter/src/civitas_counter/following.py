"""The counter's consumer loop: every stream from Kafka into the replica, connecting again when the broker is away."""

from __future__ import annotations

import asyncio
import logging
import time

from civitas_kernel.kafka import StreamConsumer

log = logging.getLogger("civitas.counter")


class Follower:
    """The consumer loop: connects (retrying), polls, and remembers when a round last went well."""

    def __init__(self, consumer: StreamConsumer) -> None:
        self.consumer = consumer
        self.started = False
        self.last_success = 0.0
        self.last_error: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="counter-consumer")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        while not self._stop.is_set() and not self.started:
            try:
                await self.consumer.start()
                self.started = True
            except Exception as error:  # noqa: BLE001 - the broker may come up after us
                self.last_error = repr(error)
                log.warning("cannot reach Kafka yet, retrying: %r", error)
                await self.consumer.stop()
                await asyncio.sleep(1.0)
        while not self._stop.is_set():
            try:
                await self.consumer.poll(timeout_ms=200)
                self.last_success, self.last_error = time.monotonic(), None
            except Exception as error:  # noqa: BLE001 - the round was rolled back; keep consuming
                self.last_error = repr(error)
                log.warning("consumer round failed, retrying: %r", error)
                await asyncio.sleep(0.5)
