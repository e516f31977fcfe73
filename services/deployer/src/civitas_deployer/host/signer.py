"""The supervisor's side of the key socket: it holds the site's key and signs only what a running site signs."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from civitas_kernel.archive import SIGNATURE_PREFIX
from civitas_kernel.key_socket import OK, PUBLIC_KEY, REFUSED, SIGN, read_frame, send_frame, short_path
from civitas_kernel.signing import CHECKPOINT_PREFIX, SiteKey

# A log checkpoint and a record's manifest; a git tag (SSHSIG), a mirror push or anything else is never signed here.
SIGNABLE = (CHECKPOINT_PREFIX, SIGNATURE_PREFIX)


class KeySocket:
    """A Unix socket at `path` on which releases ask the supervisor to sign; one thread per connection."""

    def __init__(self, path: Path, key: SiteKey) -> None:
        self.path, self.key = Path(path), key
        self._server: socket.socket | None = None
        self._closed = threading.Event()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # a socket left by a supervisor that was killed
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            with short_path(self.path) as where:
                server.bind(where)
        finally:
            os.umask(old)
        server.listen(16)
        self._server, self._inode = server, self.path.stat().st_ino
        threading.Thread(target=self._accept, name="key-socket", daemon=True).start()

    def stop(self) -> None:
        self._closed.set()
        if self._server is not None:
            self._server.close()
        try:  # only our own: at a handover the new supervisor's socket is at the same path by now
            if self.path.stat().st_ino == self._inode:
                self.path.unlink()
        except (OSError, AttributeError):
            pass

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="key-socket-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    frame = read_frame(conn)
                except (OSError, ValueError):
                    return
                if frame is None:
                    return
                kind, payload = frame
                try:
                    send_frame(conn, *answer(self.key, kind, payload))
                except OSError:
                    return


def answer(key: SiteKey, kind: bytes, payload: bytes) -> tuple[bytes, bytes]:
    """The reply to one request: the public key, or a signature over a checkpoint or a manifest, else a refusal."""
    if kind == PUBLIC_KEY:
        return OK, key.public_key
    if kind == SIGN:
        if payload.startswith(SIGNABLE):
            return OK, key.private_key.sign(payload)
        return REFUSED, b"only a log checkpoint or a record's manifest is signed for a release"
    return REFUSED, b"unknown request"
