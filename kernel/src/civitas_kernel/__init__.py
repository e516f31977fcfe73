"""The shared kernel of civitas: events, the hash-chained log, its backends, signatures and segments."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'civitas_kernel' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"civitas_kernel.{home}"), name)
    globals()[name] = value
    return value
