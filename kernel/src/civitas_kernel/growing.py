"""A segment read while it is still being written: a record's export and its verification on two cores at once.

`ready` exports the cut from the log (mostly the database's time) and then verifies and reads what it wrote (mostly
hashing and numpy's). Neither needs the other's core, so the export runs in a thread writing the archive's events
member, and the verifier reads the same file behind it: a read waits until the writer has flushed that far, and
sees the end only once the writer is done. The bytes verified are the bytes written, as before; only the waiting is
new. A writer that fails ends the file where it stopped (the verifier then finds it cut short, and the writer's
error is the one raised); a reader that gives up stops the writer at its next write.
"""

from __future__ import annotations

import io
import os
import threading
from typing import BinaryIO


class Stopped(Exception):
    """The reader gave up (its verification or compilation failed): the export need not go on."""


class Growing:
    """The file a writer is filling from `offset`, as many readers may follow it."""

    def __init__(self, path, offset: int = 0) -> None:
        self.path, self.offset = path, offset
        self._changed = threading.Condition()
        self._written = 0  # bytes flushed from offset
        self._done = self._stopped = False

    def writer(self, out: BinaryIO) -> BinaryIO:
        """`out` (positioned at offset), flushed and announced at every write."""
        return _Announcing(out, self)

    def wrote(self, size: int) -> None:
        with self._changed:
            self._written += size
            self._changed.notify_all()

    def done(self) -> None:
        """The writer is finished, whole or not: readers now see the end."""
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def stop(self) -> None:
        """Readers gave up: the writer's next write raises Stopped."""
        with self._changed:
            self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    def wait(self, until: int) -> int:
        """Bytes flushed, once at least `until` are or the writer is done."""
        with self._changed:
            while self._written < until and not self._done:
                self._changed.wait()
            return self._written

    def open(self) -> BinaryIO:
        return _Following(self)


class _Announcing(io.RawIOBase):
    def __init__(self, out: BinaryIO, growing: Growing) -> None:
        self._out, self._growing = out, growing

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._growing.stopped:
            raise Stopped
        self._out.write(data)
        self._out.flush()  # in the file, where the reader's own descriptor sees it
        self._growing.wrote(len(data))
        return len(data)


class _Following(io.RawIOBase):
    """The growing file from its offset, read by a descriptor of its own; a read returns only once it is whole or
    the writer is done (then short: the end)."""

    def __init__(self, growing: Growing) -> None:
        self._growing, self._pos = growing, 0
        self._fd = os.open(growing.path, os.O_RDONLY)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 62
        available = self._growing.wait(self._pos + n) - self._pos
        chunks, left = [], min(n, available)
        while left > 0:
            chunk = os.pread(self._fd, left, self._growing.offset + self._pos)
            if not chunk:
                break
            chunks.append(chunk)
            self._pos += len(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        available = self._growing.wait(self._pos + len(view)) - self._pos
        got = 0
        while got < min(len(view), available):
            k = os.preadv(self._fd, [view[got:min(len(view), available)]], self._growing.offset + self._pos)
            if not k:
                break
            got += k
            self._pos += k
        return got

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
