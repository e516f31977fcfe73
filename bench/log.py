"""Event log figures: append throughput (batches of 1,000), single durable append latency, export verify.

Run: .venv/bin/python bench/log.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, percentile, save, show  # noqa: E402

from civitas_kernel.segment import export_segment, verify_segment  # noqa: E402
from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.testing.events import votes  # noqa: E402
from civitas_kernel.testing.postgres import fresh_database, postgres_server  # noqa: E402


def append_throughput(log, total: int, batch: int = 1000) -> float:
    events = votes(batch)
    with Timer() as t:
        for _ in range(total // batch):
            log.append("vote", events)
    return total / t.seconds


def single_append_latency(log, count: int) -> tuple[float, float]:
    event = votes(1)
    samples = []
    for _ in range(count):
        with Timer() as t:
            log.append("single", event)
        samples.append(t.seconds * 1000)
    return percentile(samples, 50), percentile(samples, 99)


def measure_backend(name: str, url: str, total: int, singles: int) -> dict:
    log = open_log(url, "bench.example.org", SiteKey.generate())
    rate = append_throughput(log, total)
    p50, p99 = single_append_latency(log, singles)
    log.engine.dispose()
    return {"backend": name, "append_events_per_s": rate, "single_append_p50_ms": p50, "single_append_p99_ms": p99}


def measure_verify(workdir: Path, events: int) -> dict:
    log = open_log(f"sqlite:///{workdir / 'verify.sqlite'}", "bench.example.org", SiteKey.generate())
    batch = votes(1000)
    for _ in range(events // 1000):
        log.append("vote", batch)
    path = workdir / "export.seg"
    with Timer() as export_time:
        export_segment(log, path)
    with Timer() as verify_time:
        summary = verify_segment(path, public_key=log.key.public_key)
    assert summary.events == events
    return {
        "events": events,
        "file_mb": path.stat().st_size / 1e6,
        "export_events_per_s": events / export_time.seconds,
        "verify_events_per_s": events / verify_time.seconds,
        "verify_seconds": verify_time.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmark runs")
    args = parser.parse_args()
    total, singles, verify_n = (20_000, 200, 50_000) if args.quick else (200_000, 1_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = [measure_backend("SQLite (WAL, synchronous=FULL)", f"sqlite:///{work / 'bench.sqlite'}", total, singles)]
        with postgres_server(durable=True) as server, fresh_database(server) as url:
            rows.append(measure_backend("PostgreSQL 15 (fsync on)", url, total, singles))
        show(
            f"append: {total:,} events in batches of 1,000; {singles:,} single appends",
            ["backend", "events/s (batches)", "single p50 ms", "single p99 ms"],
            [[r["backend"], r["append_events_per_s"], r["single_append_p50_ms"], r["single_append_p99_ms"]] for r in rows],
        )
        with console.status(f"building and exporting {verify_n:,} events"):
            v = measure_verify(work, verify_n)
        show(
            "verify an exported segment",
            ["events", "file MB", "export events/s", "verify events/s", "verify s"],
            [[v["events"], v["file_mb"], v["export_events_per_s"], v["verify_events_per_s"], v["verify_seconds"]]],
        )
    console.print(f"saved {save('log', {'append': rows, 'verify': v})}")


if __name__ == "__main__":
    main()
