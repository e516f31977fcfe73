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
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from civitas_kernel.errors import ConcurrencyError

MAX_BATCH = 500  # commands per transaction: enough to amortise the commit, small enough to keep latency low

Command = Callable[[], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)


@dataclass(slots=True)
class _Job:
    """Commands handed over together, answered together: one future for one command's result, or for all outcomes."""

    commands: list[tuple[Command, bool]]  # (command, alone)
    future: Future
    single: bool
    outcomes: list[Outcome | None]

    def settle(self) -> None:
        if not self.single:
            self.future.set_result(self.outcomes)
            return
        ok, value = self.outcomes[0]
        self.future.set_result(value) if ok else self.future.set_exception(value)


class GroupWriter:
    def __init__(self, site) -> None:
        self.site = site
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="civitas-writer", daemon=True)
        self._started = threading.Lock()

    def submit(self, command: Command, *, alone: bool = False) -> Future:
        """Queue `command` (which appends through the site's folders) for the next batch; a future of its result.

        alone: run it in a transaction of its own (a command carrying an idempotency key must, so
        that its key is recorded with exactly its events). The command runs on the writer's thread in
        the caller's context, so its spans join the caller's trace. Asyncio callers await
        asyncio.wrap_future(...) of it, holding no thread while they wait.
        """
        return self._put([(command, alone)], single=True)

    def submit_all(self, commands: Sequence[tuple[Command, bool]]) -> Future:
        """Queue several `(command, alone)` at once; a future of their outcomes, in order: (True, result) or (False, error)."""
        return self._put(list(commands), single=False)

    def _put(self, commands: list[tuple[Command, bool]], *, single: bool) -> Future:
        if not self._thread.is_alive():
            with self._started:
                if not self._thread.is_alive():
                    self._thread.start()
        context = contextvars.copy_context()
        job = _Job([(lambda c=command: context.run(c), alone) for command, alone in commands], Future(), single,
                   [None] * len(commands))
        self._queue.put(job)
        return job.future

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            size = len(jobs[0].commands)
            while size < MAX_BATCH:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                size += len(jobs[-1].commands)
            self._write(jobs)

    def _write(self, jobs: list[_Job]) -> None:
        places = [(job, i, command, alone) for job in jobs for i, (command, alone) in enumerate(job.commands)]
        together = [(job, i, command) for job, i, command, alone in places if not alone]
        if together:
            try:
                with self.site.batch():
                    outcomes = [_attempt(command) for _, _, command in together]
            except ConcurrencyError:
                with self.site.lock:
                    outcomes = [_attempt(command) for _, _, command in together]
            except BaseException as e:  # the write itself failed: every command in it failed
                outcomes = [(False, e)] * len(together)
            for (job, i, _), outcome in zip(together, outcomes):
                job.outcomes[i] = outcome
        for job, i, command, alone in places:
            if alone:
                with self.site.lock:
                    job.outcomes[i] = _attempt(command)
        for job in jobs:
            job.settle()


def _attempt(command: Command) -> Outcome:
    try:
        return True, command()
    except Exception as e:  # a refused command: its own error goes back to its caller
        return False, e
