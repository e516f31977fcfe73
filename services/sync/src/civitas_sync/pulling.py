"""Pulling from one peer: its signed heads, then pages with several in flight, each verified by the kernel's
ingest with the origin's pinned key in one transaction. The cursor is this log's own head per (site, stream).
What the heads and pages are compared against (split views) is witnessing.py's; the reports are reports.py's."""

from __future__ import annotations

import io
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

from civitas_kernel.anchors import Anchor, open_anchor
from civitas_kernel.errors import IntegrityError, LogError
from civitas_kernel.log import EventLog
from civitas_kernel.segment import SegmentReader

from civitas_sync.domain.flows import pulled, refusal
from civitas_sync.domain.pages import Fetch, plan
from civitas_sync.domain.peers import Peer
from civitas_sync.reports import PeerUnreachable, Pruned, PullReport, StreamOutcome
from civitas_sync.witnessing import Witnessing

__all__ = ["PeerUnreachable", "Pruned", "PullReport", "Puller", "StreamOutcome"]


class Puller(Witnessing):
    """Brings this log up to one peer's heads for every stream it takes from that peer."""

    def __init__(self, log: EventLog, peer: Peer, keys: dict[str, bytes], client: httpx.Client,
                 in_flight: int = 4, frozen: frozenset[str] = frozenset(),
                 mirrored: frozenset[str] = frozenset()) -> None:
        self.log, self.peer, self.client, self.in_flight = log, peer, client, max(1, in_flight)
        self.keys = {**keys, peer.site: peer.public_key}  # the peer's own key is the one attached
        self.frozen = frozen  # "origin/stream" held at the last agreed position after a split view
        self.mirrored = mirrored  # origins whose streams MirrorMaker 2 carries here: their heads only compared
        self._anchor: Anchor | None = None  # the checked anchor of the stream being pulled, if its link declares one

    def _get(self, path: str, params: dict | None = None) -> httpx.Response:
        try:
            response = self.client.get(self.peer.base_url + path, params=params)
        except httpx.HTTPError as e:
            raise PeerUnreachable(f"{self.peer.site} at {self.peer.url}: {type(e).__name__}: {e}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise PeerUnreachable(f"{self.peer.site} answered {response.status_code} to {path}")
        return response

    def heads(self) -> dict:
        response = self._get("/sync/v1/heads")
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("streams"), list):
            raise PeerUnreachable(f"{self.peer.url} does not serve civitas sync heads "
                                  f"(answered {response.status_code})")
        if body.get("site") != self.peer.site:
            raise PeerUnreachable(f"{self.peer.url} is site {body.get('site')!r}, not {self.peer.site}")
        return body

    def run(self) -> PullReport:
        body = self.heads()
        page_events = int(body.get("page_events") or 0)
        if page_events < 1:
            raise PeerUnreachable(f"{self.peer.site} names no page size")
        report = PullReport(self.peer.site, rules=body.get("rules") or [])
        for entry in body["streams"]:
            origin, stream = str(entry.get("origin")), str(entry.get("stream"))
            if not pulled(self.peer.role, self.log.site, origin, stream):
                report.refused.append(refusal(self.peer.role, self.log.site, origin, stream) or f"{origin}/{stream}")
                self._witness(report, origin, stream, entry)
                continue
            outcome = StreamOutcome(origin, stream, int(entry.get("seq", 0)), str(entry.get("hash", "")))
            report.streams.append(outcome)
            if origin in self.mirrored:  # one transport at a time per stream: the mirror adds, the heads compare
                self._witness(report, origin, stream, entry)
                outcome.local = self.log.head(stream, site=origin).seq
                continue
            try:
                self._pull_stream(outcome, entry, page_events)
            except Pruned as e:  # never jumped: the stream stays where it is until a peer holding the rest sends it
                outcome.gap = e.first
            except (IntegrityError, LogError) as e:
                outcome.error = str(e)
            outcome.local = self.log.head(stream, site=origin).seq
        return report

    def _key(self, origin: str) -> bytes:
        key = self.keys.get(origin)
        if key is None:
            raise LogError(f"{origin}: no key pinned for this origin; "
                           f"pin it with `civitas known-sites add {origin} KEY`")
        return key

    def _pull_stream(self, outcome: StreamOutcome, entry: dict, page_events: int) -> None:
        origin, stream = outcome.origin, outcome.stream
        if f"{origin}/{stream}" in self.frozen:
            raise LogError(f"{origin}/{stream} is frozen at the last agreed position after a split view")
        key = self._key(origin)
        signed, head = self._signed_head(outcome, entry, key)
        self._anchor = None  # first: a declaration refused below leaves no other stream's anchor in place
        anchor = self._anchor = self._declared(origin, stream, key)
        held = self.log.head(stream, site=origin).seq
        cursor = held or (anchor.seq if anchor else 0)  # a new link starts at 1, or at its declared anchor
        if anchor and not held and head.seq < anchor.seq:
            raise LogError(f"{origin}/{stream}: the declared anchor at {anchor.seq} is past what {self.peer.site} "
                           f"holds ({head.seq}); nothing is taken until it holds the anchor's position")
        if cursor >= head.seq:
            if anchor and not held:  # the peer stands at the anchor itself: the stream is held from it
                if head.head_hash != anchor.hash:
                    raise IntegrityError(origin, stream, head.seq, f"anchor refused: {self.peer.site}'s signed head "
                                         "at the declared anchor's position has another hash (a wrong anchor, or a "
                                         "split view)")
                self.log.ingest(origin, key, [], anchors={stream: anchor.signed})
            self._compare(outcome, signed, head)
            return
        first = entry.get("first")  # the earliest position the peer holds, if it pruned or holds it from an anchor
        if isinstance(first, int) and not isinstance(first, bool) and first > cursor + 1:
            raise Pruned(first)
        fetches = deque(plan(cursor, head.seq, page_events))
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix=f"sync-{self.peer.site}") as pool:
            pending: deque[tuple[Fetch, Future]] = deque()
            while fetches or pending:
                while fetches and len(pending) < self.in_flight:
                    fetch = fetches.popleft()
                    pending.append((fetch, pool.submit(self._fetch, origin, stream, fetch)))
                fetch, future = pending.popleft()
                added, reached = self._ingest(outcome, key, future.result())
                outcome.added += added
                if reached != fetch.last:  # the peer gave less than asked: what is in flight no longer follows
                    for _, other in pending:
                        other.cancel()
                    pending.clear()
                    if reached <= fetch.after:
                        raise LogError(f"{origin}/{stream}: the peer sent nothing past position {reached}")
                    fetches = deque(plan(reached, head.seq, page_events))

    def _declared(self, origin: str, stream: str, key: bytes) -> Anchor | None:
        """The anchor declared on this link for origin/stream, checked against the origin's pinned key (refused:
        IntegrityError, and nothing is fetched)."""
        declared = self.peer.anchor(origin, stream)
        if declared is None:
            return None
        return open_anchor(declared.checkpoint, origin, stream, key, seq=declared.position, head_hash=declared.hash)

    def _fetch(self, origin: str, stream: str, fetch: Fetch) -> bytes:
        params = None if fetch.whole else {"after": fetch.after}
        response = self._get(f"/sync/v1/pages/{origin}/{stream}/{fetch.page}", params)
        if response.status_code == 410:  # gone: pruned there; the answer names the earliest position still held
            try:
                first = int(response.json().get("first"))
            except (ValueError, TypeError, AttributeError):
                first = fetch.after + 2  # at least past what was asked
            raise Pruned(max(first, fetch.after + 2))
        if response.status_code != 200:
            raise LogError(f"{origin}/{stream} page {fetch.page}: the peer answered {response.status_code}: "
                           f"{response.text[:300]}")
        return response.content

    def _ingest(self, outcome: StreamOutcome, key: bytes, data: bytes) -> tuple[int, int]:
        """Verify and add one page in one transaction; returns (events new here, where the stream now stands)."""
        origin, stream = outcome.origin, outcome.stream
        reader = SegmentReader(io.BytesIO(data), public_key=key)
        ranges = reader.header.ranges
        if reader.site != origin or len(ranges) != 1 or ranges[0].stream != stream:
            raise IntegrityError(origin, stream, None, "misplaced: the page holds other streams than the one asked for")
        anchor = self._anchor
        here = self.log.head(stream, site=origin).seq or (anchor.seq if anchor else 0)
        if ranges[0].first_seq > here + 1:
            raise Pruned(ranges[0].first_seq)  # what it holds starts past this site's head: a gap, never jumped
        try:
            added = self.log.ingest(origin, key, reader.ranges(), anchors={stream: anchor.signed} if anchor else None)
        except IntegrityError as e:
            if e.problem.startswith(("chain broken", "conflict")) and self._fork(outcome, key, data, e):
                raise IntegrityError(origin, stream, e.seq,
                                     f"split view: {self.peer.site} serves another history ({e.problem})") from None
            raise
        except Exception as e:  # the database's own uniqueness check (sqlite3, psycopg): no common base class
            if "IntegrityError" not in type(e).__name__ and "UniqueViolation" not in type(e).__name__:
                raise
            raise LogError(f"{origin}/{stream}: this log holds events past its head (another transport, e.g. the "
                           "Kafka mirror, stopped inside an append); let that transport finish the append") from None
        return added, self.log.head(stream, site=origin).seq
