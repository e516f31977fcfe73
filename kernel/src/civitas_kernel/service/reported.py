"""The reported voter list and count as the counter holds them, fetched over HTTP and parsed once per record."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from civitas_kernel.commands import CommandError
from civitas_kernel.service.calls import ServiceClient, ServiceUnavailable

log = logging.getLogger("civitas.reported")
T = TypeVar("T")


class ReportedRecord(Generic[T]):
    """Callable like Site.reported_list: the parsed reported record of `kind`, or None when none is reported.

    The reported id is asked again after `ttl_s` (records never change, so a known id is never fetched twice).
    If the counter does not answer, the last record known is kept: commands must not stop because counts do.
    """

    def __init__(self, counter: ServiceClient, kind: str, parse: Callable[[bytes], T], ttl_s: float = 1.0) -> None:
        self.counter, self.kind, self.parse, self.ttl_s = counter, kind, parse, ttl_s
        self._lock = threading.Lock()
        self._id: int | None = None
        self._value: T | None = None
        self._checked = float("-inf")

    def __call__(self) -> T | None:
        with self._lock:
            if time.monotonic() - self._checked < self.ttl_s:
                return self._value
            try:
                self._refresh()
            except (ServiceUnavailable, CommandError) as error:
                log.warning("cannot fetch the reported %s from the counter, keeping record %s: %s", self.kind, self._id, error)
            self._checked = time.monotonic()
            return self._value

    def _refresh(self) -> None:
        reported = self.counter.get(f"/records/{self.kind}/reported")
        record_id = reported["id"]
        if record_id is None:
            self._id, self._value = None, None
        elif record_id != self._id:
            text = self.counter.get(f"/records/{self.kind}/{record_id}/result")["result"]
            self._id, self._value = record_id, self.parse(text.encode())

    def forget(self) -> None:
        """Ask the counter at the next call (e.g. right after a compile)."""
        with self._lock:
            self._checked = float("-inf")
