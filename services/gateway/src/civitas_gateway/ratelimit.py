"""Rate limits: token buckets in memory, one per key (a client address, a voter, an email address).

A limit is written `COUNT/PERIOD`, e.g. `5/10min`, `120/1min`, `10/s`, `1000/1h`. A bucket holds
COUNT tokens and refills evenly over PERIOD, so bursts up to COUNT pass and the long-run rate is
COUNT per PERIOD. Exceeding it answers 429 with Retry-After. Buckets live in one process: a site
run as several gateway replicas gets each replica's limit (acceptable for abuse control).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from civitas_kernel.service.problems import Problem, problem_response

_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([a-z]+)\s*")
SWEEP_EVERY = 1024  # takes between sweeps that forget full buckets, so memory stays bounded


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @classmethod
    def parse(cls, value: object) -> Rate:
        """`5/10min` -> Rate(5, 600); a Rate passes through (so it works as a pydantic validator)."""
        if isinstance(value, Rate):
            return value
        match = _RATE.fullmatch(str(value).lower())
        if not match or match[3] not in _UNITS:
            raise ValueError(f"{value!r} is not a rate: write COUNT/PERIOD such as 5/10min, 120/1min, 10/s, 1000/1h")
        count, amount, unit = int(match[1]), float(match[2] or 1), _UNITS[match[3]]
        if count < 1 or amount <= 0:
            raise ValueError(f"{value!r}: the count and the period must be positive")
        return cls(count, amount * unit)

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


class RateLimiter:
    """Token buckets keyed by any string; `take(key)` spends one token or says how long to wait."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.clock = rate, clock
        self._per_second = rate.count / rate.seconds
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()  # sync routes run in a thread pool
        self._takes = 0

    def take(self, key: str) -> float | None:
        """None if allowed (one token spent), else the seconds until a token is back."""
        now = self.clock()
        with self._lock:
            tokens = self._tokens(key, now)
            self._takes += 1
            if self._takes % SWEEP_EVERY == 0:
                self._sweep(now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self._per_second

    def check(self, key: str, what: str) -> None:
        """Spend a token for `key` or raise a 429 problem saying what was limited."""
        wait = self.take(key)
        if wait is not None:
            raise too_many_requests(wait, what)

    def _tokens(self, key: str, now: float) -> float:
        tokens, then = self._buckets.get(key, (self.rate.count, now))
        return min(self.rate.count, tokens + (now - then) * self._per_second)

    def _sweep(self, now: float) -> None:
        full = [key for key in self._buckets if self._tokens(key, now) >= self.rate.count]
        for key in full:
            del self._buckets[key]


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def too_many_requests(wait: float, what: str) -> Problem:
    return Problem(
        429,
        f"too many {what}; try again in {retry_after(wait)} s",
        kind="rate-limited",
        headers={"Retry-After": retry_after(wait)},
    )


def client_address(scope: Scope) -> str:
    """The client's address: the peer's, or the one a proxy named in CIVITAS_FORWARDED_ALLOW_IPS says it forwards for."""
    client = scope.get("client")
    return client[0] if client else "unknown"


class AddressRateLimit:
    """ASGI middleware: every HTTP request spends a token of its client address's bucket, but those `exempt` names
    (the deployer's smoke requests, which a flood must not turn against a deployment)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, exempt: Callable[[Scope], bool] | None = None) -> None:
        self.app, self.limiter, self.exempt = app, limiter, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(client_address(scope))
        if wait is None:
            await self.app(scope, receive, send)
            return
        # Middleware sits outside the exception handlers, so it answers the problem itself.
        problem = too_many_requests(wait, "requests from your address")
        response = problem_response(429, problem.detail, kind=problem.kind, headers=problem.headers)
        await response(scope, receive, send)
