"""What host mode's public proxy costs a request: `civitas up` served directly and through PublicProxy (host/proxy.py,
HTTP with h11 on both sides, the visitor's address and the supervisor's pass added to each request).

Starts `civitas up` on a fresh CIVITAS_HOME on a loopback port (the per-address limit set out of reach), puts the
proxy in front, then for each path in turn sends --requests sequential GET /health on one kept-alive connection,
and the same on a new connection each, both directly and through the proxy. Prints p50 and p99 latency (ms) and
the difference the proxy makes.

Run: .venv/bin/python bench/host_proxy.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, save, show  # noqa: E402
from slow_clients import start_site  # noqa: E402

from civitas_deployer.host.proxy import PublicProxy  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402


def latencies(base: str, count: int, *, kept: bool) -> list[float]:
    out = []
    with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=None if kept else 0)) as client:
        for _ in range(count):
            started = time.perf_counter()
            reply = client.get(base + "/health")
            out.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, reply.status_code
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        site = start_site(Path(tmp) / "home", port)
        proxy = PublicProxy("127.0.0.1", 0)
        proxy.start()
        proxy.switch(port)
        try:
            direct, proxied = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{proxy.port}"
            latencies(proxied, 50, kept=True)  # warm both paths
            rows, figures = [], {}
            for kept in (True, False):
                name = "kept-alive" if kept else "new connection each"
                a = latencies(direct, args.requests, kept=kept)
                b = latencies(proxied, args.requests, kept=kept)
                row = [statistics.median(a), percentile(a, 99), statistics.median(b), percentile(b, 99)]
                rows.append([name, *row, row[2] - row[0]])
                figures[name] = dict(zip(["direct_p50_ms", "direct_p99_ms", "proxy_p50_ms", "proxy_p99_ms"], row))
        finally:
            proxy.stop()
            site.terminate()
            site.wait(10)
    show(f"GET /health, {args.requests} sequential requests each (ms)",
         ["connection", "direct p50", "direct p99", "proxy p50", "proxy p99", "proxy adds (p50)"], rows)
    save("host_proxy", {"requests": args.requests, **figures})


if __name__ == "__main__":
    main()
