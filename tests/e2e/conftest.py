"""What the end-to-end tests share: a real `civitas up` process (the browser is civitas.testing's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from civitas_kernel.testing.ports import free_port

CIVITAS = str(Path(sys.executable).with_name("civitas"))


@dataclass
class Up:
    """A running `civitas up`: its process, home and address; `stop()` sends Ctrl-C and returns what it printed."""

    process: subprocess.Popen
    home: Path
    base: str

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, out + err
        return out


def start_up(home: Path, *, port: int | None = None, **env: str) -> Up:
    """`civitas up` as a newcomer starts it: the environment's CIVITAS_SMTP_* left out unless given."""
    port = port or free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")}
    env = base_env | {"CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
                      "CIVITAS_COMPILE_EVERY_MINUTES": "0"} | env
    process = subprocess.Popen([CIVITAS, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/ready", timeout=1).status_code == 200:
                return Up(process, home, base)
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.05)
    process.kill()
    raise AssertionError("civitas up did not answer within 30 s")


@pytest.fixture
def up(tmp_path) -> Iterator[callable]:
    """up(**env) -> a running `civitas up` on a fresh home; stopped at the end if the test did not stop it."""
    started: list[Up] = []

    def start(**env: str) -> Up:
        started.append(start_up(tmp_path / "home", **env))
        return started[-1]

    yield start
    for site in started:
        if site.process.poll() is None:
            site.process.kill()
            site.process.communicate()
