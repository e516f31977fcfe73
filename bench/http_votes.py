"""Gateway figures: time from `civitas up` to the first answered request, and authenticated votes/s with latency.

Starts `civitas up` on a fresh CIVITAS_HOME with a local SMTP server for sign-in codes, signs in
voters through the real code flow, then sends vote commands (each changes the vote) from
concurrent keep-alive clients for a fixed time.

Run: .venv/bin/python bench/http_votes.py [--quick] [--seconds 60] [--clients 16] [--voters 1000] [--load wrk|python]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import save, show  # noqa: E402
from vote_load import LOADS, POLL, UNLIMITED_RATES, sign_in_all, smtp_inbox  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402

OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef"
CIVITAS = str(Path(sys.executable).with_name("civitas"))


def start_site(home: Path, port: int, smtp_port: int) -> tuple[subprocess.Popen, float]:
    env = os.environ | UNLIMITED_RATES | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
        "CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp_port), "CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "CIVITAS_COMPILE_EVERY_MINUTES": "0",
    }
    started = time.perf_counter()
    process = subprocess.Popen([CIVITAS, "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"civitas up exited: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.01)


def run(args) -> dict:
    port = free_port()
    with smtp_inbox() as (inbox, smtp_port), tempfile.TemporaryDirectory() as tmp:
        process, startup_s = start_site(Path(tmp) / "home", port, smtp_port)
        base = f"http://127.0.0.1:{port}"
        try:
            httpx.post(base + "/api/polls", json={"name": POLL}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
            tokens = sign_in_all(base, inbox, args.voters)
            measured = LOADS[args.load](base, tokens, args.clients, args.seconds)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"startup_to_first_answer_s": startup_s, "seconds": args.seconds, "clients": args.clients,
            "voters": args.voters, "load": args.load, **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--load", choices=sorted(LOADS), default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator: wrk (apt-get install wrk) or Python's httpx")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.voters = 5, 100
    figures = run(args)
    show(f"civitas up: authenticated votes through the HTTP API (load from {args.load})",
         ["start to first answer s", "seconds", "clients", "votes", "failed", "votes/s", "p50 ms", "p99 ms"],
         [[figures["startup_to_first_answer_s"], figures["seconds"], figures["clients"], figures["votes"],
           figures["failures"], figures["votes_per_s"], figures["p50_ms"], figures["p99_ms"]]])
    save("http_votes", figures)


if __name__ == "__main__":
    main()
