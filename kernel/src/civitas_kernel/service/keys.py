"""The one site key every service signs with, created atomically so services starting together agree on it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from civitas_kernel.signing import SiteKey


def shared_site_key(path: Path) -> SiteKey:
    """Load the key at `path`, or create it there; of several processes creating it at once, the first link wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = SiteKey.generate().private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".site-key-")  # mode 0600
        try:
            os.write(fd, pem)
            os.close(fd)
            try:
                os.link(tmp, path)  # atomic, and fails if another process linked its key first
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return SiteKey.load_or_create(path)
