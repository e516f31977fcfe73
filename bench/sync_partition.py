"""How long after a partition heals until two sites agree again, across a bad network.

Run (as root: network namespaces): .venv/bin/python bench/sync_partition.py [--runs N] [--partition-s S]
    [--loss PERCENT] [--delay-ms MS] [--jitter-ms MS] [--duplicate SHARE]

The origin (`civitas serve sync` in namespace A) and the receiver (`civitas serve sync` in namespace B, pulling through
a relay in B) are joined by a veth pair; see tests/sync/netlab.py. Before and after the partition, `--loss` % of the
packets are dropped by nftables in the kernel, both ways, and every request is held delay ± jitter by the relay (so
pages in flight overtake one another) and a share of them is sent twice. The origin writes 200 trust events a second
throughout the partition; at the heal it stops, and the figure is the seconds from the heal until the receiver's
head is the origin's. The receiver runs with the sync settings' defaults (a round every 2 s, 30 s per request, a
failed peer retried after 2 s, doubled each failure), so the figure includes the schedule's wait after a long
outage; they are printed with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "sync"))

from common import console, save, show  # noqa: E402
from netlab import relay_command, two_hosts  # noqa: E402

from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.testing.events import trust  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402
from civitas_sync.settings import SyncOptions  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))


def environment(home: Path, site: str, port: int, host: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")}
    return base | {"CIVITAS_HOME": str(home), "CIVITAS_SITE": site, "CIVITAS_PORT": str(port), "CIVITAS_HOST": host}


def head(log) -> int:
    return log.head("trust", site="town.example").seq


def wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.05)


def one_run(args, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, two_hosts() as hosts:
        town_home, county_home = Path(tmp) / "town", Path(tmp) / "county"
        town_home.mkdir(), county_home.mkdir()
        town_key, county_key = (SiteKey.load_or_create(h / "site-key.pem") for h in (town_home, county_home))
        town = open_log(f"sqlite:///{town_home / 'log.sqlite'}", "town.example", town_key)
        county = open_log(f"sqlite:///{county_home / 'log.sqlite'}", "county.example", county_key)
        town.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(1000)])
        town_port, county_port, relay_port = free_port(), free_port(), free_port()
        county_env = environment(county_home, "county.example", county_port, "127.0.0.1")
        subprocess.run([CIVITAS, "sync", "attach", "town.example", "--role", "sub", "--key", town_key.public_key.hex(),
                        "--url", f"http://127.0.0.1:{relay_port}"], env=county_env, check=True, capture_output=True)
        running = [
            subprocess.Popen(["ip", "netns", "exec", hosts.a, CIVITAS, "serve", "sync"],
                             env=environment(town_home, "town.example", town_port, hosts.addr_a) | {
                                 "CIVITAS_SYNC_EVERY_S": "0"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen(relay_command(hosts.b, relay_port, f"http://{hosts.addr_a}:{town_port}", args.delay_ms,
                                           args.jitter_ms, args.duplicate, seed), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            subprocess.Popen(["ip", "netns", "exec", hosts.b, CIVITAS, "serve", "sync"], env=county_env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        halt, written = threading.Event(), [1000]

        def write() -> None:
            while not halt.wait(0.2):
                town.append("trust", [trust(f"t{i}@example.org", "u@example.org")
                                      for i in range(written[0], written[0] + 40)])
                written[0] += 40

        try:
            hosts.lose(args.loss)
            wait(lambda: head(county) == 1000, 60, "the first pull")
            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            time.sleep(5)
            hosts.partition(True)
            time.sleep(args.partition_s)
            hosts.partition(False)
            healed = time.monotonic()
            halt.set()
            writer.join(10)
            behind = written[0] - head(county)
            wait(lambda: head(county) == written[0], 600, "convergence")
            seconds = time.monotonic() - healed
            assert county.verify(site="town.example").events == written[0]
        finally:
            halt.set()
            for process in running:
                process.kill()
                process.wait(10)
    return {"seconds": seconds, "behind_at_heal": behind, "events": written[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--partition-s", type=float, default=60)
    parser.add_argument("--loss", type=int, default=5, help="percent of packets lost each way, outside the partition")
    parser.add_argument("--delay-ms", type=float, default=40)
    parser.add_argument("--jitter-ms", type=float, default=35)
    parser.add_argument("--duplicate", type=float, default=0.2, help="share of requests sent twice")
    args = parser.parse_args()
    runs = [one_run(args, seed) for seed in range(args.runs)]
    options = SyncOptions()
    rows = [[f"run {i + 1}", r["behind_at_heal"], r["seconds"]] for i, r in enumerate(runs)]
    median = statistics.median(r["seconds"] for r in runs)
    rows.append(["median", int(statistics.median(r["behind_at_heal"] for r in runs)), median])
    show(f"heal to agreed heads after a {args.partition_s:g} s partition: {args.loss} % packets lost (nftables), "
         f"requests held {args.delay_ms:g} ± {args.jitter_ms:g} ms and {args.duplicate:.0%} sent twice (relay); "
         f"receiver every {options.SYNC_EVERY_S:g} s, {options.SYNC_TIMEOUT_S:g} s per request, retried after "
         f"{options.SYNC_BACKOFF_BASE_S:g} s doubled, {options.SYNC_PAGES_IN_FLIGHT} pages in flight",
         ["run", "events behind at the heal", "seconds to agree"], rows)
    path = save("sync-partition", {"partition_s": args.partition_s, "loss_percent": args.loss,
                                   "delay_ms": args.delay_ms, "jitter_ms": args.jitter_ms,
                                   "duplicate": args.duplicate, "runs": runs, "median_s": median})
    console.print(f"saved {path}")


if __name__ == "__main__":
    main()
