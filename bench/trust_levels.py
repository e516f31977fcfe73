"""Trust levels: compile the levels of a synthetic neighbourhood trust network of 1,000,000 registrants and
5,000,000 trust edges (target: <= 3 s, <= 2 GiB), and how time grows with size, against the plain reference.

Each size runs in its own subprocess: "peak MiB" is that process's peak resident set, VmHWM (Python, numpy, the
loaded inputs and the compile); "compile MiB" is tracemalloc's peak during one more, untimed, compile (its working
memory). The naive reference runs on the smaller sizes and must give identical levels.

Run: .venv/bin/python bench/trust_levels.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402

from civitas_registry.domain.trust import check_edges, edges_in_range, trust_levels, trust_levels_naive  # noqa: E402

SEED = 20_240_601
EDGES_PER_VOTER = 5
TARGET_SECONDS = 3.0
TARGET_MIB = 2048


# ------------------------------------------------------------------------------------------------ the synthetic network


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hashing is slow on millions of int64 keys)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def neighbourhood_network(n: int, m: int | None = None, seed: int = SEED):
    """A deterministic synthetic network: (primary, src, dst, neighbourhood of each voter).

    * Neighbourhoods of 50-200 voters.
    * The registrar gives primary edges to ~2% of voters (1-3 edges each): local organisers, who know many people
      in their neighbourhood and vouch for ~30% of it (and the organisers of a neighbourhood for one another).
    * Everybody else vouches for a few people: 97% inside the neighbourhood, weighted towards its well-known
      members, 3% for someone in the next neighbourhood.
    * Exactly m distinct edges (default 5 n), no self-edges; voter numbers are shuffled, as sorted email addresses
      would be.
    """
    m = EDGES_PER_VOTER * n if m is None else m
    rng = np.random.default_rng(seed)

    sizes = rng.integers(50, 201, size=n // 50 + 2)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    if sizes.size > 1 and sizes[-1] < 50:  # fold a short last one into its neighbour
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    count = sizes.size
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    home = np.repeat(np.arange(count), sizes)  # neighbourhood of each position

    organiser = rng.random(n) < 0.02
    primary = np.where(organiser, rng.integers(1, 4, size=n), 0).astype(np.int32)

    # organisers vouch for ~30% of their neighbourhood
    org = np.flatnonzero(organiser)
    reach = np.maximum(1, (0.3 * sizes[home[org]]).astype(np.int64))
    org_src = np.repeat(org, reach)
    org_home = home[org_src]
    org_dst = start[org_home] + (rng.random(org_src.size) * sizes[org_home]).astype(np.int64)
    # organisers of one neighbourhood all vouch for one another
    order = np.argsort(home[org], kind="stable")
    org_sorted = org[order]
    group = home[org_sorted]
    left = np.searchsorted(group, group, side="left")
    right = np.searchsorted(group, group, side="right")
    peer_src = np.repeat(org_sorted, right - left)
    peers = [np.arange(a, b) for a, b in zip(left, right, strict=True)]
    peer_dst = org_sorted[np.concatenate(peers)] if peers else org

    fixed_src = np.concatenate([org_src, peer_src]).astype(np.int64)
    fixed_dst = np.concatenate([org_dst, peer_dst]).astype(np.int64)
    distinct = fixed_src != fixed_dst
    fixed = _distinct(fixed_src[distinct] * n + fixed_dst[distinct])[:m]

    # everybody else: the rest of the edges, drawn until there are enough distinct ones
    others = np.zeros(0, dtype=np.int64)
    while fixed.size + others.size < m:
        rest = int((m - fixed.size - others.size) * 1.3) + 64
        reg_src = rng.integers(0, n, size=rest)
        across = rng.random(rest) < 0.03
        target_home = np.where(across, (home[reg_src] + 1) % count, home[reg_src])
        # well-known members: offset skewed towards the front of the neighbourhood
        offset = (rng.random(rest) ** 2.5 * sizes[target_home]).astype(np.int64)
        reg_dst = start[target_home] + offset
        drawn = reg_src[reg_src != reg_dst] * n + reg_dst[reg_src != reg_dst]
        others = _distinct(np.concatenate([others, drawn]))
        others = others[~np.isin(others, fixed)]
    # every organiser edge, then a random choice of the rest, to exactly m
    chosen = np.concatenate([fixed, rng.permutation(others)[: m - fixed.size]])
    src, dst = chosen // n, chosen % n

    shuffle = rng.permutation(n)  # position -> voter number
    primary_by_voter = np.empty(n, dtype=np.int32)
    primary_by_voter[shuffle] = primary
    neighbourhood = np.empty(n, dtype=np.int32)
    neighbourhood[shuffle] = home
    edge_order = rng.permutation(m)
    return (
        primary_by_voter,
        shuffle[src][edge_order].astype(np.int32),
        shuffle[dst][edge_order].astype(np.int32),
        neighbourhood,
    )


# ------------------------------------------------------------------------------------------------ one size, in a child


def peak_rss_mib() -> float:
    """This process's peak resident set. VmHWM, not getrusage's ru_maxrss: on Linux a child's ru_maxrss starts
    from its parent's peak (exec keeps the larger of the old and new address spaces' high-water marks), and the
    parent here has just built the network."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(directory: Path, repeats: int) -> None:
    """Load one network, compile its levels `repeats` times; print JSON figures, save the levels."""
    inputs = np.load(directory / "network.npz")
    n, primary, src, dst = int(inputs["n"]), inputs["primary"], inputs["src"], inputs["dst"]
    seconds = []
    for _ in range(repeats):
        with Timer() as t:
            levels = trust_levels(n, primary, src, dst)
        seconds.append(t.seconds)
    np.save(directory / "levels.npy", levels)
    peak = peak_rss_mib()
    # and, untimed, what the compile itself allocates at its peak (numpy reports its buffers to tracemalloc)
    tracemalloc.start()
    trust_levels(n, primary, src, dst)
    working = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "working_mib": working}))


def run_size(n: int, repeats: int, naive: bool) -> dict:
    with Timer() as t:
        primary, src, dst, home = neighbourhood_network(n)
    generated = t.seconds
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        np.savez(directory / "network.npz", n=n, primary=primary, src=src, dst=dst)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(directory), "--repeats", str(repeats)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        levels = np.load(directory / "levels.npy")
    figures.update(n=n, edges=int(src.size), generated_seconds=generated, levels=levels, home=home, primary=primary)
    figures["src"], figures["dst"] = src, dst
    if naive:
        with Timer() as t:
            reference = trust_levels_naive(n, primary, src, dst)
        figures["naive_seconds"] = t.seconds
        assert np.array_equal(reference, levels), "fast and naive levels differ"
        figures["equal"] = True
    return figures


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeats)
        return 0

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    naive_sizes = {10_000} if args.quick else {10_000, 100_000}
    repeats = 1 if args.quick else 3
    console.width = max(console.width, 120)
    console.print(f"[bold]Trust levels[/] — {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")

    runs = []
    for n in sizes:
        naive = " and running the naive reference" if n in naive_sizes else ""
        console.print(f"  {n:,} registrants: generating, compiling{naive}…")
        runs.append(run_size(n, repeats, naive=n in naive_sizes))

    largest = runs[-1]
    check_edges(largest["n"], largest["src"], largest["dst"])  # the generator keeps to the contract
    rows = []
    for run in runs:
        median = float(np.median(run["seconds"]))
        naive = run.get("naive_seconds")
        rows.append(
            [
                run["n"],
                run["edges"],
                f"{median:.3f}",
                f"{min(run['seconds']):.3f}",
                f"{run['peak_mib']:.0f}",
                f"{run['working_mib']:.0f}",
                f"{naive:.2f}" if naive is not None else "—",
                f"{naive / median:,.0f}×" if naive is not None else "—",
                "yes" if run.get("equal") else "—",
            ]
        )
    show(
        f"Trust levels: fast (median / best of {repeats}, each size in its own process) vs naive",
        ["registrants", "edges", "seconds", "best s", "peak MiB", "compile MiB", "naive s", "speed-up", "equal"],
        rows,
    )
    if len(runs) > 1:
        growth = [
            [
                f"{a['n']:,} → {b['n']:,}",
                f"{b['n'] / a['n']:.0f}×",
                f"{np.median(b['seconds']) / np.median(a['seconds']):.1f}×",
            ]
            for a, b in zip(runs, runs[1:], strict=False)
        ]
        show("Growth", ["sizes", "registrants", "time"], growth)

    levels = largest["levels"]
    values, counts = np.unique(levels, return_counts=True)
    with_primary = int((largest["primary"] > 0).sum())
    show(
        f"Level histogram, {largest['n']:,} registrants ({with_primary:,} with primary edges)",
        ["level", "voters", "share"],
        [[int(v), int(c), f"{100 * c / levels.size:.2f}%"] for v, c in zip(values, counts, strict=True)],
    )
    inside = float(np.mean(largest["home"][largest["src"]] == largest["home"][largest["dst"]]))
    generated = largest["generated_seconds"]
    console.print(f"  edges inside a neighbourhood: {100 * inside:.1f}%; generating took {generated:.1f} s")

    # the range filter a compile would run first: codes like "004217" (neighbourhood 4217), ranges by prefix
    codes = np.strings.zfill(largest["home"].astype(np.str_), 6)
    in_range = []
    for prefix_len in (6, 4):
        with Timer() as t:
            kept_src, _ = edges_in_range(largest["src"], largest["dst"], codes, prefix_len)
        in_range.append({"prefix_len": prefix_len, "kept": int(kept_src.size), "seconds": t.seconds})
        console.print(
            f"  edges_in_range(prefix_len={prefix_len}) on {largest['n']:,} codes: kept {kept_src.size:,} of"
            f" {largest['edges']:,} edges in {t.seconds:.3f} s"
        )

    median = float(np.median(largest["seconds"]))
    if not args.quick:
        ok = median <= TARGET_SECONDS and largest["peak_mib"] <= TARGET_MIB
        console.print(
            f"  1M target (<= {TARGET_SECONDS} s, <= {TARGET_MIB} MiB): "
            + ("[green]met[/]" if ok else "[red]NOT met[/]")
            + f" ({median:.3f} s, {largest['peak_mib']:.0f} MiB)"
        )
    path = save(
        "trust_levels" + ("_quick" if args.quick else ""),
        {
            "sizes": [
                {
                    "registrants": r["n"],
                    "edges": r["edges"],
                    "seconds": r["seconds"],
                    "peak_mib": r["peak_mib"],
                    "compile_working_mib": r["working_mib"],
                    "naive_seconds": r.get("naive_seconds"),
                    "equal_to_naive": r.get("equal"),
                }
                for r in runs
            ],
            "edges_in_range": in_range,
            "histogram": {int(v): int(c) for v, c in zip(values, counts, strict=True)},
            "load_average_at_end": os.getloadavg()[0],
            "timestamp": time.time(),
        },
    )
    console.print(f"  saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
