"""Shared by the benchmarks: timing, tables, and where results go."""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"
console = Console(width=max(120, Console().width))  # tables of figures stay readable in a log


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def median_ms(run, times: int = 5) -> float:
    """The median of `times` runs of `run()`, in milliseconds."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def show(title: str, columns: list[str], rows: list[list]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*[f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    console.print(table)


def machine_speed_ms() -> float:
    """How long this machine takes, now, for a fixed loop of Python (median of 5, ms): lower is faster.

    A shared virtual machine's speed drifts by a third or more from hour to hour; saved with every
    result, so figures taken at different times can be compared.
    """
    def loop() -> float:
        started, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i * i
        return time.perf_counter() - started

    return 1000 * statistics.median(loop() for _ in range(5))


def save(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    speed = machine_speed_ms()
    machine = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
               "loop_ms_after": speed}
    figures = {"machine": machine, **figures}
    path.write_text(json.dumps(figures, indent=2))
    console.print(f"machine speed when saved: {speed:.0f} ms for the reference loop (lower is faster)")
    return path
