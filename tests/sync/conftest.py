"""Sites as separate OS processes on loopback ports, each with its own CIVITAS_HOME, and the CLI run against them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from civitas_kernel.log import EventLog
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.ports import free_port

CIVITAS = str(Path(sys.executable).with_name("civitas"))


@dataclass
class SiteProcess:
    name: str
    home: Path
    port: int
    process: subprocess.Popen | None = None
    settings: dict[str, str] = field(default_factory=dict)  # a test's own CIVITAS_* settings, over the defaults

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")}
        return base | {"CIVITAS_HOME": str(self.home), "CIVITAS_SITE": self.name, "CIVITAS_PORT": str(self.port),
                       "CIVITAS_COMPILE_EVERY_MINUTES": "0", "CIVITAS_DECIDE_EVERY_S": "0",
                       "CIVITAS_SYNC_EVERY_S": "0.3", "CIVITAS_SYNC_BACKOFF_BASE_S": "0.5",
                       "CIVITAS_SYNC_BACKOFF_CAP_S": "2"} | self.settings

    def civitas(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([CIVITAS, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=120)
        assert not check or done.returncode == 0, done.stdout + done.stderr
        return done

    @property
    def site_key(self) -> SiteKey:
        return SiteKey.load_or_create(self.home / "site-key.pem")  # the key the site makes for itself at first use

    @property
    def key(self) -> str:
        return self.site_key.public_key.hex()

    def open_log(self) -> EventLog:
        """The site's own log, opened by the test (another process may be writing it: SQLite WAL)."""
        return open_log(f"sqlite:///{self.home / 'log.sqlite'}", self.name, self.site_key)

    def attach(self, other: SiteProcess, role: str, url: str | None = None) -> None:
        self.civitas("sync", "attach", other.name, "--role", role, "--url", url or other.url, "--key", other.key)

    def up(self) -> None:
        self.process = subprocess.Popen([CIVITAS, "up"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self._wait("/ready")

    def _wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                assert self.process.poll() is None, self.process.stderr.read()
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not answer {path} within 60 s")

    def heads(self) -> dict[tuple[str, str], int]:
        """What this running site says it holds (every stream, doubt too)."""
        rows = httpx.get(self.url + "/api/log/streams", timeout=5).json()
        return {(r["site"], r["stream"]): r["seq"] for r in rows}

    def serve_sync(self) -> None:
        """`civitas serve sync`: the sync pages and worker alone, over the site's log."""
        self.process = subprocess.Popen([CIVITAS, "serve", "sync"], env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self._wait("/health")


@pytest.fixture
def sites(tmp_path) -> Iterator[Callable[[str], SiteProcess]]:
    """sites(name) -> a site with its own home and port; any `up` it started is killed at the end."""
    made: list[SiteProcess] = []

    def make(name: str) -> SiteProcess:
        site = SiteProcess(name, tmp_path / name, free_port())
        site.home.mkdir()
        made.append(site)
        return site

    yield make
    for site in made:
        if site.process is not None and site.process.poll() is None:
            site.process.kill()
            site.process.communicate()


def wait_until(condition: Callable[[], bool], timeout_s: float = 60, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not hold within {timeout_s} s")
