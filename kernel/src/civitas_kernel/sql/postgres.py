"""One site in production: the log in PostgreSQL (psycopg 3), rows inserted by COPY."""

from __future__ import annotations

import psycopg

from civitas_kernel.events import ZERO_HASH
from civitas_kernel.log import Position
from civitas_kernel.sql.base import Row, SqlEventLog


class PostgresEventLog(SqlEventLog):
    placeholder = "%s"
    unique_violation = (psycopg.errors.UniqueViolation,)

    def _lock_head(self, cur, site: str, stream: str) -> Position:
        # The head row is the stream's lock: concurrent writers queue on it instead of forking.
        for _ in range(2):
            cur.execute("SELECT seq, hash FROM heads WHERE site = %s AND stream = %s FOR UPDATE", (site, stream))
            row = cur.fetchone()
            if row is not None:
                return Position(row[0], bytes(row[1]))
            cur.execute(
                "INSERT INTO heads (site, stream, seq, hash) VALUES (%s, %s, 0, %s) ON CONFLICT DO NOTHING",
                (site, stream, ZERO_HASH),
            )
        raise RuntimeError(f"could not lock the head of {site}/{stream}")

    def _insert_events(self, cur, rows: list[Row]) -> None:
        if len(rows) < 8:
            super()._insert_events(cur, rows)
            return
        with cur.copy("COPY events (site, stream, seq, hash, raw) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "int8", "bytea", "bytea"])
            for row in rows:
                copy.write_row(row)
