"""The host runner: each release its own virtual environment and site process, blue/green behind the public proxy.

prepare builds CIVITAS_HOME/releases/<commit>/venv offline; start runs the release's `civitas up` in its sandbox on
a port of its own beside the serving one; check is the health window; switch points the proxy (and `live`) at the
candidate and stops the release before; stop ends a candidate; recover ends whatever a crashed supervisor left.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from civitas_deployer.deploying.releases import Releases
from civitas_deployer.deploying.runner import Candidate, ReleaseFailed
from civitas_deployer.host.base_env import site_packages
from civitas_deployer.host.build import PTH, build_release
from civitas_deployer.host.children import Child, Children, free_port
from civitas_deployer.host.health import HealthLimits, check, wait_ready
from civitas_deployer.host.proxy import PublicProxy
from civitas_deployer.host.sandbox import child_env, sandboxed

log = logging.getLogger("civitas.deployer.host")


class HostRunner:
    def __init__(self, home: Path, releases: Releases, proxy: PublicProxy, signer_dir: Path, *,
                 limits: HealthLimits = HealthLimits(), stop_grace_s: float = 10.0,
                 environ: dict[str, str] | None = None, writable: tuple[Path, ...] = (),
                 read_only: tuple[Path, ...] = (), proposals: Path | None = None,
                 build_cache: Path | None = None) -> None:
        """build_cache: where base environments and built packages are kept (CIVITAS_HOME/deployer by default);
        read_only: what a release sees but may not write (the live repository); proposals: the repository its
        site writes the voters' proposals to instead."""
        self.home, self.releases, self.proxy, self.signer_dir = Path(home), releases, proxy, Path(signer_dir)
        self.limits, self.writable, self.read_only, self.proposals = limits, writable, read_only, proposals
        self.environ = dict(os.environ if environ is None else environ)
        state = self.home / "deployer"
        self.build_cache = Path(build_cache) if build_cache else state
        self.children = Children(state / "host" / "children", stop_grace_s)
        self.serving: Candidate | None = None
        self._lock = threading.Lock()
        # bubblewrap's --die-with-parent follows the thread that spawned it: one thread that lives as long as we do.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="release-spawner")

    # -- the Runner seam -------------------------------------------------------------------

    def prepare(self, commit: str, tree: Path) -> None:
        build_release(Path(tree).parent, self.build_cache)

    def start(self, commit: str) -> Candidate:
        release = self.releases.root / commit
        venv = release / "venv"
        if not (venv / "built").exists():
            raise ReleaseFailed("starting", f"release {commit[:12]} was not built")
        port = free_port()
        env = child_env(self.environ, self.home, port, self.proposals)
        env["CIVITAS_SUPERVISOR_PASS_FILE"] = str(self._write_pass(release, commit))
        argv = sandboxed([str(venv / "bin" / "civitas"), "up"], home=self.home, release=release, commit=commit,
                         shared=self._shared_of(venv), signer_dir=self.signer_dir, env=env, writable=self.writable,
                         read_only=self.read_only)
        child = self._spawner.submit(self.children.spawn, commit, port, argv, release / f"site-{port}.log").result()
        log.info("release %s started on port %d (pid %d)", commit[:12], port, child.process.pid)
        previous = self.serving.commit if self.serving else self.releases.live()
        return Candidate(commit, previous, {"child": child, "port": port})

    def check(self, candidate: Candidate, window_s: float) -> None:
        check(_child(candidate), window_s, self.limits, self.proxy.supervisor_pass)

    def switch(self, candidate: Candidate) -> None:
        with self._lock:
            self.proxy.switch(candidate.details["port"])
            self.releases.point(candidate.commit)
            before, self.serving = self.serving, candidate
        if before is not None and before is not candidate:
            self.proxy.quiet(before.details["port"], self.children.stop_grace_s)  # what was sent to it, answered
            self.stop(before)
        log.info("release %s serves", candidate.commit[:12])

    def stop(self, candidate: Candidate) -> None:
        child = candidate.details.get("child")
        if child is not None:
            self.children.stop(child)
        with self._lock:
            if self.serving is candidate:
                self.serving = None
                self.proxy.switch(None)

    def recover(self) -> None:
        """Stop whatever a supervisor that was killed left running; serve_live() then starts the live release."""
        for info in self.children.stop_leftovers():
            log.warning("stopped release %s (pid %d) left by a supervisor that stopped", info["commit"][:12],
                        info["pid"])

    # -- what the supervisor adds ------------------------------------------------------------

    def serve_live(self) -> Candidate | None:
        """Make sure the release `live` names is the one serving: built, started, ready, behind the proxy."""
        commit = self.releases.live()
        if commit is None or (self.serving is not None and self.serving.commit == commit
                              and _child(self.serving).alive()):
            return self.serving
        self.prepare(commit, self.releases.tree(commit))
        candidate = self.start(commit)
        try:
            wait_ready(_child(candidate), self.limits, self.proxy.supervisor_pass)
        except ReleaseFailed:
            self.stop(candidate)
            raise
        self.switch(candidate)
        return candidate

    def restart(self, window_s: float) -> str:
        """The serving release started again: a new process of the same release beside the one serving, ready and
        healthy through `window_s`, then the proxy switched to it and the old one stopped. One that does not come
        back is stopped and the old one keeps serving; ReleaseFailed says why."""
        before = self.serving
        if before is None or not _child(before).alive():
            raise ReleaseFailed("starting", "no release serves now, so none was restarted (the next round starts "
                                            "the live release)")
        commit = before.commit
        candidate = self.start(commit)
        try:
            wait_ready(_child(candidate), self.limits)
            check(_child(candidate), window_s, self.limits)
        except ReleaseFailed as error:
            self.stop(candidate)
            raise ReleaseFailed(error.phase, f"release {commit[:12]} did not come back ({error.reason}); the "
                                f"process before it (pid {_child(before).process.pid}) still serves",
                                error.log_tail) from None
        self.switch(candidate)
        return (f"release {commit[:12]} restarted: pid {_child(candidate).process.pid} serves on port "
                f"{candidate.details['port']} after a health window of {window_s:g} s; pid "
                f"{_child(before).process.pid} was stopped")

    def close(self) -> None:
        """Stop every release this runner started (the supervisor is stopping)."""
        if self.serving is not None:
            self.stop(self.serving)
        self.proxy.switch(None)
        self._spawner.shutdown(wait=False)

    def _write_pass(self, release: Path, commit: str) -> Path:
        """The proxy's pass in a file of the release's own (0600; never on a command line, which anyone may read):
        where the release sees it."""
        path = release / "supervisor-pass"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.proxy.supervisor_pass)
        return self.home / "releases" / commit / "supervisor-pass"

    def _shared_of(self, venv: Path) -> tuple[Path, ...]:
        """The folders the release's venv names: its built packages and the base (deployer's files, bound read only)."""
        return tuple(Path(line) for line in (site_packages(venv) / PTH).read_text().split())


def _child(candidate: Candidate) -> Child:
    return candidate.details["child"]
