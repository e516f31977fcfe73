"""A real `git daemon` on loopback for tests of what is fetched from, or pushed to, a git URL (a pytest plugin)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from civitas_kernel.testing.ports import free_port


@contextmanager
def serve_git(base: Path, port: int, *, push: bool = False) -> Iterator[str]:
    """`git daemon` serving the bare repositories in `base` on 127.0.0.1:port (taking pushes too when `push`), until
    the block ends; yields its git:// URL."""
    base.mkdir(parents=True, exist_ok=True)
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
                               *(["--enable=receive-pack"] if push else []),
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
        yield f"git://127.0.0.1:{port}"
    finally:
        daemon.terminate()
        daemon.wait(10)


@pytest.fixture
def git_daemon(tmp_path) -> Iterator[tuple[str, Path]]:
    """(the git:// URL of a folder of bare repositories served by `git daemon` on loopback, that folder)."""
    base = tmp_path / "served"
    with serve_git(base, free_port()) as url:
        yield url, base


@pytest.fixture
def git_push_daemon(tmp_path) -> Iterator[tuple[str, Path]]:
    """As git_daemon, and the daemon takes pushes (receive-pack) into the repositories of that folder."""
    base = tmp_path / "pushed"
    with serve_git(base, free_port(), push=True) as url:
        yield url, base
