"""The shared kernel of civitas: events, the hash-chained log, its backends, signatures and segments."""

from civitas_kernel.errors import ConcurrencyError, IntegrityError, LogError, SegmentError
from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.log import AppendResult, EventLog, Position

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
