"""What host mode's end-to-end tests share: `civitas up --self-governed` as a real process on a fresh home, code
changes to the civitas source of its live repository (real edits, approved by its voters), the build cache one
first start made (hard-linked into each new home, so a release builds in seconds), and the processes left."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from civitas_deployer import LiveRepository
from civitas_deployer.host.source import commit_source, installed_source
from civitas_kernel.testing.ports import free_port

from .conftest import CIVITAS, Up

GATEWAY_INIT = "services/gateway/src/civitas_gateway/__init__.py"
HOME_TEMPLATE = "services/gateway/src/civitas_gateway/templates/home.html"
# Short rounds, a short health window: a test waits for each.
HOST_ENV = {"CIVITAS_DEPLOY_EVERY_S": "0.2", "CIVITAS_DECIDE_EVERY_S": "0", "CIVITAS_DEPLOY_HEALTH_S": "2",
            "CIVITAS_READY_TIMEOUT_S": "45", "CIVITAS_STOP_GRACE_S": "5"}
START_TIMEOUT_S = 120


def source_file(home: Path, path: str) -> str:
    repo = LiveRepository(home / "live.git")
    return repo.read(repo.head(), path).decode()


def gateway_that_raises(home: Path) -> tuple[str, dict[str, str]]:
    """A code change whose gateway raises as it is imported: the new release never gets ready."""
    text = source_file(home, GATEWAY_INIT) + '\nraise RuntimeError("the gateway refuses to start")\n'
    return "A gateway that does not start", {GATEWAY_INIT: text}


def polls_heading(home: Path, heading: str = "Polls of the town") -> tuple[str, dict[str, str]]:
    """A code change to the gateway's front page template: a new heading over the polls."""
    text = source_file(home, HOME_TEMPLATE).replace("<h2>Polls</h2>", f"<h2>{heading}</h2>", 1)
    return "A warmer front page", {HOME_TEMPLATE: text}


def home_with_source(tmp_path, cache):
    """A fresh home whose live repository carries the civitas source, as the first self-governed start leaves it."""
    home = tmp_path / "home"
    seed_build_cache(home, cache)
    now = time.time_ns() // 1000
    repo = LiveRepository.open_or_create(home / "live.git", now)
    commit_source(repo, installed_source(), now)
    return home, repo


def start_self_governed(home: Path, *, port: int | None = None, program: str = CIVITAS, **env: str) -> Up:
    """`civitas up --self-governed` on `home`, once its public port answers /ready from the live release; program:
    which civitas (a release's own, releases/COMMIT/venv/bin/civitas, runs that release's supervisor)."""
    port = port or free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")}
    env = base_env | {"CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
                      "CIVITAS_COMPILE_EVERY_MINUTES": "0"} | HOST_ENV | env
    process = subprocess.Popen([program, "up", "--self-governed"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/ready", timeout=2).status_code == 200:
                return Up(process, home, base)
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(process.stdout.read() + process.stderr.read())
        time.sleep(0.1)
    process.kill()
    out, err = process.communicate()
    raise AssertionError(f"civitas up --self-governed did not serve within {START_TIMEOUT_S} s:\n{out}\n{err}")


def seed_build_cache(home: Path, cache: Path) -> None:
    """The base environment and built packages of an earlier home, hard-linked into this one's deployer folder."""
    state = home / "deployer"
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("base", "packages"):
        if (cache / name).exists() and not (state / name).exists():
            subprocess.run(["cp", "-al", str(cache / name), str(state / name)], check=True)


def processes_of(home: Path) -> list[str]:
    """The command lines of running processes that name this home (a supervisor, a release's bubblewrap)."""
    return [argv for _, argv in _named(home)]


def _named(home: Path) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(str(home).encode() in a for a in argv):
            found.append((int(entry.name), " ".join(a.decode(errors="replace") for a in argv)))
    return found


@pytest.fixture
def self_governed():
    """self_governed(home, **env) -> a running supervisor; killed at the end if the test did not stop it."""
    started: list[Up] = []

    def start(home: Path, program: str = CIVITAS, **env: str) -> Up:
        started.append(start_self_governed(home, program=program, **env))
        return started[-1]

    yield start
    for site in started:
        if site.process.poll() is None:
            site.process.kill()  # its releases end with it (bubblewrap's --die-with-parent)
            site.process.communicate()
        for pid, argv in _named(site.home):  # a supervisor handed over to, in a session of its own
            if "--self-governed" in argv:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture(scope="session")
def host_build_cache(tmp_path_factory) -> Path:
    """The deployer's base environment and built packages, from one first start on a home of its own."""
    home = tmp_path_factory.mktemp("host-cache") / "home"
    start_self_governed(home).stop()
    return home / "deployer"


class Alive:
    """A process known by its pid only, as wait_for_release and wait_for_ended ask of one (poll: None while it runs)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self):
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1
        return None

    @property
    def stderr(self):
        raise AssertionError(f"the supervisor pid {self.pid} ended")
