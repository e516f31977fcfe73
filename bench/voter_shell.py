"""Voter-shell figures: files of voter commands applied in local mode (`civitas voter < FILE`), and start times.

Three files: the mix voters send (set name and residence, vouch for a neighbour, vote, change a vote), registrations
alone (set name, set residence, trust) and votes alone (vote, change a vote; the voters registered first, untimed).
Each runs in a fresh site; its floor is the time, in the same run, to read the log it wrote and SHA-256 it once;
peak is the civitas process's resident set. Start times: `civitas --help`, `civitas voter --help`,
`civitas audit --help` and `civitas voter` on empty input (the voter shell wiring the site), best of five each,
with bytecode cached.
Run: .venv/bin/python bench/voter_shell.py [--quick] [--commands 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import save, show  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))


def voter(i: int) -> str:
    return f"v{i}@shell.example.org"


def registrations(i: int, voters: int) -> list[str]:
    return [f"{voter(i)} register set name Voter {i}",
            f"{voter(i)} register set residence {i} Long Road, Shelltown N{i // 100:04d}",
            f"{voter(i)} register trust {voter((i + 1) % voters)}"]


def votes(i: int) -> list[str]:
    return [f"{voter(i)} test-poll vote c{i % 7}@shell.example.org",
            f"{voter(i)} test-poll vote c{(i + 1) % 7}@shell.example.org"]


def commands(total: int) -> list[str]:
    """The mix: each voter registers (three commands), then votes and changes the vote."""
    voters = max(total // 5, 2)
    return [line for i in range(voters) for line in registrations(i, voters) + votes(i)][:total]


def registration_commands(total: int) -> list[str]:
    voters = max(total // 3, 2)
    return [line for i in range(voters) for line in registrations(i, voters)][:total]


def vote_commands(total: int) -> list[str]:
    return [line for i in range(max(total // 2, 1)) for line in votes(i)][:total]


def run_voter(env: dict, script: Path) -> tuple[float, float, int]:
    """Seconds, peak MiB and reply lines of `civitas voter < script`."""
    with open(script) as stdin, tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([CIVITAS, "voter"], env=env, stdin=stdin, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise SystemExit(f"civitas voter failed:\n{err.read()[-2000:]}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, sum(1 for _ in out)


def floor(home: Path) -> tuple[float, int]:
    """Seconds to read the site's log files and SHA-256 them once, and their bytes."""
    started, size = time.perf_counter(), 0
    for path in sorted(home.glob("log.sqlite*")):
        digest = hashlib.sha256()
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return time.perf_counter() - started, size


def shell_figure(tmp: Path, name: str, lines: list[str], before: list[str] = ()) -> dict:
    home = tmp / name
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # bytecode cached, as installed
    env |= {"CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost"}
    subprocess.run([CIVITAS, "poll", "create", "test-poll"], env=env, check=True, capture_output=True)
    if before:  # untimed: what the timed commands need in place
        (tmp / f"{name}-before.txt").write_text("\n".join(before) + "\n")
        run_voter(env, tmp / f"{name}-before.txt")
    script = tmp / f"{name}.txt"
    script.write_text("\n".join(lines) + "\n")
    seconds, peak, replies = run_voter(env, script)
    floor_s, log_bytes = floor(home)
    return {"commands": len(lines), "seconds": seconds, "commands_per_s": len(lines) / seconds, "peak_mib": peak,
            "reply_lines": replies, "floor_s": floor_s, "log_bytes": log_bytes}


def start_time(args: list[str], env: dict, stdin: str = "", tries: int = 5) -> dict:
    """Best and worst seconds of `civitas ARGS`, with bytecode cached (a first, untimed run writes it)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    subprocess.run([CIVITAS, *args], env=env, input=stdin, capture_output=True, text=True, check=True)
    for _ in range(tries):
        started = time.perf_counter()
        subprocess.run([CIVITAS, *args], env=env, input=stdin, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
    return {"best_s": min(times), "worst_s": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--commands", type=int, default=100_000)
    args = parser.parse_args()
    total = 5_000 if args.quick else args.commands
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shells = {
            "mixed": shell_figure(tmp, "mixed", commands(total)),
            "registrations": shell_figure(tmp, "registrations", registration_commands(total)),
            "votes": shell_figure(tmp, "votes", vote_commands(total), before=[
                f"{voter(i)} register set name Voter {i}" for i in range(max(total // 2, 1))]),
        }
        env = os.environ | {"CIVITAS_HOME": str(tmp / "mixed"), "CIVITAS_SITE": "localhost"}
        starts = {"civitas --help": start_time(["--help"], env),
                  "civitas voter --help": start_time(["voter", "--help"], env),
                  "civitas audit --help": start_time(["audit", "--help"], env),
                  "civitas voter < empty": start_time(["voter"], env)}
    show("voter shell, local mode",
         ["file", "commands", "seconds", "commands/s", "floor s", "x floor", "log MiB", "peak MiB"],
         [[name, f["commands"], f["seconds"], f["commands_per_s"], f"{f['floor_s']:.3f}",
          f["seconds"] / f["floor_s"], f["log_bytes"] / 2**20, f["peak_mib"]] for name, f in shells.items()])
    show("start times (best and worst of 5)", ["command", "best s", "worst s"],
         [[name, f"{s['best_s']:.3f}", f"{s['worst_s']:.3f}"] for name, s in starts.items()])
    save("voter_shell", {"shells": shells, "start": starts})


if __name__ == "__main__":
    main()
