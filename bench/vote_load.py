"""What the HTTP benchmarks share: sign-in codes from a local SMTP server, voters signed in, and vote load.

The load is wrk (C, two threads, `apt-get install wrk`) when installed, so the load generator does not
take the servers' CPU; else httpx from Python. Every vote changes the voter's candidate (round r
alternates between c{2r} and c{2r+1}), so each one is an event, and a voter never has two votes in
flight (with many more voters than connections).
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from common import percentile
from civitas_kernel.testing.mail import Inbox, smtp_inbox  # noqa: F401 - smtp_inbox is the benchmarks' SMTP server

POLL = "bench"
# One client address signs in many voters at once and sends every vote.
UNLIMITED_RATES = {f"CIVITAS_RATE_{name}": "1000000/1min"
                   for name in ("ADDRESS", "VOTER", "CODE_ADDRESS", "CODE_EMAIL", "SESSION_ADDRESS")}


def sign_in_all(base: str, inbox: Inbox, count: int, *, threads: int = 8) -> list[str]:
    """Session tokens of voters v0..v{count-1}@bench.example.org, each signed in through the emailed code."""
    local, clients = threading.local(), []

    def client() -> httpx.Client:
        if not hasattr(local, "client"):  # one keep-alive client per thread
            local.client = httpx.Client(base_url=base, timeout=30)
            clients.append(local.client)
        return local.client

    def sign_in(i: int) -> str:
        address = f"v{i}@bench.example.org"
        challenge = client().post("/api/auth/code", json={"email": address}).json()["challenge"]
        opened = client().post("/api/auth/session", json={"challenge": challenge, "code": inbox.code_for(address)})
        return opened.json()["token"]

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(sign_in, range(count)))
    finally:
        for c in clients:
            c.close()


WRK_SCRIPT = """
local tokens = {%s}
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = 0 end
request = function()
  local g = counter * 2 + id
  counter = counter + 1
  local body = '{"candidate":"c' .. (%d + math.floor(g / #tokens) %% 2) .. '@bench.example.org"}'
  return wrk.format("PUT", "/api/polls/%s/vote",
    {["Authorization"] = "Bearer " .. tokens[(g %% #tokens) + 1], ["Content-Type"] = "application/json"}, body)
end
"""


def load_with_wrk(base: str, tokens: list[str], clients: int, seconds: float, round_: int = 0) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (",".join(f'"{t}"' for t in tokens), 2 * round_, POLL))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child that ends meanwhile
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", script.name, base],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def ms(label: str) -> float:
        value = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(value[1]) * {"us": 0.001, "ms": 1, "s": 1000}[value[2]]

    requests = int(re.search(r"(\d+) requests in", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"votes": requests, "failures": int(bad[1]) if bad else 0, "votes_per_s": requests / seconds,
            "p50_ms": ms("50"), "p99_ms": ms("99"), "load_cpu_s": load_cpu_s}


def load_with_python(base: str, tokens: list[str], clients: int, seconds: float, round_: int = 0) -> dict:
    latencies: list[float] = []
    failures = 0

    async def worker(worker_id: int, deadline: float) -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            mine, turn = tokens[worker_id::clients], 0
            while time.perf_counter() < deadline:
                candidate = f"c{2 * round_ + (turn // len(mine)) % 2}@bench.example.org"  # every vote a change
                started = time.perf_counter()
                response = await client.put(f"/api/polls/{POLL}/vote", json={"candidate": candidate},
                                            headers={"Authorization": f"Bearer {mine[turn % len(mine)]}"})
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200
                turn += 1

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(worker(i, deadline) for i in range(clients)))

    asyncio.run(main())
    return {"votes": len(latencies), "failures": failures, "votes_per_s": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}


LOADS = {"wrk": load_with_wrk, "python": load_with_python}


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (e.g. a gateway's workers), from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError):
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)
