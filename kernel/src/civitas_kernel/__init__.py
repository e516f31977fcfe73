"""The shared kernel of civitas: events, the hash-chained log, its backends, signatures and segments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civitas_kernel.lazy_names import lazy_names

if TYPE_CHECKING:
    from civitas_kernel.errors import ConcurrencyError, IntegrityError, LogError, SegmentError
    from civitas_kernel.events import NewEvent, RecordedEvent
    from civitas_kernel.log import AppendResult, EventLog, Position

# Loaded on first use: importing a light module (commands, errors) must not import the log, protobuf and SQLAlchemy,
# or every `civitas` command would pay for them before printing anything.
_HOMES = {
    "ConcurrencyError": "errors", "IntegrityError": "errors", "LogError": "errors", "SegmentError": "errors",
    "NewEvent": "events", "RecordedEvent": "events",
    "AppendResult": "log", "EventLog": "log", "Position": "log",
}

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "EventLog",
    "IntegrityError",
    "LogError",
    "NewEvent",
    "Position",
    "RecordedEvent",
    "SegmentError",
]


__getattr__ = lazy_names(__name__, _HOMES)
