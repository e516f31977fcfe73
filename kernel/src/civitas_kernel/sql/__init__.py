"""SQL backends of the event log: SQLite (the embedded default) and PostgreSQL."""

from civitas_kernel.sql.engine import create_engine, open_log

__all__ = ["create_engine", "open_log"]
