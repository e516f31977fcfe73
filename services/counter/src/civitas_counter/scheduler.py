"""Compiling voter lists and counts on a schedule, at times nobody can predict exactly.

Votorola advised a random element in the timing of a public site's snapshots, so that nobody can
time a burst of registrations or votes to the moment of a count.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from civitas_kernel.commands import CommandError
from civitas_kernel.periodic import Periodic

log = logging.getLogger("civitas.scheduler")


def next_delay(every_s: float, jitter: float, rng: random.Random) -> float:
    """The wait before the next compile: `every_s`, moved by up to ±jitter of itself."""
    return every_s * (1 + rng.uniform(-jitter, jitter))


class CompileScheduler(Periodic):
    """compile_all() at intervals of about every_s, each moved at random by up to ±jitter of itself."""

    def __init__(self, compile_all: Callable[[], None], every_s: float, jitter: float = 0.25,
                 rng: random.Random | None = None) -> None:
        self.jitter, self.rng = jitter, rng or random.SystemRandom()
        super().__init__(compile_all, lambda: next_delay(every_s, jitter, self.rng), name="civitas-compile",
                         every_s=every_s)


def compile_all(compile: Callable[[str], object], has_polls: Callable[[], bool]) -> None:
    """A new voter list, then a count against it when there are polls."""
    compile("list")
    if has_polls():
        try:
            compile("count")
        except CommandError as e:
            log.warning("count not compiled: %s", e)
