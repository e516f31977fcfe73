"""Group commit: commands from concurrent requests are decided together and written in one transaction.

Each request hands its command to the writer and waits. The writer takes every command waiting,
runs them in one batch (each sees the ones before it), writes their events at once, and only
then releases the replies, so a reply always means the events are durable. If another writer
moved a stream meanwhile, the batch's commands are decided again one by one.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from civitas_kernel.errors import ConcurrencyError

MAX_BATCH = 500  # commands per transaction: enough to amortise the commit, small enough to keep latency low

Command = Callable[[], Any]


class GroupWriter:
    def __init__(self, site) -> None:
        self.site = site
        self._queue: queue.SimpleQueue[tuple[Command, Future, bool]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="civitas-writer", daemon=True)
        self._started = threading.Lock()

    def submit(self, command: Command, *, alone: bool = False) -> Future:
        """Queue `command` (which appends through the site's folders) for the next batch; a future of its result.

        alone: run it in a transaction of its own (a command carrying an idempotency key must, so
        that its key is recorded with exactly its events). The command runs on the writer's thread in
        the caller's context, so its spans join the caller's trace. Asyncio callers await
        asyncio.wrap_future(...) of it, holding no thread while they wait.
        """
        if not self._thread.is_alive():
            with self._started:
                if not self._thread.is_alive():
                    self._thread.start()
        future: Future = Future()
        context = contextvars.copy_context()
        self._queue.put((lambda: context.run(command), future, alone))
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[Command, Future, bool]]) -> None:
        together = [(command, future) for command, future, alone in batch if not alone]
        if together:
            try:
                with self.site.batch():
                    outcomes = [_attempt(command) for command, _ in together]
            except ConcurrencyError:
                with self.site.lock:
                    outcomes = [_attempt(command) for command, _ in together]
            except BaseException as e:  # the write itself failed: every command in it failed
                outcomes = [(False, e)] * len(together)
            _settle(together, outcomes)
        for command, future, alone in batch:
            if alone:
                with self.site.lock:
                    _settle([(command, future)], [_attempt(command)])


def _settle(commands: list[tuple[Command, Future]], outcomes: list[tuple[bool, Any]]) -> None:
    for (_, future), (ok, value) in zip(commands, outcomes):
        future.set_result(value) if ok else future.set_exception(value)


def _attempt(command: Command) -> tuple[bool, Any]:
    try:
        return True, command()
    except Exception as e:  # a refused command: its own error goes back to its caller
        return False, e
