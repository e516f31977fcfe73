"""Origins that reach this site only over HTTP, in the counter's replica: the sync service pulled them (from a
sub-site, or relayed through one) into its own log, and serves them with its signed heads and pages
(GET /sync/v1/heads, /sync/v1/pages/ORIGIN/STREAM/PAGE). The counter reads those routes for each origin named in
CIVITAS_COUNTER_SYNCED_ORIGINS and adds each page with the kernel's ingest, checked against the origin's key
pinned in known-sites.toml: the sync service only carries the events, nothing it says is taken unsigned.

The heads are long-polled: asked with the mark of the last answer, the sync service holds the request until one of
its heads moves (a pull added), so what it pulls is here within a moment; it answers after `every_s` (at most HOLD_S)
in any case, so nothing depends on being told. A sync service that does not hold (no mark) is polled every `every_s`."""

from __future__ import annotations

import base64
import io
import logging
import threading
import time

import httpx

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError, LogError
from civitas_kernel.segment import SegmentReader
from civitas_kernel.signing import open_checkpoint
from civitas_kernel.sql.base import SqlEventLog

from civitas_counter.network_lists import ORIGIN_STREAMS

log = logging.getLogger("civitas.counter.synced")
MIN_ROUND_S = 0.1  # a sync service whose heads move all the time is still read at most this often
HOLD_S = 5.0  # the longest the counter lets the sync service hold a heads request: it stops within that


class SyncUnreachable(Exception):
    """The sync service did not answer as it should (down, timed out, a server error): asked again next round."""


class SyncedOrigins:
    """Brings the replica up to the sync service's signed heads of each named origin's registration and trust."""

    def __init__(self, replica: SqlEventLog, url: str, origins: dict[str, bytes], every_s: float = 2.0,
                 timeout_s: float = 30.0) -> None:
        self.replica, self.url, self.origins = replica, url.rstrip("/"), origins
        self.every_s, self.timeout_s = every_s, timeout_s
        self.errors: dict[str, str | None] = {}
        self.last_contact: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one round at a time
        self._seen: str | None = None  # the sync service's mark of the heads last read; None: it does not hold
        for origin, key in origins.items():
            replica._record_site_key(origin, key)  # refused at the start if the replica holds another key for it

    def _get(self, client: httpx.Client, path: str, params: dict | None = None) -> httpx.Response:
        try:
            response = client.get(self.url + path, params=params)
        except httpx.HTTPError as e:
            raise SyncUnreachable(f"the sync service at {self.url}: {type(e).__name__}: {e}") from None
        if response.status_code != 200:
            raise SyncUnreachable(f"the sync service answered {response.status_code} to {path}: {response.text[:300]}")
        return response

    def run_once(self, wait_s: float = 0) -> dict[str, int]:
        """One round: per origin, how many events were added; what went wrong is kept in `errors`. wait_s: let the
        sync service hold the heads up to this long, until one moves past what was last read."""
        wait_s = min(wait_s, HOLD_S)
        held = {"wait": wait_s, "seen": self._seen} if wait_s and self._seen else None
        with self._lock, httpx.Client(timeout=self.timeout_s + (wait_s if held else 0)) as client:
            added = {origin: 0 for origin in self.origins}
            try:
                body = self._get(client, "/sync/v1/heads", held).json()
                if not isinstance(body, dict) or body.get("site") != self.replica.site:
                    raise SyncUnreachable(f"{self.url} is not this site's sync service: it is "
                                          f"{body.get('site') if isinstance(body, dict) else body!r}")
                page_events = int(body.get("page_events") or 0)
                if page_events < 1:
                    raise SyncUnreachable(f"{self.url} names no page size")
            except (SyncUnreachable, ValueError) as e:
                self._seen = None  # asked again after every_s, not held at once
                for origin in self.origins:
                    self.errors[origin] = str(e)
                return added
            self.last_contact = time.time()
            mark = body.get("moved")
            self._seen = mark if isinstance(mark, str) and 0 < len(mark) <= 64 else None
            entries = {(str(e.get("origin")), str(e.get("stream"))): e for e in body.get("streams") or []
                       if isinstance(e, dict)}
            for origin in self.origins:
                self.errors[origin] = None
                for stream in ORIGIN_STREAMS:
                    if (origin, stream) not in entries:
                        continue  # not held there yet (or the origin has no such events)
                    try:
                        added[origin] += self._bring(client, origin, stream, entries[origin, stream], page_events)
                    except (SyncUnreachable, LogError) as e:
                        self.errors[origin] = str(e)
                        log.warning("%s/%s from the sync service: %s", origin, stream, e)
            return added

    def _signed_head(self, origin: str, stream: str, entry: dict):
        key = self.origins[origin]
        try:
            signed = envelope_pb2.SignedCheckpoint.FromString(base64.b64decode(entry["checkpoint"]))
        except Exception:  # noqa: BLE001 - missing, not base64, not a checkpoint: all the same to us
            raise LogError(f"{origin}/{stream}: the sync service's head carries no signed checkpoint") from None
        head = open_checkpoint(signed, key)  # IntegrityError unless the origin's pinned key signed it
        if (head.site, head.stream) != (origin, stream):
            raise IntegrityError(origin, stream, head.seq,
                                 f"misplaced: the head is signed for {head.site}/{head.stream}")
        return head

    def _bring(self, client: httpx.Client, origin: str, stream: str, entry: dict, page_events: int) -> int:
        key, head = self.origins[origin], self._signed_head(origin, stream, entry)
        held, added = self.replica.head(stream, site=origin), 0
        if held.seq >= head.seq:  # the sync service is not ahead: it must hold the same event there
            ours = next(iter(self.replica.read(stream, site=origin, after=head.seq - 1, until=head.seq)), None)
            if head.seq and ours is not None and ours.hash != head.head_hash:
                raise IntegrityError(origin, stream, head.seq, "split view: the sync service holds another event "
                                     "here than the counter's replica, both signed with the origin's key")
            return 0
        while held.seq < head.seq:
            page = held.seq // page_events + 1  # the page holding the next position
            first, last = (page - 1) * page_events + 1, page * page_events
            whole = held.seq == first - 1 and head.seq >= last  # a sealed page, asked whole: cached there
            response = self._get(client, f"/sync/v1/pages/{origin}/{stream}/{page}",
                                 None if whole else {"after": held.seq})
            reader = SegmentReader(io.BytesIO(response.content), public_key=key)
            ranges = reader.header.ranges
            if reader.site != origin or len(ranges) != 1 or ranges[0].stream != stream:
                raise IntegrityError(origin, stream, None, "misplaced: the page holds other streams than asked for")
            added += self.replica.ingest(origin, key, reader.ranges())  # every hash, link and signature checked
            reached = self.replica.head(stream, site=origin)
            if reached.seq <= held.seq:
                raise LogError(f"{origin}/{stream}: the sync service sent nothing past position {held.seq}")
            held = reached
        return added

    def status(self) -> dict:
        return {origin: {"sync": self.url, "heads": {s: self.replica.head(s, site=origin).seq for s in ORIGIN_STREAMS},
                         "last_contact": self.last_contact, "last_error": self.errors.get(origin),
                         "held": self._seen is not None}  # the sync service holds its heads for us, else polled
                for origin in self.origins}

    def start(self) -> None:
        if self.origins and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="counter-synced-origins", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.run_once(self.every_s)  # held there until a head moves, at most every_s
            except Exception:  # a database error must not end the loop: said, then tried again
                log.exception("reading the synced origins failed")
                self._seen = None
            # not held (an error, or a sync service that does not hold): the plain poll; else at most 10 rounds a second
            self._stop.wait(max(0.0, (self.every_s if self._seen is None else MIN_ROUND_S)
                                - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + HOLD_S + 5)
            self._thread = None
