"""A SHA-256 fed in order from one thread and computed in another: hashing large blocks releases the GIL, so the
whole-file digest of a segment being written or verified costs the thread that reads it next to nothing."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundDigest:
    """update() queues bytes (hashed in the order given); digest() waits for them. close() when done."""

    def __init__(self, data: bytes = b"") -> None:
        self._hash = hashlib.sha256(data)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest")
        self._pending: list[Future] = []

    def update(self, data) -> None:
        """Hash `data` after everything given before; it must not change until digest() returns."""
        self._pending.append(self._pool.submit(self._hash.update, data))

    def _settled(self):
        for pending in self._pending:
            pending.result()
        self._pending.clear()
        return self._hash

    def digest(self) -> bytes:
        return self._settled().digest()

    def hexdigest(self) -> str:
        return self._settled().hexdigest()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundDigest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
