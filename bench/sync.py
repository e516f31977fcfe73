"""Site-to-site sync figures: N events of one site pulled by another over HTTP on loopback.

Run: .venv/bin/python bench/sync.py [--events N] [--in-flight K] [--round-trip-ms MS] [--quick]

The origin is `civitas serve sync` in a process of its own over a SQLite log filled here (trust events, in batches
of 10,000); the receiver pulls in this process into a fresh SQLite log, verifying every page through ingest with the
origin's pinned key. Figures: the first half pulled from nothing; the second half pulled after the origin grew (a
resumed link: only the pages it lacks are asked for); a second receiver pulling all of it again, now served from
the origin's page cache; and the events per second of each. With --round-trip-ms, every request also goes
through a relay process that holds it that long before passing it on (a long round trip, emulated: this machine's
kernel has no netem), so the figures show what keeping pages in flight buys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402

from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.testing.events import trust  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402
from civitas_sync.domain.peers import Peer  # noqa: E402
from civitas_sync.pulling import Puller  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))
BATCH = 10_000


def fill(log, first: int, last: int) -> None:
    for start in range(first, last, BATCH):
        log.append("trust", [trust(f"t{i}@example.org", f"u{i % 977}@example.org") for i in range(start, min(last, start + BATCH))])


def receiver(root: Path, name: str):
    home = root / name
    home.mkdir()
    return open_log(f"sqlite:///{home / 'log.sqlite'}", name, SiteKey.load_or_create(home / "site-key.pem"))


def pull(log, peer: Peer, in_flight: int) -> tuple[int, float]:
    with httpx.Client(timeout=120) as client, Timer() as t:
        report = Puller(log, peer, {}, client, in_flight).run()
    if report.errors:
        raise SystemExit(f"the pull failed: {report.errors}")
    return report.added, t.seconds


def delaying_relay(port: int, upstream: str, delay_s: float) -> None:
    """Serve on `port`, passing each request to `upstream` after `delay_s` (run in a process of its own)."""
    app, client = FastAPI(), httpx.AsyncClient(timeout=120)

    @app.get("/{path:path}")
    async def relay(path: str, request: Request) -> Response:
        await asyncio.sleep(delay_s)
        answer = await client.get(f"{upstream}/{path}", params=dict(request.query_params))
        return Response(answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{url} did not answer")
            time.sleep(0.05)


def main() -> None:
    if sys.argv[1:2] == ["--serve-relay"]:
        delaying_relay(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--round-trip-ms", type=float, default=0, help="hold every request this long on its way")
    parser.add_argument("--quick", action="store_true", help="10,000 events")
    args = parser.parse_args()
    events = 10_000 if args.quick else args.events
    half = (events // 2 // BATCH) * BATCH or events // 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        origin_home = root / "origin"
        origin_home.mkdir()
        key = SiteKey.load_or_create(origin_home / "site-key.pem")
        origin = open_log(f"sqlite:///{origin_home / 'log.sqlite'}", "origin.example", key)
        with Timer() as filling:
            fill(origin, 0, half)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
            "CIVITAS_HOME": str(origin_home), "CIVITAS_SITE": "origin.example", "CIVITAS_PORT": str(port),
            "CIVITAS_SYNC_EVERY_S": "0"}
        serving = subprocess.Popen([CIVITAS, "serve", "sync"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        relaying = None
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(url + "/health", serving)
            if args.round_trip_ms:
                relay_port = free_port()
                relaying = subprocess.Popen([sys.executable, __file__, "--serve-relay", str(relay_port), url,
                                             str(args.round_trip_ms / 1000)])
                url = f"http://127.0.0.1:{relay_port}"
                wait_for(url + "/health", relaying)
            peer = Peer("origin.example", "sub", url, key.public_key)
            first = receiver(root, "receiver.example")
            added_1, seconds_1 = pull(first, peer, args.in_flight)
            fill(origin, half, events)
            added_2, seconds_2 = pull(first, peer, args.in_flight)
            again = receiver(root, "second.example")
            added_3, seconds_3 = pull(again, peer, args.in_flight)
        finally:
            for process in (serving, relaying):
                if process is not None:
                    process.terminate()
                    process.wait(10)
        assert added_1 + added_2 == events == added_3, (added_1, added_2, added_3)
        assert first.verify(site="origin.example").events == events
    rows = [["first half, from nothing", added_1, seconds_1, added_1 / seconds_1],
            ["second half, resumed link", added_2, seconds_2, added_2 / seconds_2],
            ["all again, cached pages", added_3, seconds_3, added_3 / seconds_3],
            ["whole (first + second)", events, seconds_1 + seconds_2, events / (seconds_1 + seconds_2)]]
    trip = f", {args.round_trip_ms:g} ms round trip" if args.round_trip_ms else ""
    show(f"sync over HTTP on loopback{trip}: {events:,} events, {args.in_flight} pages in flight "
         f"(filling the origin took {filling.seconds:.1f} s for {half:,})", ["pull", "events", "seconds", "events/s"], rows)
    path = save("sync" + (f"-rtt{args.round_trip_ms:g}ms" if args.round_trip_ms else ""),
                {"events": events, "in_flight": args.in_flight, "round_trip_ms": args.round_trip_ms,
                         "rows": [dict(zip(("pull", "events", "seconds", "events_per_s"), r)) for r in rows]})
    console.print(f"saved {path}")


if __name__ == "__main__":
    main()
