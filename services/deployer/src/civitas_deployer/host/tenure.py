"""One supervisor per site home: an exclusive lock on CIVITAS_HOME/deployer/supervisor.lock, held for as long as the
supervisor runs. The kernel lets go of it when the process ends, however it ends (SIGKILL included), so a second
`civitas up --self-governed` on the same home is refused while one serves and can start as soon as none does. It is
the ground a handover of the deployer's own code stands on: whoever holds the lock is the one supervisor serving.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


class AnotherSupervisor(RuntimeError):
    """Another supervisor holds this home: a second one would fight it for the port, the child and the journal."""


class Tenure:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def take(self, wait_s: float = 0.0) -> None:
        """Hold the lock, waiting up to wait_s for another holder to let go; AnotherSupervisor saying who holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise AnotherSupervisor(f"another supervisor (pid {holder}) serves the site whose lock is "
                                            f"{self.path}; stop it first (SIGTERM), or use another CIVITAS_HOME"
                                            ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor lets go of the lock
            self._fd = None
