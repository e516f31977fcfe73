"""A release's site as a child process: started in its sandbox on a port of its own, watched, and stopped.

Each child is recorded in CIVITAS_HOME/deployer/host/children/ (pid and its start time, and its supervisor's) so
that a supervisor started after a crash stops what an earlier one left (bubblewrap's --die-with-parent normally has
already); one whose supervisor still runs (handing over to this one, serving until this one serves) is left to it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on now (the child binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _started_at(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a pid apart from a later one reusing it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@dataclass
class Child:
    commit: str
    port: int
    log: Path
    process: subprocess.Popen = field(repr=False)
    record: Path = field(repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def exit_status(self) -> int | None:
        return self.process.poll()


class Children:
    """Spawning, stopping and remembering the site processes of releases."""

    def __init__(self, records: Path, stop_grace_s: float = 10.0) -> None:
        self.records, self.stop_grace_s = Path(records), stop_grace_s
        self.records.mkdir(parents=True, exist_ok=True)

    def spawn(self, commit: str, port: int, argv: list[str], log: Path) -> Child:
        with open(log, "ab") as out:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        record = self.records / f"{process.pid}.json"
        record.write_text(json.dumps({"pid": process.pid, "started_at": _started_at(process.pid),
                                      "commit": commit, "port": port, "supervisor": os.getpid(),
                                      "supervisor_started_at": _started_at(os.getpid())}))
        return Child(commit, port, log, process, record)

    def stop(self, child: Child) -> None:
        """SIGTERM to its process group, SIGKILL after the grace period; forget it."""
        _kill_group(child.process.pid, signal.SIGTERM)
        try:
            child.process.wait(self.stop_grace_s)
        except subprocess.TimeoutExpired:
            _kill_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
        child.record.unlink(missing_ok=True)

    def stop_leftovers(self) -> list[dict]:
        """Kill every recorded child still running (a crashed supervisor's); what was found."""
        found = []
        for path in sorted(self.records.glob("*.json")):
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                continue
            keeper = info.get("supervisor")
            if keeper not in (None, os.getpid()) and _started_at(keeper) == info.get("supervisor_started_at"):
                continue  # a supervisor handing over to this one still runs it, and stops it itself
            if info.get("started_at") is not None and _started_at(info["pid"]) == info["started_at"]:
                _kill_group(info["pid"], signal.SIGKILL)
                found.append(info)
                for _ in range(100):
                    if _started_at(info["pid"]) != info["started_at"]:
                        break
                    time.sleep(0.05)
            path.unlink(missing_ok=True)
        return found


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
