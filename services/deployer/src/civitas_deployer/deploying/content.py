"""The content runner: a release of the live repository's files served by the running site, no restart.

prepare checks the exported tree (every TOML file must read); start points `live` at the candidate; check asks the
gateway for the front page until it answers 200 with `Civitas-Release: <commit>` (a 5xx, a hang or another
release past the window fails it); switch keeps the candidate; stop points `live` back at the release before.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx

from civitas_kernel.smoke_pass import SMOKE_HEADER, SmokePass

from civitas_deployer.deploying.releases import Releases
from civitas_deployer.deploying.runner import Candidate, ReleaseFailed

RELEASE_HEADER = "civitas-release"
ATTEMPT_EVERY_S = 0.25  # between smoke requests while the gateway still serves another release


class ContentRunner:
    def __init__(self, releases: Releases, gateway: str | Callable[[], str], request_timeout_s: float = 10.0,
                 smoke: SmokePass | None = None) -> None:
        """smoke: the pass the gateway exempts from its rate limits (none: the requests are limited as any other)."""
        self.releases = releases
        self._gateway = gateway if callable(gateway) else (lambda: gateway)
        self.request_timeout_s = request_timeout_s
        self.smoke = smoke

    def prepare(self, commit: str, tree: Path) -> None:
        if not tree.is_dir():
            raise ReleaseFailed("building", f"the release of {commit[:12]} was not exported to {tree}")
        for path in sorted(tree.rglob("*.toml")):
            try:
                tomllib.loads(path.read_text())
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise ReleaseFailed("building", f"{path.relative_to(tree)} is not TOML: {error}") from None

    def start(self, commit: str) -> Candidate:
        candidate = Candidate(commit, self.releases.live())
        self.releases.point(commit)
        return candidate

    def check(self, candidate: Candidate, window_s: float) -> None:
        """GET / through the gateway, until it serves the candidate or the window ends."""
        url = self._gateway().rstrip("/") + "/"
        deadline = time.monotonic() + window_s
        seen = "no answer"
        headers = {"Accept": "text/html"}
        if self.smoke is not None:  # so a flood of public requests cannot rate-limit the health window away
            headers[SMOKE_HEADER] = self.smoke.issue(window_s + self.request_timeout_s)
        with httpx.Client(timeout=min(self.request_timeout_s, max(window_s, 0.1)), follow_redirects=False) as client:
            while True:
                try:
                    answer = client.get(url, headers=headers)
                except httpx.TimeoutException:
                    raise ReleaseFailed("health", f"GET {url} did not answer within {client.timeout.read:g} s "
                                                  "(the site hangs)") from None
                except httpx.TransportError as error:
                    seen = f"no answer ({type(error).__name__})"
                else:
                    served = answer.headers.get(RELEASE_HEADER)
                    if answer.status_code >= 500:
                        raise ReleaseFailed("health", f"GET {url} answered {answer.status_code} with release "
                                                      f"{candidate.commit[:12]} live", answer.text[-2048:])
                    if answer.status_code == 200 and served == candidate.commit:
                        return
                    seen = f"{answer.status_code} from release {served or 'none'}"
                    if answer.status_code == 429:  # the gateway took no pass: it holds another site key, or none
                        seen += " (rate-limited: do the gateway and the deployer share the site key?)"
                if time.monotonic() >= deadline:
                    raise ReleaseFailed("health", f"GET {url} did not serve release {candidate.commit[:12]} within "
                                                  f"{window_s:g} s; last: {seen}")
                time.sleep(ATTEMPT_EVERY_S)

    def switch(self, candidate: Candidate) -> None:
        """The candidate serves already: keep it."""

    def stop(self, candidate: Candidate) -> None:
        self.releases.point(candidate.previous)

    def recover(self) -> None:
        """Nothing runs but the site itself; the engine points `live` at the release that should serve."""
