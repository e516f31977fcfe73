"""A site key held by another process: signatures are asked for over a Unix socket, so the key never enters this one.

In host mode (`civitas up --self-governed`) the site runs from a release the voters approved, in a sandbox where the
key file is not visible; the supervisor holds the key and signs, over this socket, only what a site signs: its log's
checkpoints and its records' manifests (never a git tag, a mail or anything else).
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.signing import SiteKey

PUBLIC_KEY, SIGN = b"P", b"S"
OK, REFUSED = b"+", b"-"
MAX_MESSAGE = 1 << 20  # a checkpoint or a manifest is far smaller
_HEADER = struct.Struct(">cI")


@contextmanager
def short_path(path: Path) -> Iterator[str]:
    """A Unix socket's path short enough for bind and connect (108 bytes at most): through its folder's descriptor."""
    if len(os.fsencode(str(path))) < 100:
        yield str(path)
        return
    folder = os.open(Path(path).parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{Path(path).name}"
    finally:
        os.close(folder)


class SignerUnavailable(RuntimeError):
    """The supervisor that holds the site's key does not answer or refused to sign."""


def send_frame(conn: socket.socket, kind: bytes, payload: bytes) -> None:
    conn.sendall(_HEADER.pack(kind, len(payload)) + payload)


def read_frame(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One (kind, payload) frame, or None when the other end closed; ValueError on a frame too big."""
    header = _read_exactly(conn, _HEADER.size)
    if header is None:
        return None
    kind, size = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"a frame of {size} bytes is larger than {MAX_MESSAGE}")
    payload = _read_exactly(conn, size) if size else b""
    return None if payload is None else (kind, payload)


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = conn.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class SocketSigner:
    """What SiteKey needs of a private key (`sign`, `public_key`), answered by the process holding the real one."""

    def __init__(self, path: Path, timeout_s: float = 10.0) -> None:
        self.path, self.timeout_s = Path(path), timeout_s
        self._conn: socket.socket | None = None
        self._lock = threading.Lock()
        self._public: Ed25519PublicKey | None = None

    def _ask(self, kind: bytes, payload: bytes) -> bytes:
        with self._lock:
            for attempt in (1, 2):  # once more on a fresh connection: the supervisor may have restarted
                try:
                    if self._conn is None:
                        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self._conn.settimeout(self.timeout_s)
                        with short_path(self.path) as where:
                            self._conn.connect(where)
                    send_frame(self._conn, kind, payload)
                    answer = read_frame(self._conn)
                    if answer is None:
                        raise ConnectionError("the signer closed the connection")
                    break
                except OSError as e:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise SignerUnavailable(f"the site's signer at {self.path} does not answer: {e}") from None
        status, body = answer
        if status != OK:
            raise SignerUnavailable(f"the site's signer refused: {body.decode(errors='replace')}")
        return body

    def public_key(self) -> Ed25519PublicKey:
        if self._public is None:
            self._public = Ed25519PublicKey.from_public_bytes(self._ask(PUBLIC_KEY, b""))
        return self._public

    def sign(self, data: bytes) -> bytes:
        return self._ask(SIGN, data)


def socket_site_key(path: Path) -> SiteKey:
    """A SiteKey whose signatures come from the signer listening at `path`."""
    return SiteKey(SocketSigner(path))  # SiteKey uses only .sign and .public_key() of its private key
