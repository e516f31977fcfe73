"""What the change pages' tests share: five voters on the reported list of an embedded site with a clock to move,
and patches made as a voter makes them (a clone of the live repository, a commit, `git format-patch`)."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient

from civitas.settings import Settings
from civitas.site import Site
from civitas_deployer.domain.windows import HOUR_US
from civitas_gateway import AuthSettings, create_app
from civitas_gateway.page_kit import COOKIE, csrf_for

VOTERS = ("alice", "bob", "carol", "emily", "dave")
HTML = {"Accept": "text/html"}


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time_ns() // 1000

    def __call__(self) -> int:
        return self.now

    def hours(self, n: float) -> None:
        self.now += int(n * HOUR_US)


def make_patch(live, tmp_path, files: dict[str, str], name: str = "change") -> bytes:
    """A voter's patch: clone the live repository, commit, `git format-patch`."""
    clone = tmp_path / f"clone-{name}"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=Alice", "-c", "user.email=alice@example.org"]
    for path, text in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(text)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", name], check=True)
    return subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True, capture_output=True).stdout


def voters_site(smtp, tmp_path, **settings):
    """An embedded site whose five voters are on the reported list, its clock to move, and its app:
    (site, clock, app); `settings` are more of the site's settings."""
    clock = Clock()
    home = tmp_path / "home"
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0, **settings),
                clock=clock)
    auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30,
                        OPERATOR_TOKEN="operator-token-for-tests-0123456789")
    with site.lock:
        for name in VOTERS:
            site.registry.run(f"{name}@example.org", ["set", "residence", "1", "Elm", "St,", "Springfield", "90210"])
            site.registry.registrar_trust(f"{name}@example.org")
    site.compile("list")
    return site, clock, create_app(site, auth)


@pytest.fixture
def town(smtp, inbox, sign_in, tmp_path):
    """Five voters on the reported list, each signed in with their own client: (site, clock, clients)."""
    site, clock, app = voters_site(smtp, tmp_path)
    clients = {}
    with TestClient(app, raise_server_exceptions=False) as first:
        for name in VOTERS:
            client = first if not clients else TestClient(app, raise_server_exceptions=False)
            token = sign_in(client, f"{name}@example.org")
            client.headers["Authorization"] = f"Bearer {token}"
            client.cookies.set(COOKIE, token)
            client.csrf = csrf_for(token)
            clients[name] = client
        yield site, clock, clients


def publish_branch(live, tmp_path, served, branch: str, files: dict[str, str]) -> None:
    """A voter's branch on the live HEAD, pushed to their repository in `served` (voter.git)."""
    clone = tmp_path / f"clone-{branch}"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=Alice", "-c", "user.email=alice@example.org"]
    subprocess.run([*git, "switch", "--quiet", "-c", branch], check=True)
    for path, text in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(text)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", branch], check=True)
    target = served / "voter.git"
    if not target.exists():
        subprocess.run(["git", "init", "--quiet", "--bare", str(target)], check=True)
    subprocess.run([*git, "push", "--quiet", "--force", str(target), branch], check=True)


def open_at_once(live) -> None:
    """The live repository made, its rules changed as an approved proposal would: voting opens at once
    (review_hours = 0), for a site whose clock the test cannot move."""
    import time

    from civitas_deployer import LiveRepository

    LiveRepository.open_or_create(live, time.time_ns() // 1000)
    clone = live.parent / "operator-clone"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=Operator", "-c", "user.email=operator@example.org"]
    rules = clone / "governance.toml"
    rules.write_text(rules.read_text().replace("review_hours = 48", "review_hours = 0"))
    subprocess.run([*git, "commit", "--quiet", "-am", "Voting opens at once"], check=True)
    subprocess.run([*git, "push", "--quiet", "origin", "HEAD:main"], check=True)
