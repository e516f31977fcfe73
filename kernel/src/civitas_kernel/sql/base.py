"""What the SQL backends share: appending, reading, verifying and ingesting over a DB-API cursor."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import metrics
from sqlalchemy.engine import Engine

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.chain import ChainVerifier
from civitas_kernel.errors import ConcurrencyError, IntegrityError, InvalidAppendError
from civitas_kernel.events import ZERO_HASH, NewEvent, RecordedEvent, seal_batch
from civitas_kernel.log import (
    READ_PAGE,
    AppendResult,
    EventLog,
    IngestRange,
    KeptReply,
    Position,
    Progress,
    StreamReport,
    VerifyReport,
    check_append,
)
from civitas_kernel.anchors import open_anchor
from civitas_kernel.signing import SiteKey, open_checkpoint
from civitas_kernel.sql import schema
from civitas_kernel.sql.anchored import AnchoredStreams

Row = tuple[str, str, int, bytes, bytes]
Written = tuple[str, Sequence[tuple[int, bytes, bytes]], bytes]  # (stream, sealed (seq, hash, raw), signed checkpoint)
RETRIES = 5


def _now_us() -> int:
    return time.time_ns() // 1000


def _new_event_id() -> str:
    return str(uuid.uuid4())


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SqlEventLog(AnchoredStreams, EventLog):
    """The log in an SQL database. Subclasses say how to begin, lock a head and insert rows."""

    placeholder = "?"
    unique_violation: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        engine: Engine,
        site: str,
        key: SiteKey,
        *,
        clock: Callable[[], int] = _now_us,
        new_event_id: Callable[[], str] = _new_event_id,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        super().__init__(meter_provider)
        self.engine, self.site, self.key = engine, site, key
        self._clock, self._new_event_id = clock, new_event_id
        schema.metadata.create_all(engine)
        self._record_site_key(site, key.public_key)

    # -- backend hooks ------------------------------------------------------------------

    def _begin(self, cur) -> None:
        """Start a write transaction."""

    def _lock_head(self, cur, site: str, stream: str) -> Position:
        raise NotImplementedError

    def _insert_events(self, cur, rows: list[Row]) -> None:
        cur.executemany(self._sql("INSERT INTO events (site, stream, seq, hash, raw) VALUES (?, ?, ?, ?, ?)"), rows)

    # -- plumbing -----------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @contextmanager
    def _transaction(self) -> Iterator:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            self._begin(cursor)
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            connection.close()

    @contextmanager
    def _reading(self) -> Iterator:
        connection = self.engine.raw_connection()
        try:
            yield connection.cursor()
        finally:
            connection.rollback()
            connection.close()

    def _fetch(self, query: str, *params) -> list[tuple]:
        with self._reading() as cur:
            cur.execute(self._sql(query), params)
            return cur.fetchall()

    def _set_head(self, cur, site: str, stream: str, position: Position) -> None:
        cur.execute(
            self._sql(
                "INSERT INTO heads (site, stream, seq, hash) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (site, stream) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
            ),
            (site, stream, position.seq, position.hash),
        )

    def _insert_checkpoint(self, cur, site: str, stream: str, seq: int,
                           signed: envelope_pb2.SignedCheckpoint | bytes) -> None:
        if not isinstance(signed, bytes):
            signed = signed.SerializeToString(deterministic=True)
        cur.execute(
            self._sql("INSERT INTO checkpoints (site, stream, seq, signed) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
            (site, stream, seq, signed),
        )

    def _record_site_key(self, site: str, public_key: bytes) -> None:
        with self._transaction() as cur:
            self._check_site_key(cur, site, public_key)

    def _check_site_key(self, cur, site: str, public_key: bytes) -> None:
        cur.execute(self._sql("SELECT public_key FROM site_keys WHERE site = ?"), (site,))
        row = cur.fetchone()
        if row is None:
            cur.execute(self._sql("INSERT INTO site_keys (site, public_key) VALUES (?, ?)"), (site, public_key))
        elif bytes(row[0]) != public_key:
            raise IntegrityError(
                site, "*", None, "forged: signed by another key than the one this log holds for the site"
            )

    # -- the log ------------------------------------------------------------------------

    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        check_append(stream, events)
        for attempt in range(RETRIES):
            written: list[Written] = []
            try:
                with self._transaction() as cur:
                    result = self._append_in(cur, stream, events, expected_seq, idempotency_key, written)
                break
            except self.unique_violation:
                # A concurrent writer created the same head or key first; reading again settles it.
                if attempt == RETRIES - 1:
                    raise
        if not result.duplicate:
            self._notify_appended(written)
        return result

    def append_batches(self, batches: Sequence[tuple[str, Sequence[NewEvent], int | None]], *,
                       replies: Sequence[KeptReply] = ()) -> list[AppendResult]:
        for stream, events, _ in batches:
            check_append(stream, events)
        if len({stream for stream, _, _ in batches}) != len(batches):
            raise InvalidAppendError("name each stream once in a set of batches; join its events into one batch")
        # Streams in name order, so two writers of overlapping sets lock heads in the same order.
        ordered = sorted(batches, key=lambda b: b[0])
        written: list[Written] = []
        try:
            with self._transaction() as cur:
                results = {stream: self._append_in(cur, stream, events, expected, None, written)
                           for stream, events, expected in ordered}
                self._keep_replies(cur, replies)
        except self.unique_violation:
            if not replies:
                raise
            raise ConcurrencyError(self.site, "command_keys", 0, 1) from None  # another writer kept the key first
        if results:
            self._notify_appended(written)
        return [results[stream] for stream, _, _ in batches]

    def _keep_replies(self, cur, replies: Sequence[KeptReply]) -> None:
        for kept in replies:
            cur.execute(self._sql("SELECT 1 FROM command_keys WHERE site = ? AND caller = ? AND key = ?"),
                        (self.site, kept.caller, _key_digest(kept.key)))
            if cur.fetchone() is not None:
                raise ConcurrencyError(self.site, "command_keys", 0, 1)  # kept meanwhile: the caller replays it
            cur.execute(
                self._sql("INSERT INTO command_keys (site, caller, key, request, reply) VALUES (?, ?, ?, ?, ?)"),
                (self.site, kept.caller, _key_digest(kept.key), kept.request, kept.reply),
            )

    def kept_reply(self, caller: str, key: str) -> KeptReply | None:
        rows = self._fetch("SELECT request, reply FROM command_keys WHERE site = ? AND caller = ? AND key = ?",
                           self.site, caller, _key_digest(key))
        return KeptReply(caller, key, bytes(rows[0][0]), bytes(rows[0][1])) if rows else None

    def _append_in(
        self, cur, stream: str, events: Sequence[NewEvent], expected_seq: int | None, idempotency_key: str | None,
        written: list[Written],
    ) -> AppendResult:
        head = self._lock_head(cur, self.site, stream)
        if idempotency_key is not None:
            cur.execute(
                self._sql("SELECT stream, first_seq, last_seq FROM idempotency WHERE site = ? AND key = ?"),
                (self.site, idempotency_key),
            )
            prior = cur.fetchone()
            if prior is not None:
                if prior[0] != stream:
                    raise InvalidAppendError(
                        f"idempotency key {idempotency_key!r} was already used on stream {prior[0]}; use a new key"
                    )
                return AppendResult(self.site, stream, prior[1], prior[2], duplicate=True)
        if expected_seq is not None and expected_seq != head.seq:
            raise ConcurrencyError(self.site, stream, expected_seq, head.seq)
        ids = [self._new_event_id() for _ in events]
        sealed = seal_batch(self.site, stream, head.seq, head.hash, events, ids, self._clock())
        self._insert_events(cur, [(self.site, stream, seq, h, raw) for seq, h, raw in sealed])
        last_seq, last_hash = sealed[-1][0], sealed[-1][1]
        self._set_head(cur, self.site, stream, Position(last_seq, last_hash))
        if idempotency_key is not None:
            cur.execute(
                self._sql("INSERT INTO idempotency (site, key, stream, first_seq, last_seq) VALUES (?, ?, ?, ?, ?)"),
                (self.site, idempotency_key, stream, head.seq + 1, last_seq),
            )
        checkpoint = self.key.sign_checkpoint(self.site, stream, last_seq, last_hash, self._clock())
        signed = checkpoint.SerializeToString(deterministic=True)
        self._insert_checkpoint(cur, self.site, stream, last_seq, signed)
        written.append((stream, sealed, signed))
        return AppendResult(self.site, stream, head.seq + 1, last_seq)

    def idempotent_result(self, idempotency_key: str) -> AppendResult | None:
        rows = self._fetch(
            "SELECT stream, first_seq, last_seq FROM idempotency WHERE site = ? AND key = ?", self.site, idempotency_key
        )
        return AppendResult(self.site, rows[0][0], rows[0][1], rows[0][2], duplicate=True) if rows else None

    def _rows(self, site: str, stream: str, after: int, until: int | None) -> Iterator[tuple[int, bytes, bytes]]:
        # Paged by position, so a long stream never sits in memory whole.
        upper = until if until is not None else 2**63 - 1
        while after < upper:
            page = self._fetch(
                "SELECT seq, hash, raw FROM events WHERE site = ? AND stream = ? AND seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                site, stream, after, upper, READ_PAGE,
            )
            for seq, own_hash, raw in page:
                yield seq, bytes(own_hash), bytes(raw)
            if len(page) < READ_PAGE:
                return
            after = page[-1][0]

    def read(
        self, stream: str, *, site: str | None = None, after: int = 0, until: int | None = None
    ) -> Iterator[RecordedEvent]:
        for _seq, own_hash, raw in self._rows(site or self.site, stream, after, until):
            yield RecordedEvent.decode(raw, own_hash)

    def head(self, stream: str, *, site: str | None = None) -> Position:
        rows = self._fetch("SELECT seq, hash FROM heads WHERE site = ? AND stream = ?", site or self.site, stream)
        return Position(rows[0][0], bytes(rows[0][1])) if rows else Position(0, ZERO_HASH)

    def streams(self) -> list[tuple[str, str, Position]]:
        rows = self._fetch("SELECT site, stream, seq, hash FROM heads WHERE seq > 0 ORDER BY site, stream")
        return [(site, stream, Position(seq, bytes(h))) for site, stream, seq, h in rows]

    def checkpoints(self, stream: str, *, site: str | None = None) -> list[envelope_pb2.SignedCheckpoint]:
        rows = self._fetch(
            "SELECT signed FROM checkpoints WHERE site = ? AND stream = ? ORDER BY seq", site or self.site, stream
        )
        return [envelope_pb2.SignedCheckpoint.FromString(bytes(r[0])) for r in rows]

    def checkpoints_between(self, stream: str, *, site: str | None = None, after: int = 0,
                            until: int | None = None) -> dict[int, bytes]:
        """The site's signed checkpoints (serialised SignedCheckpoint) at positions after `after` up to `until`."""
        upper = until if until is not None else 2**63 - 1
        rows = self._fetch(
            "SELECT seq, signed FROM checkpoints WHERE site = ? AND stream = ? AND seq > ? AND seq <= ?",
            site or self.site, stream, after, upper,
        )
        return {seq: bytes(signed) for seq, signed in rows}

    def add_verified(self, cur, events: Sequence[RecordedEvent], checkpoints: Mapping[tuple[str, str, int], bytes]) -> None:
        """Store events that continue their chains, as a caller verified them, inside the caller's transaction (`cur`).

        A replica's way in: each stream's head moves to its last event closed by one of `checkpoints`
        (verified SignedCheckpoints by (site, stream, seq)), so heads stand only where the site signed.
        """
        if not events:
            return
        self._insert_events(cur, [(e.site, e.stream, e.seq, e.hash, e.raw) for e in events])
        heads: dict[tuple[str, str], Position] = {}
        for event in events:
            signed = checkpoints.get((event.site, event.stream, event.seq))
            if signed is not None:
                self._insert_checkpoint(cur, event.site, event.stream, event.seq, signed)
                heads[(event.site, event.stream)] = Position(event.seq, event.hash)
        for (site, stream), position in heads.items():
            self._set_head(cur, site, stream, position)

    def public_key_of(self, site: str) -> bytes | None:
        rows = self._fetch("SELECT public_key FROM site_keys WHERE site = ?", site)
        return bytes(rows[0][0]) if rows else None

    def verify(
        self, *, site: str | None = None, stream: str | None = None, progress: Progress | None = None
    ) -> VerifyReport:
        report = VerifyReport()
        for s_site, s_stream, head in self.streams():
            if (site and s_site != site) or (stream and s_stream != stream):
                continue
            report.streams.append(self._verify_stream(s_site, s_stream, head, progress))
        return report

    def _verify_stream(self, site: str, stream: str, head: Position, progress: Progress | None) -> StreamReport:
        public_key = self.public_key_of(site)
        signed_at: dict[int, bytes] = {}
        for signed in self.checkpoints(stream, site=site):
            checkpoint = open_checkpoint(signed, public_key)
            if (checkpoint.site, checkpoint.stream) != (site, stream):
                raise IntegrityError(site, stream, checkpoint.seq, "misplaced: a checkpoint of another stream is filed here")
            signed_at[checkpoint.seq] = checkpoint.head_hash
        # From the origin's signed anchor if the stream is held from one (checked again: signature, position, hash).
        anchor = self.anchor(stream, site=site)
        if anchor is not None:
            opened = open_anchor(anchor.signed, site, stream, public_key, seq=anchor.seq, head_hash=anchor.hash)
            if signed_at.pop(opened.seq, None) != opened.hash or any(seq < opened.seq for seq in signed_at):
                raise IntegrityError(site, stream, opened.seq, "tampered: the checkpoints before the stream's anchor "
                                     "are not the anchor the origin signed")
        verifier = ChainVerifier(site, stream, anchor.seq if anchor else 0, anchor.hash if anchor else ZERO_HASH)
        count = 0
        for seq, own_hash, raw in self._rows(site, stream, verifier.seq, None):
            if seq != verifier.seq + 1:
                raise verifier.fail(verifier.seq + 1, f"gap: positions {verifier.seq + 1}..{seq - 1} are missing")
            verifier.check(raw, own_hash)
            if seq in signed_at and signed_at.pop(seq) != own_hash:
                raise verifier.fail(seq, "tampered: the event differs from the one the site signed at this position")
            count += 1
            if progress and count % 10_000 == 0:
                progress(10_000)
        if progress:
            progress(count % 10_000)
        if verifier.seq != head.seq or verifier.head_hash != head.hash:
            raise verifier.fail(head.seq, f"truncated: the stream ends at {verifier.seq} but its head says {head.seq}")
        if signed_at:
            raise verifier.fail(min(signed_at), f"truncated: the site signed position {min(signed_at)}, which is missing")
        return StreamReport(site, stream, count, len(self.checkpoints(stream, site=site)), head,
                            anchor.seq if anchor else 0)

    def ingest(self, site: str, public_key: bytes, ranges: Iterable[IngestRange], *,
               anchors: Mapping[str, bytes] | None = None) -> int:
        added = 0
        with self._transaction() as cur:
            self._check_site_key(cur, site, public_key)
            for stream, signed in sorted((anchors or {}).items()):
                self._take_anchor(cur, site, stream, public_key, signed)
            for batch in ranges:
                added += self._ingest_range(cur, site, batch)
        if added:
            self._notify_appended()
        return added

    def _ingest_range(self, cur, site: str, batch: IngestRange) -> int:
        head = self._lock_head(cur, site, batch.stream)
        rows: list[Row] = []
        position = head
        for event in batch.events:
            if event.seq <= head.seq:
                cur.execute(
                    self._sql("SELECT hash FROM events WHERE site = ? AND stream = ? AND seq = ?"),
                    (site, batch.stream, event.seq),
                )
                held = cur.fetchone()
                if held is None and self._before_anchor(cur, site, batch.stream, event.seq, event.hash):
                    continue  # the anchor's own event, as the origin signed it: held as the anchor
                if held is None or bytes(held[0]) != event.hash:
                    raise IntegrityError(site, batch.stream, event.seq, "conflict: differs from the event already held")
                continue
            if event.seq != position.seq + 1:
                raise IntegrityError(
                    site, batch.stream, event.seq,
                    f"gap: this log holds positions up to {position.seq}; import {position.seq + 1}..{event.seq - 1} first",
                )
            if event.prev_hash != position.hash:
                raise IntegrityError(site, batch.stream, event.seq, "chain broken: does not link to the event held before it")
            rows.append((site, batch.stream, event.seq, event.hash, event.raw))
            position = Position(event.seq, event.hash)
            if len(rows) >= READ_PAGE:
                self._insert_events(cur, rows)
                rows = []
        if rows:
            self._insert_events(cur, rows)
        if position.seq > head.seq:
            self._set_head(cur, site, batch.stream, position)
        checkpoint = envelope_pb2.Checkpoint.FromString(batch.checkpoint.checkpoint)
        self._insert_checkpoint(cur, site, batch.stream, checkpoint.seq, batch.checkpoint)
        return position.seq - head.seq
