"""Pausing Python's cycle collector around work that makes many objects and no reference cycles.

Each collection walks every live container object; a replay round or a voter-list fold makes tens of
thousands of them, so collections run often and each walks the whole batch again. Pauses nest and may
overlap across threads: the collector comes back on when the last one ends, and only if it was on before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
