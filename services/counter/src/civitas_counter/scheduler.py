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
                 rng: random.Random | None = None, rules: Callable[[], object] | None = None) -> None:
        self.jitter, self.rng, self.rules = jitter, rng or random.SystemRandom(), rules
        if rules is None:
            super().__init__(compile_all, lambda: next_delay(every_s, jitter, self.rng), name="civitas-compile",
                             every_s=every_s)
            return
        # the schedule of the rules in force (rules.toml of the live release): asked before every wait, so a
        # deployed change applies from the next compile; "never" is asked again each minute
        super().__init__(self._when_due(compile_all), self._next_wait, name="civitas-compile", every_s=1)

    def _next_wait(self) -> float:
        rules = self.rules()
        every = rules.compile_every_minutes * 60
        return next_delay(every, rules.compile_jitter, self.rng) if every > 0 else NEVER_RECHECK_S

    def _when_due(self, compile_all: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            if self.rules().compile_every_minutes > 0:
                compile_all()
        return run


NEVER_RECHECK_S = 60  # with scheduled compiles off by the rules, how often they are read again


def compile_all(compile: Callable[[str], object], has_polls: Callable[[], bool]) -> None:
    """A new voter list, then a count against it when there are polls."""
    compile("list")
    if has_polls():
        try:
            compile("count")
        except CommandError as e:
            log.warning("count not compiled: %s", e)
