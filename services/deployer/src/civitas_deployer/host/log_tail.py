"""What a release wrote last: the tail of its log, for the incident of a deployment that failed."""

from __future__ import annotations

from pathlib import Path

TAIL_BYTES = 4000


def tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The last `limit` bytes of a log file, as text ('' when there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
