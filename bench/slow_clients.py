"""Slow clients against `civitas up`: does /health still answer while thousands of connections trickle their heads?

Starts `civitas up` on a fresh CIVITAS_HOME on a loopback port, then for --seconds keeps --connections
slow clients going: each opens a connection, sends a request line and then one header line every
--every seconds, never finishing its head, and --every seconds after the server closes it opens a new
one. Meanwhile a probe in a process of its own asks GET /health on a fresh connection every 100 ms, 5 s
at most each. Prints the probe's answers and latency (p50, p99, max) and how many slow connections the
server closed.
Only 127.0.0.1 is ever connected to; every loop is bounded by --seconds; the fd limit is raised to
its hard limit and --connections lowered to fit it.

Run: .venv/bin/python bench/slow_clients.py [--quick] [--seconds 60] [--connections 10000] [--every 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, save, show  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))
PROBE_EVERY_S, PROBE_TIMEOUT_S = 0.1, 5.0
FD_MARGIN = 200


def start_site(home: Path, port: int) -> subprocess.Popen:
    env = os.environ | {"CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
                        "CIVITAS_COMPILE_EVERY_MINUTES": "0", "CIVITAS_RATE_ADDRESS": "1000000/1min"}
    process = subprocess.Popen([CIVITAS, "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"civitas up exited: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("civitas up did not answer within 60 s")


class Flood:
    def __init__(self, port: int, every: float, until: float) -> None:
        self.port, self.every, self.until = port, every, until
        self.opened = self.closed_by_server = self.refused = 0
        self.open_now = 0

    async def slow_client(self, index: int) -> None:
        while time.monotonic() < self.until:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.refused += 1
                await asyncio.sleep(0.5)
                continue
            self.opened += 1
            self.open_now += 1
            try:
                writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                line = 0
                while time.monotonic() < self.until:
                    try:  # anything from the server (its close, a 408 or 503) ends this connection
                        await asyncio.wait_for(reader.read(1024), min(self.every, self.until - time.monotonic()))
                        self.closed_by_server += 1
                        break
                    except TimeoutError:
                        pass
                    writer.write(f"X-Slow-{index}-{line}: 1\r\n".encode())
                    line += 1
                    await writer.drain()
            except (OSError, ConnectionError):
                self.closed_by_server += 1
            finally:
                self.open_now -= 1
                writer.close()
            await asyncio.sleep(self.every)  # a slow client, slow to come back too


def probe(port: int, seconds: float, results) -> None:
    """GET /health on a fresh connection every PROBE_EVERY_S for `seconds`; (latencies ms, failures) to `results`."""
    latencies: list[float] = []
    failures: list[str] = []
    until = time.monotonic() + seconds
    client = httpx.Client(timeout=PROBE_TIMEOUT_S, limits=httpx.Limits(max_keepalive_connections=0))  # fresh each
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            answer = client.get(f"http://127.0.0.1:{port}/health")
            if answer.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures.append(str(answer.status_code))
        except httpx.HTTPError as error:
            failures.append(type(error).__name__)
        time.sleep(max(0.0, PROBE_EVERY_S - (time.perf_counter() - started)))
    client.close()
    results.put((latencies, failures))


def probing(port: int, seconds: float):
    """The probe, started in a process of its own so the flood's event loop cannot delay it; join with .get()."""
    import multiprocessing

    results = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=probe, args=(port, seconds, results), daemon=True)
    process.start()
    return results


async def flood(port: int, connections: int, seconds: float, every: float) -> dict:
    baseline, _ = await asyncio.to_thread(probing(port, 2).get)
    until = time.monotonic() + seconds
    attack = Flood(port, every, until)
    results = probing(port, seconds)
    clients = []
    for i in range(connections):  # ramp up over the first seconds, as a real flood would
        clients.append(asyncio.create_task(attack.slow_client(i)))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while time.monotonic() < until:
            peak = max(peak, attack.open_now)
            await asyncio.sleep(0.5)

    await watch()
    latencies, failures = await asyncio.to_thread(results.get)
    await asyncio.gather(*clients, return_exceptions=True)
    ok = len(latencies)
    return {"connections": connections, "seconds": seconds, "header_every_s": every,
            "slow_connections_opened": attack.opened, "closed_by_server": attack.closed_by_server,
            "connect_refused": attack.refused, "peak_open_slow": peak,
            "health_before_p50_ms": percentile(baseline, 50) if len(baseline) > 1 else None,
            "health_ok": ok, "health_failed": len(failures), "health_failures": sorted(set(failures)),
            "health_p50_ms": percentile(latencies, 50) if ok > 1 else None,
            "health_p99_ms": percentile(latencies, 99) if ok > 1 else None,
            "health_max_ms": max(latencies) if latencies else None}


def fit_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted + FD_MARGIN)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    allowed = target - FD_MARGIN
    if allowed < wanted:
        print(f"the fd limit ({target}) allows {allowed} connections from this process, not {wanted}")
    return min(wanted, allowed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 connections for 10 s")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a slow client's header lines")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.connections = 10, 2000
    connections = fit_fd_limit(args.connections)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = start_site(Path(tmp) / "home", port)
        try:
            figures = asyncio.run(flood(port, connections, args.seconds, args.every))
        finally:
            process.terminate()
            process.wait(timeout=30)
    show(f"/health during {figures['connections']:,} slow clients for {args.seconds:g} s (civitas up, loopback)",
         ["slow conns opened", "closed by server", "peak open", "health ok", "health failed", "p50 ms", "p99 ms",
          "max ms", "p50 before ms"],
         [[figures["slow_connections_opened"], figures["closed_by_server"], figures["peak_open_slow"],
           figures["health_ok"], figures["health_failed"], figures["health_p50_ms"] or 0.0,
           figures["health_p99_ms"] or 0.0, figures["health_max_ms"] or 0.0, figures["health_before_p50_ms"] or 0.0]])
    if figures["health_failures"]:
        print("probe failures:", ", ".join(figures["health_failures"]))
    save("slow_clients", figures)


if __name__ == "__main__":
    main()
