"""Pulling from one peer: its signed heads, then pages with several in flight, each verified by the kernel's
ingest with the origin's pinned key in one transaction. The cursor is this log's own head per (site, stream)."""

from __future__ import annotations

import base64
import io
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.anchors import Anchor, open_anchor
from civitas_kernel.errors import IntegrityError, LogError
from civitas_kernel.log import EventLog, Position
from civitas_kernel.segment import SegmentReader
from civitas_kernel.signing import open_checkpoint

from civitas_sync.domain.flows import pulled, refusal, served
from civitas_sync.domain.pages import Fetch, plan
from civitas_sync.domain.peers import Peer
from civitas_sync.serving import signed_at


class Pruned(Exception):
    """The peer no longer holds what this site needs next: `first`, the earliest position it holds, is past it."""

    def __init__(self, first: int) -> None:
        super().__init__(first)
        self.first = first


class PeerUnreachable(Exception):
    """The peer did not answer as a civitas site should (down, timed out, a server error): retried later."""


@dataclass
class StreamOutcome:
    origin: str
    stream: str
    remote: int  # the position the peer's signed head stands at
    remote_hash: str
    local: int = 0  # where this site stands after the pull
    added: int = 0
    error: str | None = None
    evidence: dict | None = None  # two signed, different histories of one stream: kept as proof
    gap: int | None = None  # the peer holds the stream only from here, past what this site needs next: pruned


@dataclass
class PullReport:
    peer: str
    streams: list[StreamOutcome] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what the peer offered that this site does not take
    evidence: list[dict] = field(default_factory=list)  # split views seen in heads this site does not pull
    witnessed: bool = False  # heads compared only: the peer pulls from this site
    rules: list = field(default_factory=list)  # the signed list-rules statements the peer serves

    @property
    def added(self) -> int:
        return sum(s.added for s in self.streams)

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.streams if s.error]


class Puller:
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
            raise PeerUnreachable(f"{self.peer.url} does not serve civitas sync heads (answered {response.status_code})")
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

    def witness(self) -> PullReport:
        """Only compare: read the heads of a peer this site does not pull from (its super-site, a peripheral site)
        and keep any other signed history of a stream this site holds as evidence. Nothing is fetched or added."""
        report = PullReport(self.peer.site, witnessed=True)
        for entry in self.heads()["streams"]:
            origin, stream = str(entry.get("origin")), str(entry.get("stream"))
            self._witness(report, origin, stream, entry, quiet=True)
            here = self.log.head(stream, site=origin).seq
            if here and served(stream):  # how far the peer has come in what this site holds: its lag behind us
                report.streams.append(StreamOutcome(origin, stream, int(entry.get("seq", 0)),
                                                    str(entry.get("hash", "")), local=here))
        return report

    def _witness(self, report: PullReport, origin: str, stream: str, entry: dict, quiet: bool = False) -> None:
        """A head this site does not pull is still compared with what it holds: a fork is evidence wherever seen."""
        key = self.log.key.public_key if origin == self.log.site else self.keys.get(origin)
        if key is None or not served(stream):
            return
        outcome = StreamOutcome(origin, stream, int(entry.get("seq", 0)), str(entry.get("hash", "")))
        try:
            signed, head = self._signed_head(outcome, entry, key)
            held = self.log.head(stream, site=origin)
            if held.seq >= head.seq:
                self._compare(outcome, signed, head)
            elif origin == self.log.site:  # this site's key signed positions it does not hold
                ours = signed_at(self.log, origin, stream, held.seq)
                outcome.evidence = {"origin": origin, "stream": stream, "seq": held.seq + 1,
                                    "theirs": base64.b64encode(signed.SerializeToString(deterministic=True)).decode(),
                                    "held_hash": held.hash.hex(), "ours": base64.b64encode(ours).decode() if ours else None}
                raise IntegrityError(origin, stream, held.seq + 1, f"split view: {self.peer.site} holds this site's "
                                     f"stream up to {head.seq}, signed with its key, past its own head {held.seq}: "
                                     "was this site restored from an old backup?")
        except (IntegrityError, LogError) as e:
            if outcome.evidence is not None or not quiet:
                report.refused.append(str(e))
        if outcome.evidence is not None:
            report.evidence.append(outcome.evidence)

    def _signed_head(self, outcome: StreamOutcome, entry: dict, key: bytes):
        origin, stream = outcome.origin, outcome.stream
        try:
            signed = envelope_pb2.SignedCheckpoint.FromString(base64.b64decode(entry["checkpoint"]))
        except (KeyError, ValueError, TypeError):
            raise LogError(f"{origin}/{stream}: the peer's head carries no signed checkpoint") from None
        except Exception:
            raise LogError(f"{origin}/{stream}: the peer's head checkpoint does not decode") from None
        head = open_checkpoint(signed, key)
        if (head.site, head.stream, head.seq, head.head_hash.hex()) != (origin, stream, outcome.remote, outcome.remote_hash):
            raise IntegrityError(origin, stream, outcome.remote, "forged: the peer's head is not what its checkpoint signs")
        return signed, head

    def _key(self, origin: str) -> bytes:
        key = self.keys.get(origin)
        if key is None:
            raise LogError(f"{origin}: no key pinned for this origin; pin it with `civitas known-sites add {origin} KEY`")
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

    def _compare(self, outcome: StreamOutcome, signed, head) -> None:
        """The peer stands at or behind this site: it must agree on the event at its head."""
        held = next(iter(self.log.read(outcome.stream, site=outcome.origin, after=head.seq - 1, until=head.seq)), None)
        if head.seq and held is not None and held.hash != head.head_hash:
            mine = self.log.checkpoints_between(outcome.stream, site=outcome.origin, after=head.seq - 1, until=head.seq)
            outcome.evidence = {"origin": outcome.origin, "stream": outcome.stream, "seq": head.seq,
                                "theirs": base64.b64encode(signed.SerializeToString(deterministic=True)).decode(),
                                "held_hash": held.hash.hex(),
                                "ours": base64.b64encode(mine[head.seq]).decode() if head.seq in mine else None}
            raise IntegrityError(outcome.origin, outcome.stream, head.seq,
                                 f"split view: {self.peer.site} holds another event here than this site")

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

    def _fork(self, outcome: StreamOutcome, key: bytes, data: bytes, error: IntegrityError) -> bool:
        """A page that does not continue what this site holds: if it verifies on its own, under the origin's
        signature, the origin signed two histories of one stream, and both checkpoints are kept as evidence."""
        reader = SegmentReader(io.BytesIO(data), public_key=key)
        try:
            for r in reader.ranges():
                for _ in r.iter_events(decode=False):
                    pass
                theirs = r.checkpoint
        except (IntegrityError, LogError):
            return False  # not signed by the origin: a forgery on the way, not a split view
        head = self.log.head(outcome.stream, site=outcome.origin)
        ours = signed_at(self.log, outcome.origin, outcome.stream, head.seq)
        if ours is None and self._anchor is not None:  # nothing held yet: the declared anchor is what disagrees
            ours, head = self._anchor.signed, Position(self._anchor.seq, self._anchor.hash)
        outcome.evidence = {"origin": outcome.origin, "stream": outcome.stream, "seq": error.seq,
                            "theirs": base64.b64encode(theirs.SerializeToString(deterministic=True)).decode(),
                            "held_hash": head.hash.hex(),
                            "ours": base64.b64encode(ours).decode() if ours else None}
        return True
