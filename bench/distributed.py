"""Distributed figures: votes accepted by the gateway per second, and how soon each is in the counter's replica.

Starts PostgreSQL (fsync on), a noida-db broker, and registry, polls, counter and gateway as separate
`python -m civitas_NAME` processes (the stateless gateway with --gateway-workers processes); signs voters in
through the real code flow; then, for each round, sends vote changes from concurrent keep-alive
clients (wrk, else httpx) for a fixed time. Meanwhile it samples where the `vote` stream stands in the
polls service's log of record and in the counter's replica every 50 ms: an event's lag is the time
between the first sample that shows it in the owner's log (accepted) and the first that shows it in
the replica (verified, applied, queryable by a compile). It also reads each process's CPU time, to
say where a vote's cost goes. The figures are those of the median round.

Run: .venv/bin/python bench/distributed.py [--quick] [--rounds 3] [--seconds 20] [--clients 64]
     [--voters 1000] [--gateway-workers 2] [--set CIVITAS_NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import bisect
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from common import console, percentile, save, show  # noqa: E402
from vote_load import LOADS, POLL, UNLIMITED_RATES, cpu_seconds, sign_in_all, smtp_inbox  # noqa: E402
from civitas_kernel.testing.brokers import running_broker  # noqa: E402
from civitas_kernel.testing.postgres import postgres_server  # noqa: E402

from civitas.cluster import Cluster  # noqa: E402

OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef"
SAMPLE_S = 0.05  # 20 Hz: finer sampling would itself load the services it measures
CATCH_UP_S = 120.0
TARGET_PER_S, TARGET_LAG_P99_MS = 2_000, 1_000


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

    def latest(self, which: str) -> int:
        return self.samples[which][-1][1]

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


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process (its backends are its children), if it runs on this machine."""
    try:
        with psycopg.connect(url) as conn:
            data = conn.execute("SHOW data_directory").fetchone()[0]
        return int((Path(data) / "postmaster.pid").read_text().split()[0])
    except (OSError, psycopg.Error, ValueError):
        return None


def one_round(cluster: Cluster, base: str, tokens: list[str], args, others: dict[str, int], number: int) -> dict:
    sampler = Sampler(cluster.urls["polls"], cluster.urls["counter"])
    sampler.start()
    time.sleep(0.2)
    first = sampler.latest("owner") + 1
    pids = {name: process.pid for name, process in cluster.processes.items()} | others
    cpu_before, started = {n: cpu_seconds(p) for n, p in pids.items()}, time.perf_counter()
    if args.profile:  # py-spy on each service while the load runs: where a vote's CPU goes
        import subprocess
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))  # also when run unactivated
        for name in args.profile:
            subprocess.Popen([py_spy, "record", "-d", str(int(args.seconds) - 1), "-r", "200", "--gil", "-f", "raw",
                              "-o", str(Path(args.profile_dir) / f"{name}.txt"), "-p", str(pids[name])],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    measured = LOADS[args.load](base, tokens, args.clients, args.seconds, number)
    cpu_used = {n: cpu_seconds(p) - cpu_before[n] for n, p in pids.items()}
    elapsed = time.perf_counter() - started
    deadline = time.perf_counter() + CATCH_UP_S
    settled = 0  # votes in flight when the load stopped still land: wait for the owner to rest, and the replica to match
    while settled < 10 and time.perf_counter() < deadline:
        owner, replica = sampler.latest("owner"), sampler.latest("replica")
        time.sleep(SAMPLE_S)
        now = (sampler.latest("owner"), sampler.latest("replica"))
        settled = settled + 1 if now == (owner, replica) == (owner, owner) else 0
    sampler.stop.set()
    sampler.join()
    last, replica_last = sampler.latest("owner"), sampler.latest("replica")
    lags = sampler.lags(first, last)
    accepted = last - first + 1
    return {
        **measured, "accepted_events": accepted, "accepted_per_s": accepted / args.seconds,
        "replica_missing": last - replica_last,
        "lag_p50_ms": percentile(lags, 50) * 1000 if len(lags) > 1 else None,
        "lag_p99_ms": percentile(lags, 99) * 1000 if len(lags) > 1 else None,
        "lag_max_ms": max(lags) * 1000 if lags else None,
        "cpu_percent": {n: 100 * s / elapsed for n, s in cpu_used.items()},
        "cpu_ms_per_vote": {n: 1000 * s / max(1, accepted) for n, s in cpu_used.items()},
    }


def run(args) -> dict:
    env = {"CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN, **UNLIMITED_RATES, **dict(v.split("=", 1) for v in args.set)}
    with smtp_inbox() as (inbox, smtp_port), tempfile.TemporaryDirectory() as tmp, \
            postgres_server(durable=True) as pg, running_broker(args.broker) as broker:
        env |= {"CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp_port)}
        started = time.perf_counter()
        with Cluster(Path(tmp), pg, broker.settings(partitions=1), extra_env=env,
                     gateway_workers=args.gateway_workers) as cluster:
            startup_s = time.perf_counter() - started
            base = cluster.urls["gateway"]
            httpx.post(base + "/api/polls", json={"name": POLL}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
            with console.status(f"signing {args.voters:,} voters in"):
                tokens = sign_in_all(base, inbox, args.voters)
            others = {"broker": broker.process.pid} | ({"postgres": pid} if (pid := postmaster_pid(pg)) else {})
            rounds = []
            for n in range(args.rounds):
                with console.status(f"round {n + 1} of {args.rounds}: {args.seconds:g} s of votes"):
                    rounds.append(one_round(cluster, base, tokens, args, others, n))
    median = sorted(rounds, key=lambda r: r["accepted_per_s"])[len(rounds) // 2]
    return {"startup_s": startup_s, "seconds": args.seconds, "clients": args.clients, "voters": args.voters,
            "gateway_workers": args.gateway_workers, "broker": args.broker, "load": args.load, "rounds": rounds,
            "median": median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short round, to check the benchmark runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--gateway-workers", type=int, default=1, help="gateway processes (it keeps no state)")
    parser.add_argument("--load", choices=sorted(LOADS), default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--broker", choices=["noida", "tansu"], default="noida", help="the Kafka-compatible broker")
    parser.add_argument("--profile", action="append", default=[], metavar="SERVICE",
                        help="record a py-spy profile of SERVICE during each round (pip install py-spy)")
    parser.add_argument("--profile-dir", default=".", help="where --profile writes SERVICE.txt (py-spy raw format)")
    parser.add_argument("--set", action="append", default=[], metavar="CIVITAS_NAME=VALUE",
                        help="a setting for every service, e.g. --set CIVITAS_PUBLISH_WAIT_S=0 (repeatable)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.voters = 1, 5, 200
    f = run(args)
    show(f"4 service processes (gateway x{args.gateway_workers}; PostgreSQL fsync on; {args.broker}): votes through the "
         "gateway into the counter's replica",
         ["round", "votes", "failed", "accepted/s", "reply p50 ms", "reply p99 ms", "lag p50 ms", "lag p99 ms",
          "lag max ms", "not in replica"],
         [[i + 1, r["votes"], r["failures"], r["accepted_per_s"], r["p50_ms"], r["p99_ms"], r["lag_p50_ms"],
           r["lag_p99_ms"], r["lag_max_ms"], r["replica_missing"]] for i, r in enumerate(f["rounds"])])
    m = f["median"]
    show("CPU per accepted vote, median round (ms; the machine has 2 cores: 1 ms/vote caps it at 2,000 votes/s)",
         ["service", "CPU %", "ms per vote"],
         [[n, m["cpu_percent"][n], f"{m['cpu_ms_per_vote'][n]:.3f}"] for n in m["cpu_percent"]]
         + [["all of them", sum(m["cpu_percent"].values()), f"{sum(m['cpu_ms_per_vote'].values()):.3f}"]]
         + ([["load generator (wrk)", 100 * m["load_cpu_s"] / args.seconds,
              f"{1000 * m['load_cpu_s'] / max(1, m['accepted_events']):.3f}"]] if "load_cpu_s" in m else []))
    met = m["accepted_per_s"] >= TARGET_PER_S and (m["lag_p99_ms"] or 0) <= TARGET_LAG_P99_MS
    console.print(f"median round: {m['accepted_per_s']:,.0f} votes/s, lag p99 {m['lag_p99_ms'] or 0:,.0f} ms; "
                  f"target ≥ {TARGET_PER_S:,}/s with lag p99 ≤ {TARGET_LAG_P99_MS:,} ms: {'met' if met else 'NOT met'}")
    console.print(f"saved {save('distributed', f)}")


if __name__ == "__main__":
    main()
