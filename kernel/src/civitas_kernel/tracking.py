"""Consumers that derive rows from the log and keep their position in the same transaction as those rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from civitas_kernel.events import ZERO_HASH, RecordedEvent
from civitas_kernel.log import EventLog

tracking_metadata = MetaData()

tracking = Table(
    "tracking",
    tracking_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    # Own hash of the event at `position`, so a consumer can check the next event's chain link; NULL if unknown.
    Column("hash", LargeBinary, nullable=True),
)

Apply = Callable[[Connection, RecordedEvent], None]
Checkpoints = Mapping[tuple[str, str, int], bytes]  # verified SignedCheckpoints by (site, stream, seq)
CATCH_UP_BATCH = 1_000


class Projector:
    """Applies events to a projection's tables, at most once each, in order per site-stream.

    A redelivered event (at or below the recorded position) is skipped; an event after a gap is
    not applied, so the projector waits for the missing ones instead of skipping them. Give `apply`
    (one event at a time) or override `apply_all` (every new event of a batch at once).
    """

    def __init__(self, engine: Engine, consumer: str, apply: Apply | None = None) -> None:
        self.engine, self.consumer, self.apply = engine, consumer, apply
        tracking_metadata.create_all(engine)
        _add_hash_column(engine)

    def apply_all(self, conn: Connection, events: Sequence[RecordedEvent], checkpoints: Checkpoints) -> None:
        """Apply new events, in order, inside the projector's transaction (`checkpoints`: those travelling with them)."""
        for event in events:
            self.apply(conn, event)

    def position(self, site: str, stream: str) -> int:
        return self.head(site, stream)[0]

    def head(self, site: str, stream: str) -> tuple[int, bytes | None]:
        """(position, own hash of the event there); the hash is None if an older version recorded the position."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tracking.c.position, tracking.c.hash).where(
                    tracking.c.consumer == self.consumer, tracking.c.site == site, tracking.c.stream == stream
                )
            ).first()
        if row is None:
            return 0, ZERO_HASH
        return row[0], (bytes(row[1]) if row[1] is not None else None)

    def handle(self, events: Sequence[RecordedEvent], checkpoints: Checkpoints | None = None) -> int:
        """Apply what is new among `events` in one transaction; returns how many were applied."""
        with self.engine.begin() as conn:
            held = self._positions(conn)
            positions = dict(held)
            fresh: list[RecordedEvent] = []
            hashes: dict[tuple[str, str], bytes] = {}
            for event in events:
                key = (event.site, event.stream)
                if event.seq != positions.get(key, 0) + 1:
                    continue  # already applied, or beyond a gap
                fresh.append(event)
                positions[key] = event.seq
                hashes[key] = event.hash
            if fresh:
                self.apply_all(conn, fresh, checkpoints or {})
            for key, event_hash in hashes.items():
                self._save(conn, *key, positions[key], event_hash, known=key in held)
        return len(fresh)

    def _positions(self, conn: Connection) -> dict[tuple[str, str], int]:
        c = tracking.c
        rows = conn.execute(select(c.site, c.stream, c.position).where(c.consumer == self.consumer))
        return {(site, stream): position for site, stream, position in rows}

    def _save(self, conn: Connection, site: str, stream: str, position: int, event_hash: bytes, *, known: bool) -> None:
        if known:
            conn.execute(
                tracking.update()
                .where(tracking.c.consumer == self.consumer, tracking.c.site == site, tracking.c.stream == stream)
                .values(position=position, hash=event_hash)
            )
        else:
            conn.execute(
                tracking.insert().values(
                    consumer=self.consumer, site=site, stream=stream, position=position, hash=event_hash
                )
            )

    def catch_up(self, log: EventLog, streams: Iterable[tuple[str, str]]) -> int:
        """Apply everything the log holds beyond this projector's positions for the given (site, stream)s."""
        applied = 0
        for site, stream in streams:
            batch: list[RecordedEvent] = []
            for event in log.read(stream, site=site, after=self.position(site, stream)):
                batch.append(event)
                if len(batch) >= CATCH_UP_BATCH:
                    applied += self.handle(batch)
                    batch = []
            if batch:
                applied += self.handle(batch)
        return applied


def _add_hash_column(engine: Engine) -> None:
    # Tracking tables created before the hash column existed get it (NULL: link unknown until the next event).
    if "hash" in {c["name"] for c in inspect(engine).get_columns("tracking")}:
        return
    blob = "BYTEA" if engine.dialect.name == "postgresql" else "BLOB"
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE tracking ADD COLUMN hash {blob}"))
