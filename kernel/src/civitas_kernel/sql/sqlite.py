"""The embedded default: the log in one SQLite file (WAL, every commit durable)."""

from __future__ import annotations

import sqlite3

from civitas_kernel.events import ZERO_HASH
from civitas_kernel.log import Position
from civitas_kernel.sql.base import SqlEventLog


class SQLiteEventLog(SqlEventLog):
    placeholder = "?"
    unique_violation = (sqlite3.IntegrityError,)

    def _begin(self, cur) -> None:
        # IMMEDIATE takes the write lock now, so two writers never both read the same head.
        cur.execute("BEGIN IMMEDIATE")

    def _lock_head(self, cur, site: str, stream: str) -> Position:
        cur.execute("SELECT seq, hash FROM heads WHERE site = ? AND stream = ?", (site, stream))
        row = cur.fetchone()
        return Position(row[0], bytes(row[1])) if row else Position(0, ZERO_HASH)
