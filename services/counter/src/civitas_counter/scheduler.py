"""Compiling voter lists and counts on a schedule, at times nobody can predict exactly.

Votorola advised a random element in the timing of a public site's snapshots, so that nobody can
time a burst of registrations or votes to the moment of a count.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from civitas_kernel.commands import CommandError

log = logging.getLogger("civitas.scheduler")


def next_delay(every_s: float, jitter: float, rng: random.Random) -> float:
    """The wait before the next compile: `every_s`, moved by up to ±jitter of itself."""
    return every_s * (1 + rng.uniform(-jitter, jitter))


class CompileScheduler:
    def __init__(self, compile_all: Callable[[], None], every_s: float, jitter: float = 0.25,
                 rng: random.Random | None = None) -> None:
        self.compile_all, self.every_s, self.jitter = compile_all, every_s, jitter
        self.rng = rng or random.SystemRandom()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="civitas-compile", daemon=True)

    def start(self) -> None:
        if self.every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(next_delay(self.every_s, self.jitter, self.rng)):
            try:
                self.compile_all()
            except Exception:  # a failed compile must not end the schedule; the log says why
                log.exception("scheduled compile failed")



def compile_all(compile: Callable[[str], object], has_polls: Callable[[], bool]) -> None:
    """A new voter list, then a count against it when there are polls."""
    compile("list")
    if has_polls():
        try:
            compile("count")
        except CommandError as e:
            log.warning("count not compiled: %s", e)
