"""A real `git daemon` on loopback for tests of what is fetched from a git URL (a pytest plugin)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from civitas_kernel.testing.ports import free_port


@pytest.fixture
def git_daemon(tmp_path) -> Iterator[tuple[str, Path]]:
    """(the git:// URL of a folder of bare repositories served by `git daemon` on loopback, that folder)."""
    base, port = tmp_path / "served", free_port()
    base.mkdir()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
                               f"--port={port}", "--listen=127.0.0.1", str(base)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert daemon.poll() is None and time.monotonic() < deadline, "git daemon did not start"
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}", base
    finally:
        daemon.terminate()
        daemon.wait(10)
