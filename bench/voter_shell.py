"""Voter-shell figure: a file of voter commands applied in local mode (`civitas voter < FILE`).

The file mixes what voters do: set name and residence, vouch for a neighbour, vote, change a vote.
Run: .venv/bin/python bench/voter_shell.py [--quick] [--commands 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import save, show  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))


def commands(total: int) -> list[str]:
    voters = max(total // 5, 2)
    lines = []
    for i in range(voters):
        voter, hood = f"v{i}@shell.example.org", f"N{i // 100:04d}"
        lines += [
            f"{voter} register set name Voter {i}",
            f"{voter} register set residence {i} Long Road, Shelltown {hood}",
            f"{voter} register trust v{(i + 1) % voters}@shell.example.org",
            f"{voter} test-poll vote c{i % 7}@shell.example.org",
            f"{voter} test-poll vote c{(i + 1) % 7}@shell.example.org",
        ]
    return lines[:total]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--commands", type=int, default=100_000)
    args = parser.parse_args()
    total = 5_000 if args.quick else args.commands
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"CIVITAS_HOME": str(Path(tmp) / "home"), "CIVITAS_SITE": "localhost"}
        subprocess.run([CIVITAS, "poll", "create", "test-poll"], env=env, check=True, capture_output=True)
        script = Path(tmp) / "commands.txt"
        script.write_text("\n".join(commands(total)) + "\n")
        started = time.perf_counter()
        with open(script) as stdin:
            done = subprocess.run([CIVITAS, "voter"], env=env, stdin=stdin, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"civitas voter failed:\n{done.stderr[-2000:]}")
        replies = done.stdout.count("\n")
    figures = {"commands": total, "seconds": seconds, "commands_per_s": total / seconds, "reply_lines": replies}
    show("voter shell, local mode", ["commands", "seconds", "commands/s"], [[total, seconds, total / seconds]])
    save("voter_shell", figures)


if __name__ == "__main__":
    main()
