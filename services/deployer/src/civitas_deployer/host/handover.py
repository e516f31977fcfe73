"""The supervised handover: a release that changes the safety kernel (the deployer's code, the supervisor, the
lock-out) is served by a supervisor built from that release, which takes over only once it has proved itself.

The old supervisor starts the new one from the release's environment (`civitas up --self-governed`, in a session
of its own, CIVITAS_HANDOVER_SOCKET naming a socket only the old one listens on). The new one proves itself without
taking anything: it reads the site's key, reads the deployment journal to its head and reaches the key socket, then
says ready with its version. Not ready within the window, or exited: it is stopped, the deployment fails at phase
`handover` and is rolled back, the old supervisor serving on. Ready: the deployment goes on (switch, applied), the
old one stops its rounds, lets go of the lock and says go, passing the public port's listening socket with it
(SCM_RIGHTS); the new one takes the lock (tenure.py), starts as any supervisor does, but accepts on that socket
only once its own process of the live release serves, and says serving; the old one, which answered visitors all
along, stops accepting, finishes the requests it is answering, stops its release and exits. A new one that is not
serving within the window is killed and the old one serves again. The lock makes the one supervisor whoever holds
it (the old one, between go and serving, only answers on the port: it deploys nothing), so a SIGKILL of either at
any point leaves at most one holding it, and a start afterwards exactly one: a new one whose old one died (the
socket closed, no port passed) binds the port and takes over as after a go. A voted roll-back to a release of
another safety kernel hands over to that release's own supervisor the same way, ready before anything is rolled back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from importlib import metadata
from pathlib import Path

from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.git import Git
from civitas_kernel.key_socket import short_path

HANDOVER_ENV = "CIVITAS_HANDOVER_SOCKET"
RELEASE_ENV = "CIVITAS_SUPERVISOR_RELEASE"  # the release whose code a handed-over supervisor runs
# The safety kernel's paths (governance.toml's constitutional ones that are code the supervisor runs).
SAFETY_KERNEL = ("services/deployer/", "src/civitas/cli/self_governed.py", "src/civitas/cli/locked.py",
                 "src/civitas/cli/lockdown", "kernel/src/civitas_kernel/lockdown.py")
GO_WAIT_S = 900.0  # how long a ready supervisor waits for the old one's go (its deployment's health window)


def version() -> str:
    """The deployer's version as installed where this supervisor runs from."""
    try:
        return metadata.version("civitas-deployer")
    except metadata.PackageNotFoundError:
        return "unknown"


def kernel_changes(git: Git, running: str | None, commit: str) -> list[str]:
    """The safety kernel's paths that differ between the code that runs (a commit; none: unknown) and `commit`."""
    if running is None or running == commit:
        return []
    names = git.out("diff", "--name-only", running, commit, "--", *SAFETY_KERNEL)
    return [n for n in names.splitlines() if n]


class Successor:
    """A new supervisor started from a release, ready to take over."""

    def __init__(self, process: subprocess.Popen, conn: socket.socket, commit: str, said: dict, log: Path) -> None:
        self.process, self.conn, self.commit, self.said, self.log = process, conn, commit, said, log

    def go(self, window_s: float, port_fd: int | None = None, sent=lambda: None) -> str | None:
        """Tell it to take over (this supervisor's rounds stopped, its lock let go), handing it the public port's
        listening socket `port_fd`; None once it serves, else why it did not. sent(): called once go is sent."""
        try:
            socket.send_fds(self.conn, [b"go\n"], [port_fd] if port_fd is not None else [])
            sent()
            self.conn.settimeout(window_s)
            line = self.conn.makefile("rb").readline()
        except OSError as error:
            line, why = b"", f"{type(error).__name__}: {error}"
        else:
            why = "it stopped before it served" if not line else f"it said {line[:200]!r}"
        if line.strip() == b"serving":
            self.conn.close()
            return None
        self.abandon()
        return f"{why} (within {window_s:g} s){_tail(self.log)}"

    def abandon(self) -> None:
        """Stop it (this supervisor stops, or serves on)."""
        self.conn.close()
        _kill(self.process)


def start_successor(venv: Path, commit: str, environ: dict[str, str], state: Path, host: str, port: int,
                    window_s: float) -> Successor:
    """The release's supervisor started and ready; ReleaseFailed (phase handover) when it is not within window_s."""
    path = state / "handover.sock"
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with short_path(path) as where:  # a deep home's path is longer than a Unix socket allows
        server.bind(where)
    os.chmod(path, 0o600)
    server.listen(1)
    log = state / f"handover-{commit[:12]}.log"
    try:
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [str(venv / "bin" / "civitas"), "up", "--self-governed", "--host", host, "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env=environ | {HANDOVER_ENV: str(path), RELEASE_ENV: commit})
    except OSError as error:  # its environment has no civitas to run (a release never built, or damaged)
        server.close()
        path.unlink(missing_ok=True)
        raise ReleaseFailed("handover", f"the new supervisor could not be started ({error}); the supervisor "
                                        "before it serves on") from None
    try:
        conn, said = _ready(server, process, window_s)
    except ReleaseFailed as failure:
        _kill(process)
        raise ReleaseFailed("handover", failure.reason, _tail(log, "")) from None
    finally:
        server.close()
        path.unlink(missing_ok=True)
    return Successor(process, conn, commit, said, log)


def _ready(server: socket.socket, process: subprocess.Popen, window_s: float) -> tuple[socket.socket, dict]:
    deadline = time.monotonic() + window_s
    server.settimeout(0.2)
    while True:
        if process.poll() is not None:
            raise ReleaseFailed("handover", f"the new supervisor exited with {process.returncode} before it was "
                                            "ready; the supervisor before it serves on")
        if time.monotonic() > deadline:
            raise ReleaseFailed("handover", f"the new supervisor was not ready within {window_s:g} s; the "
                                            "supervisor before it serves on")
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            said = json.loads(conn.makefile("rb").readline() or b"null")
        except (OSError, ValueError):
            said = None
        if isinstance(said, dict) and said.get("ready") is True:
            return conn, said
        conn.close()
        raise ReleaseFailed("handover", f"the new supervisor did not say ready ({str(said)[:200]}); the supervisor "
                                        "before it serves on")


def prove(path: str, checks: dict) -> tuple[socket.socket, socket.socket | None]:
    """The new side: say ready with what was checked, then wait for go (or the old one's end); the connection, and
    the public port's listening socket when the old one passed it (none: it died, and this one binds the port)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with short_path(Path(path)) as where:
        conn.connect(where)
    conn.sendall(json.dumps({"ready": True, "pid": os.getpid(), "version": version(), **checks}).encode() + b"\n")
    conn.settimeout(GO_WAIT_S)
    try:  # b"go" with the socket, or b"" when the old one died: the lock decides either way
        _, fds, _, _ = socket.recv_fds(conn, 16, 1)
    except OSError:
        fds = []
    return conn, (socket.socket(fileno=fds[0]) if fds else None)


def served(conn: socket.socket | None) -> None:
    if conn is not None:
        try:
            conn.sendall(b"serving\n")
        except OSError:
            pass  # the old one is gone: nothing waits to hear it
        conn.close()


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _tail(log: Path, prefix: str = "; it wrote:\n") -> str:
    try:
        text = log.read_bytes()[-4000:].decode(errors="replace")
    except OSError:
        return ""
    return prefix + text if text else ""
