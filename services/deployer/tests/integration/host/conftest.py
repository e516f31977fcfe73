"""Host mode's fixtures: the civitas source in a live repository with its broken variants (made once), one build
cache shared by every test (the base environment and each package built once), and per test a site home with the
supervisor's parts: the key socket, the public proxy and the host runner."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from civitas_deployer.deploying.releases import Releases
from civitas_deployer.host import HealthLimits, HostRunner, KeySocket, PublicProxy
from civitas_deployer.host.source import commit_source, installed_source
from civitas_deployer.live_repo import LiveRepository
from civitas_kernel.signing import SiteKey

from .releases import broken_variants

# Short enough for tests, long enough for a site to start on a busy machine; the hang test waits the whole timeout.
TEST_LIMITS = HealthLimits(ready_timeout_s=45.0, smoke_timeout_s=10.0)
WINDOW_S = 2.0

# Host mode runs every release in bubblewrap: without it these tests fail (apt-get install bubblewrap; .ci/run does).
assert shutil.which("bwrap") is not None, "host mode needs bubblewrap: apt-get install bubblewrap"


@dataclass
class Sources:
    repo: LiveRepository
    good: str
    variants: dict[str, str]


@pytest.fixture(scope="session")
def sources(tmp_path_factory) -> Sources:
    repo = LiveRepository.open_or_create(tmp_path_factory.mktemp("sources") / "live.git", time.time_ns() // 1000)
    good = commit_source(repo, installed_source(), time.time_ns() // 1000)
    return Sources(repo, good, broken_variants(repo.git, good, installed_source()))


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build-cache")


@dataclass
class Host:
    home: Path
    key: SiteKey
    releases: Releases
    proxy: PublicProxy
    runner: HostRunner

    def export(self, commit: str) -> Path:
        return self.releases.export(commit, None, time.time_ns() // 1000)

    def get(self, path: str = "/") -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.proxy.port}{path}", timeout=10)

    def deploy(self, commit: str):
        """prepare, start, check, switch: what the engine does with a release that passes."""
        self.runner.prepare(commit, self.export(commit))
        candidate = self.runner.start(commit)
        self.runner.check(candidate, WINDOW_S)
        self.runner.switch(candidate)
        return candidate


MIRROR_URL = "https://deploy-user:mirror-secret@mirror.example.org/site.git"


@pytest.fixture
def host(tmp_path, sources, build_cache):
    home = tmp_path / "home"
    home.mkdir()
    key = SiteKey.load_or_create(home / "site-key.pem")
    (home / "deployer").mkdir(mode=0o700)
    signer = KeySocket(home / "deployer" / "key-socket" / "signer.sock", key)
    signer.start()
    proxy = PublicProxy("127.0.0.1", 0)
    proxy.start()
    releases = Releases(home / "releases", sources.repo.git)  # as the supervisor keeps them
    environ = {"CIVITAS_SITE": "alpha.example.org", "CIVITAS_COMPILE_EVERY_MINUTES": "0",
               "CIVITAS_MIRROR_URLS": MIRROR_URL, "PATH": "/usr/bin:/bin"}
    runner = HostRunner(home, releases, proxy, signer.path.parent, limits=TEST_LIMITS, stop_grace_s=5,
                        environ=environ, build_cache=build_cache)
    yield Host(home, key, releases, proxy, runner)
    runner.close()
    proxy.stop()
    signer.stop()
