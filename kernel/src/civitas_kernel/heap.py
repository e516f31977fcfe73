"""Keeping freed memory in the process while a record is exported and compiled, then handing it back.

A compile makes and frees arrays of millions of rows again and again; by default glibc returns the freed top of the
heap to the system each time, and the next array faults every page in afresh (a third of a recount's system time).
Inside `heap_kept()` the heap is not trimmed and every block comes from it, however large (glibc would map a block
of more than 32 MiB afresh and unmap it when freed); when the outermost one ends, what is free goes back at once
(malloc_trim), so a long-running site keeps nothing after a compile. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -2, -3, -4
_LARGEST = 32 << 20  # arrays up to this size come from the heap, not fresh mappings (glibc's largest threshold)
_KEEP, _PAD = 2**31 - 1, 256 << 20  # never trim inside; grow the heap by at least this much at a time
_DEFAULT = 128 << 10  # glibc's trim threshold, top pad and mapping threshold
_MAPPINGS = 65536  # glibc's most mappings at once

_lock = threading.Lock()
_depth = 0


def _libc():
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextmanager
def heap_kept() -> Iterator[None]:
    global _depth
    if _LIBC is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _LIBC.mallopt(_M_TRIM_THRESHOLD, _KEEP)
            _LIBC.mallopt(_M_TOP_PAD, _PAD)
            _LIBC.mallopt(_M_MMAP_THRESHOLD, _LARGEST)
            _LIBC.mallopt(_M_MMAP_MAX, 0)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT)
                _LIBC.mallopt(_M_TOP_PAD, _DEFAULT)
                _LIBC.mallopt(_M_MMAP_THRESHOLD, _DEFAULT)
                _LIBC.mallopt(_M_MMAP_MAX, _MAPPINGS)
                _LIBC.malloc_trim(0)
