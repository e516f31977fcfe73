"""Opening a database by URL: the SQLite recipe for real transactions, and the log on top."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

from civitas_kernel.signing import SiteKey


def create_engine(url: str, **kwargs) -> Engine:
    """An SQLAlchemy engine; for SQLite, one whose transactions really begin when asked (WAL, busy wait)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sqlalchemy.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            keep_private(Path(engine.url.database))
        _make_sqlite_transactional(engine)
    return engine


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def keep_private(path: Path) -> None:
    """Create an SQLite database file readable by its owner only, and make it and its companions so if they exist.

    SQLite gives its -wal, -shm and -journal files the database file's mode when it makes them, so a
    database created 0600 before its first connection stays private whatever the umask; files an older
    version left readable by others (a sign-in store's hold TOTP secrets) are tightened here.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in [path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)]:
        try:
            if file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)
        except FileNotFoundError:
            pass


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's implicit transactions start late; SQLAlchemy documents taking control like this.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_log(url: str, site: str, key: SiteKey):
    """The event log at a database URL (sqlite:///path or postgresql://...), created if new."""
    if url.startswith("sqlite"):  # each backend imported only when used (psycopg's import costs a quarter second)
        from civitas_kernel.sql.sqlite import SQLiteEventLog

        return SQLiteEventLog(create_engine(url), site, key)
    if url.startswith("postgresql"):
        from civitas_kernel.sql.postgres import PostgresEventLog

        return PostgresEventLog(create_engine(url, pool_size=8, max_overflow=8), site, key)
    raise ValueError(f"no log backend for {url!r}: use sqlite:///PATH or postgresql://HOST/DB")
