"""Distributed figures: votes accepted by the gateway per second, and how soon each is in the counter's replica.

Starts PostgreSQL (fsync on), a noida-db broker, and registry, polls, counter and gateway as separate
`civitas serve` processes; signs voters in through the real code flow; then sends vote changes from
concurrent keep-alive clients (wrk, else httpx) for a fixed time. Meanwhile it samples where the
`vote` stream stands in the polls service's log of record and in the counter's replica every few
ms: an event's lag is the time between the first sample that shows it in the owner's log (accepted)
and the first that shows it in the replica (verified, applied, queryable by a compile).

Run: .venv/bin/python bench/distributed.py [--quick] [--seconds 30] [--clients 32] [--voters 200]
"""

from __future__ import annotations

import argparse
import bisect
import email
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, save, show  # noqa: E402
from civitas_kernel.testing.brokers import running_broker  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402
from civitas_kernel.testing.postgres import postgres_server  # noqa: E402

from civitas.distributed.cluster import Cluster  # noqa: E402

OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef"
SAMPLE_S = 0.05  # 20 Hz: finer sampling would itself load the services it measures
CATCH_UP_S = 120.0


class Inbox:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.codes[message["To"]] = re.search(r"^[ \t]+(\d{6})\r?$", message.get_content(), re.M)[1]
        return "250 OK"


def sign_in(client: httpx.Client, inbox: Inbox, address: str) -> str:
    challenge = client.post("/api/auth/code", json={"email": address}).json()["challenge"]
    for _ in range(500):
        if address in inbox.codes:
            break
        time.sleep(0.005)
    return client.post("/api/auth/session", json={"challenge": challenge, "code": inbox.codes.pop(address)}).json()["token"]


class Sampler(threading.Thread):
    """Samples the vote stream's head at the owner (polls) and at the counter's replica."""

    def __init__(self, polls: str, counter: str) -> None:
        super().__init__(daemon=True)
        self.urls = {"owner": polls, "replica": counter}
        self.samples: dict[str, list[tuple[float, int]]] = {"owner": [], "replica": []}
        self.stop = threading.Event()

    def head(self, client: httpx.Client, which: str) -> int:
        streams = client.get(self.urls[which] + "/streams").json()
        return next((s["seq"] for s in streams if s["stream"] == "vote"), 0)

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                for which in ("owner", "replica"):
                    self.samples[which].append((time.perf_counter(), self.head(client, which)))
                time.sleep(SAMPLE_S)

    def first_seen(self, which: str) -> list[tuple[int, float]]:
        """(position, first time a sample showed the head at or beyond it), per sample that moved the head."""
        moved, best = [], 0
        for t, seq in self.samples[which]:
            if seq > best:
                moved.append((seq, t))
                best = seq
        return moved

    def lags(self, first: int, last: int) -> list[float]:
        owner, replica = self.first_seen("owner"), self.first_seen("replica")
        owner_seqs, replica_seqs = [s for s, _ in owner], [s for s, _ in replica]
        found = []
        for seq in range(first, last + 1):
            i, j = bisect.bisect_left(owner_seqs, seq), bisect.bisect_left(replica_seqs, seq)
            if i < len(owner) and j < len(replica):
                found.append(max(0.0, replica[j][1] - owner[i][1]))
        return found


WRK_SCRIPT = """
local tokens = {%s}
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = 0 end
request = function()
  local g = counter * 2 + id
  counter = counter + 1
  local body = '{"candidate":"c' .. (math.floor(g / #tokens) %% 2) .. '@bench.example.org"}'
  return wrk.format("PUT", "/api/polls/bench/vote",
    {["Authorization"] = "Bearer " .. tokens[(g %% #tokens) + 1], ["Content-Type"] = "application/json"}, body)
end
"""


def load_with_wrk(base: str, tokens: list[str], clients: int, seconds: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ",".join(f'"{t}"' for t in tokens))
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", script.name, base],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)

    def ms(label: str) -> float:
        value = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(value[1]) * {"us": 0.001, "ms": 1, "s": 1000}[value[2]]

    requests = int(re.search(r"(\d+) requests in", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"votes": requests, "failures": int(bad[1]) if bad else 0, "p50_ms": ms("50"), "p99_ms": ms("99")}


def load_with_httpx(base: str, tokens: list[str], clients: int, seconds: float) -> dict:
    import asyncio

    latencies, failures = [], [0]

    async def worker(worker_id: int, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            mine, turn = tokens[worker_id::clients], 0
            while time.perf_counter() < deadline:
                token = mine[turn % len(mine)]
                started = time.perf_counter()
                response = await client.put("/api/polls/bench/vote", headers={"Authorization": f"Bearer {token}"},
                                            json={"candidate": f"c{(turn // len(mine)) % 2}@bench.example.org"})
                latencies.append(time.perf_counter() - started)
                failures[0] += response.status_code != 200
                turn += 1

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(worker(i, deadline) for i in range(clients)))

    asyncio.run(main())
    return {"votes": len(latencies), "failures": failures[0], "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000}


def run(args) -> dict:
    inbox, smtp_port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {"CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp_port), "CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN,
           "CIVITAS_RATE_ADDRESS": "1000000/1min", "CIVITAS_RATE_VOTER": "1000000/1min",
           "CIVITAS_RATE_CODE_ADDRESS": "1000000/1min", "CIVITAS_RATE_CODE_EMAIL": "1000000/1min",
           "CIVITAS_RATE_SESSION_ADDRESS": "1000000/1min"}
    try:
        with tempfile.TemporaryDirectory() as tmp, postgres_server(durable=True) as pg, running_broker("noida") as broker:
            started = time.perf_counter()
            with Cluster(Path(tmp), pg, broker.settings(partitions=1), extra_env=env) as cluster:
                startup_s = time.perf_counter() - started
                base = cluster.urls["gateway"]
                with httpx.Client(base_url=base, timeout=30) as client:
                    client.post("/api/polls", json={"name": "bench"}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
                    tokens = [sign_in(client, inbox, f"v{i}@bench.example.org") for i in range(args.voters)]
                sampler = Sampler(cluster.urls["polls"], cluster.urls["counter"])
                sampler.start()
                time.sleep(0.2)
                first = sampler.samples["owner"][-1][1] + 1
                load = load_with_wrk if args.load == "wrk" else load_with_httpx
                measured = load(base, tokens, args.clients, args.seconds)
                deadline = time.perf_counter() + CATCH_UP_S
                while sampler.samples["replica"][-1][1] < sampler.samples["owner"][-1][1] and time.perf_counter() < deadline:
                    time.sleep(0.05)
                sampler.stop.set()
                sampler.join()
                last = sampler.samples["owner"][-1][1]
                lags = sampler.lags(first, last)
                replica_last = sampler.samples["replica"][-1][1]
    finally:
        controller.stop()
    accepted = last - first + 1
    return {
        "startup_s": startup_s, "seconds": args.seconds, "clients": args.clients, "voters": args.voters, "load": args.load,
        **measured, "accepted_events": accepted, "accepted_per_s": accepted / args.seconds,
        "replica_missing": last - replica_last,
        "lag_p50_ms": percentile(lags, 50) * 1000 if len(lags) > 1 else None,
        "lag_p99_ms": percentile(lags, 99) * 1000 if len(lags) > 1 else None,
        "lag_max_ms": max(lags) * 1000 if lags else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--load", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.voters = 5, 100
    f = run(args)
    show("civitas serve x4 (PostgreSQL fsync on, noida-db): votes through the gateway into the counter's replica",
         ["clients", "load", "votes", "failed", "accepted/s", "reply p50 ms", "reply p99 ms",
          "lag p50 ms", "lag p99 ms", "lag max ms", "not in replica"],
         [[f["clients"], f["load"], f["votes"], f["failures"], f["accepted_per_s"], f["p50_ms"], f["p99_ms"],
           f["lag_p50_ms"], f["lag_p99_ms"], f["lag_max_ms"], f["replica_missing"]]])
    save("distributed", f)


if __name__ == "__main__":
    main()
