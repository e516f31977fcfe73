"""Gateway figures: time from `civitas up` to the first answered request, and authenticated votes/s with latency.

Starts `civitas up` on a fresh CIVITAS_HOME with a local SMTP server for sign-in codes, signs in
voters through the real code flow, then sends vote commands (each changes the vote) from
concurrent keep-alive clients for a fixed time.

Run: .venv/bin/python bench/http_votes.py [--quick] [--seconds 60] [--clients 16] [--voters 200] [--load wrk|python]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from email import policy
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, save, show  # noqa: E402
from civitas_kernel.testing.ports import free_port

OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef"
CIVITAS = str(Path(sys.executable).with_name("civitas"))


class Inbox:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.codes[message["To"]] = re.search(r"^[ \t]+(\d{6})\r?$", message.get_content(), re.M)[1]
        return "250 OK"


def start_site(home: Path, port: int, smtp_port: int) -> tuple[subprocess.Popen, float]:
    env = os.environ | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
        "CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp_port), "CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "CIVITAS_COMPILE_EVERY_MINUTES": "0",
        # The benchmark is one client address signing in many voters at once.
        "CIVITAS_RATE_ADDRESS": "1000000/1min", "CIVITAS_RATE_VOTER": "1000000/1min",
        "CIVITAS_RATE_CODE_ADDRESS": "1000000/1min", "CIVITAS_RATE_SESSION_ADDRESS": "1000000/1min",
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


async def sign_in(client: httpx.AsyncClient, inbox: Inbox, address: str) -> str:
    challenge = (await client.post("/api/auth/code", json={"email": address})).json()["challenge"]
    for _ in range(200):
        if address in inbox.codes:
            break
        await asyncio.sleep(0.01)
    opened = await client.post("/api/auth/session", json={"challenge": challenge, "code": inbox.codes.pop(address)})
    return opened.json()["token"]


async def hammer(base: str, tokens: list[str], clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker(worker_id: int) -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            turn = 0
            mine = tokens[worker_id::clients]
            while time.perf_counter() < deadline:
                token = mine[turn % len(mine)]
                candidate = f"c{(turn // len(mine)) % 2}@bench.example.org"  # alternate, so every vote changes
                started = time.perf_counter()
                response = await client.put("/api/polls/bench/vote", json={"candidate": candidate},
                                            headers={"Authorization": f"Bearer {token}"})
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200
                turn += 1

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies, failures


WRK_SCRIPT = """
local tokens = {%s}
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = 0 end
request = function()
  local g = counter * %d + id
  counter = counter + 1
  local body = '{"candidate":"c' .. (math.floor(g / #tokens) %% 2) .. '@bench.example.org"}'
  return wrk.format("PUT", "/api/polls/bench/vote",
    {["Authorization"] = "Bearer " .. tokens[(g %% #tokens) + 1], ["Content-Type"] = "application/json"}, body)
end
"""


def hammer_with_wrk(base: str, tokens: list[str], clients: int, seconds: float) -> dict:
    """Load from wrk (C, two threads), so the load generator does not starve the server of CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (",".join(f'"{t}"' for t in tokens), 2))
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", script.name, base],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)

    def ms(label: str) -> float:
        value = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(value[1]) * {"us": 0.001, "ms": 1, "s": 1000}[value[2]]

    requests = int(re.search(r"(\d+) requests in", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"votes": requests, "failures": int(bad[1]) if bad else 0, "votes_per_s": requests / seconds,
            "p50_ms": ms("50"), "p99_ms": ms("99")}


async def run(args) -> dict:
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        process, startup_s = start_site(Path(tmp) / "home", port, smtp_port)
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await client.post("/api/polls", json={"name": "bench"}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
                tokens = [await sign_in(client, inbox, f"v{i}@bench.example.org") for i in range(args.voters)]
            if args.load == "wrk":
                measured = hammer_with_wrk(base, tokens, args.clients, args.seconds)
            else:
                latencies, failures = await hammer(base, tokens, args.clients, args.seconds)
                measured = {"votes": len(latencies), "failures": failures, "votes_per_s": len(latencies) / args.seconds,
                            "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}
        finally:
            process.terminate()
            process.wait(timeout=30)
            controller.stop()
    return {"startup_to_first_answer_s": startup_s, "seconds": args.seconds, "clients": args.clients,
            "voters": args.voters, "load": args.load, **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--load", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator: wrk (apt-get install wrk) or Python's httpx")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.voters = 5, 50
    figures = asyncio.run(run(args))
    show(f"civitas up: authenticated votes through the HTTP API (load from {args.load})",
         ["start to first answer s", "seconds", "clients", "votes", "failed", "votes/s", "p50 ms", "p99 ms"],
         [[figures["startup_to_first_answer_s"], figures["seconds"], figures["clients"], figures["votes"],
           figures["failures"], figures["votes_per_s"], figures["p50_ms"], figures["p99_ms"]]])
    save("http_votes", figures)


if __name__ == "__main__":
    main()
