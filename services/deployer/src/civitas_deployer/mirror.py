"""The off-site mirrors: after a release passed its health window, its commit (as branch main) and its signed tag
are pushed to every remote of CIVITAS_MIRROR_URLS.

`verified()` only records what is due and wakes the pusher; pushes happen in `push_due()` (the pusher's thread,
or a test), each remote on its own, so a remote that is down or refuses delays nobody: it is retried with capped
exponential backoff kept in the state file, and `state()` shows where each one stands. The mirror's main is
always a release that passed health, never the live repository's head of the moment (which may hold a
release still being checked).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from civitas_kernel.signing import SiteKey

from civitas_deployer.git import Git, GitError
from civitas_deployer.mirror_remote import Remote, parse_remotes
from civitas_deployer.mirror_state import (RETRY_FIRST_S, RETRY_MAX_S, Release, RemoteState, load_state,
                                           retry_wait_s, save_state)
from civitas_deployer.tag_signing import sign_tag

PUSH_TIMEOUT_S = 120.0  # one push to one remote, at most; a hung remote counts as a failure
IDLE_WAKE_S = 60.0  # the pusher looks at the state at least this often
_PUSH_ENV_KEPT = ("HOME", "SSH_AUTH_SOCK")  # what ssh needs to find the operator's key for an ssh:// mirror


def _now_us() -> int:
    return time.time_ns() // 1000


class Mirrors:
    """The mirrors of one live repository, their state in `state_path`; `key` is the site's (or its PEM file)."""

    def __init__(self, repo_path: Path, urls: str | list[Remote], key: SiteKey | Path, state_path: Path, *,
                 site: str = "localhost", now: Callable[[], int] = _now_us, timeout_s: float = PUSH_TIMEOUT_S,
                 retry_first_s: float = RETRY_FIRST_S, retry_max_s: float = RETRY_MAX_S) -> None:
        self.git, self.state_path, self.site, self.now = Git(repo_path), Path(state_path), site, now
        self.remotes = {r.url: r for r in (parse_remotes(urls) if isinstance(urls, str) else urls)}
        self._key, self.timeout_s, self.retry = key, timeout_s, (retry_first_s, retry_max_s)
        self._lock, self._sign_lock, self._wake, self._stop = (threading.Lock(), threading.Lock(), threading.Event(),
                                                                threading.Event())
        self._thread: threading.Thread | None = None
        self._state = load_state(self.state_path)
        self._state.remotes = {url: self._state.remotes.get(url, RemoteState()) for url in self.remotes}

    @classmethod
    def of(cls, settings, repo_path: Path, key: SiteKey | Path, **options) -> Mirrors:
        """The mirrors the deployer's settings name (ChangeSettings: CIVITAS_MIRROR_URLS, CIVITAS_HOME)."""
        return cls(repo_path, settings.mirror_remotes, key, settings.mirror_state_path, site=settings.SITE,
                   timeout_s=settings.MIRROR_PUSH_TIMEOUT_S, **options)

    @property
    def key(self) -> SiteKey:
        if not isinstance(self._key, SiteKey):
            self._key = SiteKey.load_or_create(Path(self._key))
        return self._key

    # -- what the engine calls ------------------------------------------------------------------------------------

    def verified(self, commit: str, tag: str, message: str) -> None:
        """Release `commit` passed its health window: push it and its tag `tag` (signed, with `message`) to every
        mirror. Returns at once; a mirror waiting out a backoff keeps waiting."""
        if self.git.run("check-ref-format", f"refs/tags/{tag}", check=False).returncode != 0:
            raise ValueError(f"{tag!r} cannot be a git tag's name")
        with self._lock:
            latest = self._state.latest
            if latest is None or (latest.commit, latest.tag) != (commit, tag):
                self._state.releases = [r for r in self._state.releases if r.tag != tag] + [
                    Release(commit, tag, message)]
            now = self.now()
            for remote in self._state.remotes.values():
                if not remote.failures:
                    remote.next_attempt_us = now
            self._state.forget_taken()
            save_state(self.state_path, self._state)
        self._wake.set()

    def state(self) -> list[dict]:
        """Each mirror: its shown URL, ok / retrying / never, what it took, when it was tried and will be, why not."""
        with self._lock:
            latest = self._state.latest
            rows = []
            for url, s in self._state.remotes.items():
                kind = "retrying" if s.failures else "never" if s.last_attempt_us is None else "ok"
                pending = latest.commit if latest and s.pushed_commit != latest.commit else None
                rows.append({"url": url, "state": kind, "pushed_commit": s.pushed_commit, "tag": s.tag,
                             "last_attempt_us": s.last_attempt_us,
                             "next_attempt_us": s.next_attempt_us if pending else None,
                             "error": s.error, "pending_commit": pending, "failures": s.failures})
            return rows

    # -- pushing --------------------------------------------------------------------------------------------------

    def due(self, now_us: int) -> dict[str, list[Release]]:
        """The mirrors whose turn has come, with the releases each still lacks."""
        with self._lock:
            due = {}
            for url, s in self._state.remotes.items():
                missing = self._state.missing(url)
                if missing and (s.next_attempt_us or 0) <= now_us:
                    due[url] = missing
            return due

    def push_due(self, now_us: int | None = None) -> dict[str, str | None]:
        """Push to every mirror whose turn has come; {shown URL: None when it took the release, else the error}."""
        now = self.now() if now_us is None else now_us
        due = self.due(now)
        if not due:
            return {}
        outcome: dict[str, str | None] = {}
        try:
            self._sign({r.tag: r for missing in due.values() for r in missing}.values())
        except (GitError, OSError, ValueError) as e:
            outcome = {url: f"could not sign the release's tag: {e}" for url in due}
        if not outcome:
            with ThreadPoolExecutor(max_workers=min(8, len(due)), thread_name_prefix="civitas-mirror") as pool:
                pushes = {url: pool.submit(self._push, self.remotes[url], missing) for url, missing in due.items()}
                outcome = {url: future.result() for url, future in pushes.items()}
        self._record(due, outcome, now)
        return outcome

    def _sign(self, releases) -> None:
        with self._sign_lock:
            for release in releases:
                sign_tag(self.git, self.key, release.tag, release.commit, release.message, site=self.site,
                         at_us=self.now())

    def _push(self, remote: Remote, missing: list[Release]) -> str | None:
        """One `git push` of the latest release as main and of every missing tag; None, or why it failed."""
        refspecs = [f"{missing[-1].commit}:refs/heads/main"] + [f"refs/tags/{r.tag}:refs/tags/{r.tag}" for r in missing]
        env = {k: os.environ[k] for k in _PUSH_ENV_KEPT if k in os.environ} | remote.push_env() | {
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
        try:
            self.git.run(*remote.push_config(), "push", "--porcelain", "--", remote.url, *refspecs, env=env,
                         timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            return f"no answer within {self.timeout_s:g} s"
        except GitError as e:
            lines = [line for line in e.stderr.strip().splitlines() if line.strip()]
            return remote.scrub(" / ".join(lines[-3:]) or f"git push failed ({e.returncode})")[:500]
        except OSError as e:
            return f"could not run git: {e}"
        return None

    def _record(self, due: dict[str, list[Release]], outcome: dict[str, str | None], now: int) -> None:
        with self._lock:
            for url, error in outcome.items():
                s = self._state.remotes.get(url)
                if s is None:
                    continue
                s.last_attempt_us, s.error = now, error
                if error is None:
                    s.pushed_commit, s.tag, s.failures = due[url][-1].commit, due[url][-1].tag, 0
                    more = self._state.missing(url)  # a release verified while this push ran
                    s.next_attempt_us = now if more else None
                else:
                    s.failures += 1
                    s.next_attempt_us = now + int(retry_wait_s(s.failures, *self.retry) * 1_000_000)
            self._state.forget_taken()
            save_state(self.state_path, self._state)

    # -- the pusher's thread --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Push in a thread of its own: when a release is verified, and when a mirror's retry comes due."""
        if self.remotes and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="civitas-mirror", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)

    def _wait_s(self) -> float:
        with self._lock:
            times = [s.next_attempt_us for url, s in self._state.remotes.items()
                     if s.next_attempt_us is not None and self._state.missing(url)]
        if not times:
            return IDLE_WAKE_S
        return max(0.0, min(IDLE_WAKE_S, (min(times) - self.now()) / 1_000_000))

    def _run(self) -> None:
        import logging

        while not self._stop.is_set():
            self._wake.wait(self._wait_s())
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.push_due()
            except Exception:  # a failed round must not end the pusher; the log says why
                logging.getLogger("civitas.mirror").exception("pushing to the mirrors failed")
