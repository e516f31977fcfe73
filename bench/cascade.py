"""Delegate cascade figures: counting a poll of 10k / 100k / 1M cast votes, against the plain walk of every vote.

Run: .venv/bin/python bench/cascade.py [--quick]

The polls are generated from a fixed seed: most voters vote directly for one of a dozen candidates who cast
no vote themselves; about a tenth delegate in chains up to ~1,000 deep that end at a candidate, at a cycle,
or at another chain; some voters sit in cycles of length 2..50 with tails; a few vote for themselves or for
anyone at all; about 1% (outside the chains) are barred: their vote names a candidate but is not cast. Node indices are shuffled.
The walk is run on the small polls only and must give identical results. Two worst cases follow (no walk:
it would be quadratic): one chain a million deep, and one cycle of a million.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402

from civitas_counter.domain.cascade import (  # noqa: E402
    _cycle_labels,
    count_cascade,
    count_cascade_naive,
    trace,
)

SEED = 20240607
TOPS = 12
MAX_CHAIN = 998  # nodes in the deepest chain: its head's vote follows 998 links to a candidate


def generate(votes: int, seed: int = SEED) -> tuple[int, np.ndarray, np.ndarray]:
    """A poll with exactly `votes` cast votes: (n, candidate, cast)."""
    rng = np.random.default_rng(seed + votes)
    barred = max(1, votes // 99)
    voters = votes + barred
    n = voters + TOPS
    tops = np.arange(voters, n)  # candidates who cast no vote (e.g. proposals)
    candidate = np.full(n, -1, dtype=np.int64)
    ids = rng.permutation(voters)
    at = 0

    cycle_nodes = []
    while at < voters // 200:  # ~0.5% of voters in cycles of 2..50
        ring = ids[at : at + int(rng.integers(2, 51))]
        candidate[ring] = np.roll(ring, -1)
        cycle_nodes.append(ring)
        at += ring.size
    cycle_nodes = np.concatenate(cycle_nodes) if cycle_nodes else ids[:0]

    # ~10% in delegation chains; `beyond[i]`: links from chain i's last node to where its vote is held
    chain_nodes, beyond, longest = [], [], min(MAX_CHAIN, voters // 10)
    while at < voters // 200 + voters // 10:
        tail, roll = 1, rng.random()
        if not chain_nodes:  # the deepest: `longest` links to a candidate
            length, end = longest, tops[0]
        elif roll < 0.15 and cycle_nodes.size:  # a short tail into a cycle
            length, tail = int(rng.integers(1, 51)), 50
            end = cycle_nodes[rng.integers(cycle_nodes.size)]
        elif roll < 0.35:  # joins the end half of an earlier chain, which then branches
            i = int(rng.integers(len(chain_nodes)))
            j = int(rng.integers(chain_nodes[i].size // 2, chain_nodes[i].size))
            end, tail = chain_nodes[i][j], chain_nodes[i].size - j + beyond[i]
            length = int(rng.integers(1, max(2, longest - tail + 1)))
        else:
            length, end = int(rng.integers(1, longest + 1)), tops[rng.integers(TOPS)]
        chain = ids[at : at + length]
        at += chain.size
        candidate[chain[:-1]] = chain[1:]
        candidate[chain[-1]] = end
        chain_nodes.append(chain)
        beyond.append(tail)
    chained = np.concatenate(chain_nodes) if chain_nodes else ids[:0]

    direct = ids[at:]
    kind = rng.random(direct.size)
    weights = 1.0 / np.arange(1, TOPS + 1)
    candidate[direct] = tops[rng.choice(TOPS, size=direct.size, p=weights / weights.sum())]
    to_chain = kind < 0.04
    if chained.size:
        candidate[direct[to_chain]] = chained[rng.integers(chained.size, size=int(to_chain.sum()))]
    to_cycle = (kind >= 0.04) & (kind < 0.05)
    if cycle_nodes.size:
        candidate[direct[to_cycle]] = cycle_nodes[rng.integers(cycle_nodes.size, size=int(to_cycle.sum()))]
    anyone = (kind >= 0.05) & (kind < 0.055)
    candidate[direct[anyone]] = rng.integers(voters, size=int(anyone.sum()))
    itself = (kind >= 0.055) & (kind < 0.056)
    candidate[direct[itself]] = direct[itself]

    cast = np.zeros(n, dtype=bool)
    cast[:voters] = True
    # barred (they still name a candidate): ~1% of voters, outside the chains so that those stay deep
    unchained = np.setdiff1d(np.arange(voters), chained)
    cast[rng.choice(unchained, size=barred, replace=False)] = False

    rename = rng.permutation(n)  # shuffle node indices, as names sorted alphabetically would
    shuffled = np.full(n, -1, dtype=np.int64)
    shuffled[rename] = np.where(candidate >= 0, rename[np.maximum(candidate, 0)], -1)
    recast = np.zeros(n, dtype=bool)
    recast[rename] = cast
    assert int(recast.sum()) == votes
    return n, shuffled, recast


def vote_depths(candidate: np.ndarray, cast: np.ndarray, cycler: np.ndarray) -> np.ndarray:
    """Links each cast vote follows before it is held (pointer jumping; for the table, not timed)."""
    n = candidate.size
    index = np.arange(n)
    root = ~cast | cycler | (candidate == index)
    up = np.where(root, index, candidate)
    dist = (~root).astype(np.int64)
    while True:
        jumped = up[up]
        if np.array_equal(jumped, up):
            break
        dist, up = dist + dist[up], jumped
    around = np.zeros(n, dtype=np.int64)  # a vote entering a cycle of k goes k-1 links round it
    ring = np.flatnonzero(cycler)
    if ring.size:
        label = _cycle_labels(np.where(cast, candidate, -1), ring)
        around[ring] = np.bincount(label)[label] - 1
    return np.where(cast, dist + around[up], 0)


def timed(runs: int, fn, *args):
    seconds, result = [], None
    for _ in range(runs):
        with Timer() as t:
            result = fn(*args)
        seconds.append(t.seconds)
    return result, min(seconds), statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k votes only")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000]
    walk_up_to = 10_000 if args.quick else 100_000

    rows, figures = [], {"polls": []}
    for votes in sizes:
        n, candidate, cast = generate(votes)
        result, best, median = timed(5 if votes < 1_000_000 else 7, count_cascade, n, candidate, cast)
        depths = vote_depths(candidate, cast, result.cycler)
        top = [(int(i), int(result.receive[i])) for i in np.argsort(-result.receive, kind="stable")[:3]]
        entry = {
            "votes": votes, "nodes": n, "max_depth": int(depths.max()), "mean_depth": round(float(depths[cast].mean()), 2),
            "cyclers": int(result.cycler.sum()), "fast_seconds_best": best, "fast_seconds_median": median,
            "top3": top,
        }
        naive_s = None
        if votes <= walk_up_to:
            walked, naive_s, _ = timed(1, count_cascade_naive, n, candidate, cast)
            assert walked == result, "the fast count and the walk disagree"
            deepest = int(np.argmax(depths))
            assert len(trace(candidate, cast, deepest)) - 1 == depths.max()
            entry.update(naive_seconds=naive_s, speedup=naive_s / best, identical=True)
        figures["polls"].append(entry)
        rows.append([
            votes, entry["max_depth"], f"{entry['mean_depth']:.1f}", entry["cyclers"], best, median,
            "-" if naive_s is None else naive_s, "-" if naive_s is None else f"{naive_s / best:,.0f}x",
            "-" if naive_s is None else "yes",
        ])
        console.print(f"counted {votes:,} votes: top {top}")

    worst = []
    if not args.quick:
        m = 1_000_000
        chain = np.arange(1, m + 1, dtype=np.int64)
        chain[-1] = -1
        worst.append(("one chain", m, chain, chain >= 0, m - 1))
        ring = np.roll(np.arange(m, dtype=np.int64), -1)
        worst.append(("one cycle", m, ring, np.ones(m, dtype=bool), m - 1))
        for name, m, cand, mask, depth in worst:
            result, best, median = timed(3, count_cascade, m, cand, mask)
            assert result.turnout == int(mask.sum())
            rows.append([f"{int(mask.sum()):,} ({name})", depth, "", int(result.cycler.sum()), best, median, "-", "-", "-"])
            figures[name.replace(" ", "_")] = {"votes": int(mask.sum()), "max_depth": depth, "fast_seconds_best": best,
                                               "fast_seconds_median": median}

    def cell(v):
        return f"{v * 1000:,.1f}" if isinstance(v, float) else v

    console.width = max(console.width, 130)
    show(
        "Delegate cascade: count_cascade (numpy) against the walk of every vote",
        ["votes", "max depth", "mean depth", "cyclers", "fast ms (best)", "fast ms (median)", "walk ms", "speed-up",
         "identical"],
        [[cell(v) for v in row] for row in rows],
    )
    if not args.quick:
        small, big = figures["polls"][0], figures["polls"][-1]
        growth = big["fast_seconds_best"] / small["fast_seconds_best"]
        console.print(f"growth 10k -> 1M (x100 votes): x{growth:.1f} time; 1M votes in {big['fast_seconds_best']:.3f} s "
                      f"(target <= 2 s)")
    console.print(f"saved {save('cascade', figures)}")


if __name__ == "__main__":
    main()
