"""Trust levels in the neighbourhood trust network (after Votorola's pollserver trust network).

Pure domain logic: no I/O, no clock, no randomness. Everything is integer-indexed: the caller maps
voters (email addresses, in sorted order) to indices ``0..n-1``.

The rule
--------
* The registrar (the site root) gives *primary edges* to voters; ``p(v)`` is how many v has (several allowed).
* Voters vouch for each other with *trust edges* ``source -> target``: at most one per ordered pair, no self-edges.
* A voter's trust level is the largest ``T`` such that ``p(v) + #{sources u of v : level(u) >= T} >= T``.
* Levels are the *least* fixed point of that rule: every voter starts at 0 and levels only rise until nothing changes.
* Edges whose source is barred count for nothing; a barred voter still gets a level from its own sources and
  primary edges.

Consequences: a level is never below ``p``; a source at level 0 counts for nothing; a ring of voters vouching for one
another without a primary edge stays at 0; no level exceeds the largest ``p`` in the network.

How `trust_levels` computes it
------------------------------
Write ``M_T`` for the set of voters whose (least-fixed-point) level is at least ``T``. ``M_T`` is exactly the least
set closed under "v joins if ``p(v) >= T``, or if at least ``T - p(v)`` of v's (unbarred) sources have joined".
(Proof sketch: the feasibility test ``p + #{sources >= T} >= T`` is downward closed in ``T``, so ``v`` is at level
``>= T`` iff it passes the test at ``T``; hence the level sets of the least fixed point are fixed points of the
per-threshold rule, so contain their least fixed points ``M_T``; conversely ``max{T : v in M_T}`` is itself a fixed
point of the level rule, so it is at least the least one.) ``M_T`` is a threshold cascade: start from the voters
with ``p >= T`` and push each joiner's out-edges once, counting, until nobody new joins. Each cascade only needs
the edges among ``M_{T-1}``, which shrinks as ``T`` grows, and thresholds at which nothing but primary edges can
matter are skipped, so the cost is about ``O((n + E) * number of distinct levels)`` with no sorting after the
first. Every round of a cascade is vectorised with numpy over the joiners' out-edges (CSR by source).

`trust_levels_naive` is the plain reading of the rule: recompute every voter's level from the current levels in
rounds until no level changes. The two agree exactly (see the unit tests).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from civitas_kernel import native

__all__ = [
    "check_edges",
    "doubt_counts",
    "edges_in_range",
    "level_from_sources",
    "trust_levels",
    "trust_levels_naive",
]

_I32_MAX = np.iinfo(np.int32).max


# --------------------------------------------------------------------------------------------- input checks


def _as_index_array(name: str, values, n: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if array.size == 0:
        return np.zeros(0, dtype=np.int32)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, not {array.dtype}")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= n:
        raise ValueError(f"{name} holds a voter index outside 0..{n - 1}")
    return array.astype(np.int32, copy=False)


def _inputs(n: int, primary, src, dst, barred) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    n = int(n)
    if n < 0 or n > _I32_MAX:
        raise ValueError("n must be between 0 and 2**31 - 1")
    primary = np.asarray(primary)
    if primary.shape != (n,):
        raise ValueError(f"primary must have shape ({n},)")
    if n and primary.dtype.kind not in "iu":
        raise ValueError(f"primary must hold integers, not {primary.dtype}")
    if n and (int(primary.min()) < 0 or int(primary.max()) > _I32_MAX):
        raise ValueError("primary edge counts must be between 0 and 2**31 - 1")
    primary = primary.astype(np.int32, copy=False)
    src = _as_index_array("src", src, n)
    dst = _as_index_array("dst", dst, n)
    if src.shape != dst.shape:
        raise ValueError("src and dst must have the same length")
    if src.size and bool(np.any(src == dst)):
        raise ValueError("a voter cannot vouch for itself (self-edge)")
    if barred is not None:
        barred = np.asarray(barred)
        if barred.shape != (n,) or barred.dtype != np.bool_:
            raise ValueError(f"barred must be a boolean array of shape ({n},)")
    return primary, src, dst, barred


def check_edges(n: int, src, dst) -> None:
    """Raise ValueError unless ``src -> dst`` are valid trust edges among ``n`` voters.

    Valid: same length, indices in ``0..n-1``, no self-edge, at most one edge per ordered pair.
    """
    _, src, dst, _ = _inputs(n, np.zeros(int(n), dtype=np.int32), src, dst, None)
    if src.size:
        keys = np.sort((src.astype(np.int64) << 32) | dst.astype(np.int64))
        if bool(np.any(keys[1:] == keys[:-1])):
            raise ValueError("duplicate trust edge (at most one per ordered pair)")


# --------------------------------------------------------------------------------------------- the rule, per voter


def level_from_sources(p: int, source_levels: Sequence[int]) -> int:
    """The largest T with ``p + #{l in source_levels : l >= T} >= T`` (straight from the definition)."""
    if p < 0:
        raise ValueError("p must be non-negative")
    levels = sorted(source_levels, reverse=True)
    # With levels sorted descending L_1 >= L_2 >= ..., T > p is feasible iff L_{T-p} >= T, and every
    # min(p + k, L_k) is feasible; so the answer is max(p, max_k min(p + k, L_k)).
    best = p
    for k, level in enumerate(levels, start=1):
        candidate = min(p + k, level)
        if candidate > best:
            best = candidate
        if level <= best:  # later L_k are no larger, so they cannot beat it
            break
    return best


# --------------------------------------------------------------------------------------------- reference


def trust_levels_naive(
    n: int,
    primary: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    barred: np.ndarray | None = None,
) -> np.ndarray:
    """Reference implementation in plain Python: from all zeros, recompute every voter's level from the current
    levels, round after round, until no level changes (the least fixed point). Same contract as `trust_levels`."""
    primary, src, dst, barred = _inputs(n, primary, src, dst, barred)
    p = primary.tolist()
    is_barred = barred.tolist() if barred is not None else [False] * n
    sources: list[list[int]] = [[] for _ in range(n)]
    seen: set[tuple[int, int]] = set()
    for u, v in zip(src.tolist(), dst.tolist(), strict=True):
        if (u, v) in seen:
            raise ValueError("duplicate trust edge (at most one per ordered pair)")
        seen.add((u, v))
        if not is_barred[u]:
            sources[v].append(u)
    levels = [0] * n
    while True:
        new = [level_from_sources(p[v], [levels[u] for u in sources[v]]) for v in range(n)]
        if new == levels:
            return np.asarray(levels, dtype=np.int32)
        levels = new


# --------------------------------------------------------------------------------------------- fast


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (ascending) and how often each occurs, by sorting (np.unique hashes, which is slower
    here)."""
    ordered = np.sort(values)
    first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[first], np.diff(np.append(first, ordered.size))


def _add_counts(counts: np.ndarray, targets: np.ndarray) -> None:
    """counts[t] += 1 for every t in targets (repeats included)."""
    if targets.size * 16 < counts.size:  # a few: sort them rather than touch all n counters
        unique, per = _runs(targets)
        counts[unique] += per.astype(counts.dtype, copy=False)
    else:
        counts += np.bincount(targets, minlength=counts.size).astype(counts.dtype, copy=False)


# A round over fewer out-edges than this costs less one voter at a time in plain Python than in numpy calls (whose
# fixed cost would otherwise dominate long thin chains of trust).
_SMALL_ROUND = 256


def _cascade_by_hand(
    frontier: np.ndarray,
    pending: int,
    indptr: np.ndarray,
    targets_by_source: np.ndarray,
    waiting: np.ndarray,
    joined: np.ndarray,
    counts: np.ndarray,
    need: np.ndarray,
) -> np.ndarray:
    """Push joiners' out-edges one voter at a time while the queue's out-edges number at most _SMALL_ROUND
    (``pending`` on entry); return whatever is left in the queue for the vectorised rounds."""
    queue = deque(frontier.tolist())
    while queue and pending <= _SMALL_ROUND:
        source = queue.popleft()
        first, last = int(indptr[source]), int(indptr[source + 1])
        pending -= last - first
        for target in targets_by_source[first:last].tolist():
            if waiting[target]:
                counts[target] += 1
                if counts[target] >= need[target]:
                    waiting[target] = False
                    joined[target] = True
                    queue.append(target)
                    pending += int(indptr[target + 1] - indptr[target])
    return np.array(queue, dtype=np.int32)


def _cascade(
    threshold: int,
    primary: np.ndarray,
    member: np.ndarray,
    indptr: np.ndarray,
    targets_by_source: np.ndarray,
) -> np.ndarray:
    """M_T: the least set containing every voter with ``p >= T`` and every voter of ``member`` (= M_{T-1}) with at
    least ``T - p`` sources in the set. ``indptr``/``targets_by_source`` are the out-edges (CSR by source).

    Every joiner pushes its out-edges exactly once; the order does not matter (the set is a least fixed point),
    so rounds are only a way to batch the work for numpy (or, where the kernel has its C loops, a plain queue)."""
    reached = native.cascade(threshold, primary, member, indptr, targets_by_source)
    if reached is not None:
        return reached
    n = primary.size
    joined = primary >= threshold  # already inside M_{T-1}, since a level is never below p
    waiting = member & ~joined  # may still join, once enough of their sources have
    need = np.int64(threshold) - primary  # sources still wanted (read only where waiting)
    counts = np.zeros(n, dtype=np.int32)
    frontier = np.flatnonzero(joined).astype(np.int32, copy=False)
    while frontier.size:
        starts = indptr[frontier]
        lengths = indptr[frontier + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            break
        if total <= _SMALL_ROUND:
            frontier = _cascade_by_hand(frontier, total, indptr, targets_by_source, waiting, joined, counts, need)
            continue
        # positions of all the frontier's out-edges, without a Python loop
        offsets = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - offsets, lengths) + np.arange(total, dtype=starts.dtype)
        hit = targets_by_source[positions]
        hit = hit[waiting[hit]]
        if hit.size == 0:
            break
        _add_counts(counts, hit)
        ready = hit[counts[hit] >= need[hit]]
        if ready.size == 0:
            break
        # each ready voter once (a voter can appear several times in hit)
        waiting[ready] = False
        if ready.size * 16 >= n:
            mark = np.zeros(n, dtype=bool)
            mark[ready] = True
            ready = np.flatnonzero(mark).astype(np.int32, copy=False)
        elif ready.size > 1:
            ready = _runs(ready)[0]
        joined[ready] = True
        frontier = ready
    return joined


def trust_levels(
    n: int,
    primary: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    barred: np.ndarray | None = None,
) -> np.ndarray:
    """Trust level of every voter ``0..n-1`` (int32 array of length n).

    ``primary[v]``: how many primary edges the registrar gave voter v. ``src[i] -> dst[i]``: trust edges (source
    vouches for target), at most one per ordered pair, no self-edges. ``barred[v]``: v's outgoing trust edges count
    for nothing (v still gets a level). Raises ValueError for malformed input. Deterministic.
    """
    primary, src, dst, barred = _inputs(n, primary, src, dst, barred)
    levels = primary.copy()
    if n == 0 or src.size == 0:
        return levels

    # One sort gives both the CSR order (by source) and the duplicate check.
    keys = (src.astype(np.int64) << 32) | dst.astype(np.int64)
    keys.sort()
    if bool(np.any(keys[1:] == keys[:-1])):
        raise ValueError("duplicate trust edge (at most one per ordered pair)")
    edge_src = (keys >> 32).astype(np.int32)
    edge_dst = (keys & 0xFFFFFFFF).astype(np.int32)
    del keys
    if barred is not None and bool(barred.any()):
        counted = ~barred[edge_src]
        edge_src, edge_dst = edge_src[counted], edge_dst[counted]

    member = np.ones(n, dtype=bool)  # M_{T-1}; M_0 is everyone
    threshold = 1
    while edge_src.size:
        waiting = member & (primary < threshold)
        if not waiting.any():
            # M_{T-1} holds only voters with p >= T, so M_T = M_{T-1} = {p >= T}, and nothing but primary edges
            # matters until the next T at which a member of it has p == T - 1.
            if not member.any():
                break
            threshold = int(primary[member].min()) + 1
            continue
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(edge_src, minlength=n), out=indptr[1:])
        member = _cascade(threshold, primary, member, indptr, edge_dst)
        raised = member & (primary < threshold)
        if raised.any():  # (then threshold <= a primary count, so it fits in int32)
            levels[raised] = threshold
        # Only edges among M_T can matter from here on; filtering keeps them sorted by source.
        kept = member[edge_src] & member[edge_dst]
        edge_src, edge_dst = edge_src[kept], edge_dst[kept]
        threshold += 1
    return levels


# --------------------------------------------------------------------------------------------- edges and doubts


def edges_in_range(
    src: np.ndarray,
    dst: np.ndarray,
    neighbourhood_codes: list[str] | np.ndarray,
    prefix_len: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The edges ``src -> dst`` between voters whose neighbourhood codes share the first ``prefix_len`` characters.

    ``neighbourhood_codes[v]`` is voter v's code. ``prefix_len=None`` keeps every edge. Otherwise both codes must
    be non-empty and at least ``prefix_len`` characters long (a code shorter than the range says too little about
    where its voter lives), and their first ``prefix_len`` characters must be equal; ``prefix_len=0`` therefore
    keeps the edges between any two voters with a code. Returns new (src, dst) arrays, in the input order.
    """
    codes = np.asarray(neighbourhood_codes)
    if codes.ndim != 1:
        raise ValueError("neighbourhood_codes must be one-dimensional")
    n = codes.size
    src = _as_index_array("src", src, n)
    dst = _as_index_array("dst", dst, n)
    if src.shape != dst.shape:
        raise ValueError("src and dst must have the same length")
    if prefix_len is None:
        return src.copy(), dst.copy()
    if prefix_len < 0:
        raise ValueError("prefix_len must be non-negative (or None)")
    if src.size == 0:
        return src.copy(), dst.copy()
    if codes.dtype.kind not in "UT":  # numpy's fixed-width or variable-width strings
        if n and not (codes.dtype.kind == "O" and all(isinstance(code, str) for code in codes.tolist())):
            raise ValueError("neighbourhood_codes must be strings")
        codes = codes.astype(np.str_)
    usable = np.strings.str_len(codes) >= max(int(prefix_len), 1)
    _, group = np.unique(np.strings.slice(codes, 0, int(prefix_len)), return_inverse=True)
    group = group.astype(np.int64, copy=False).reshape(-1)
    group[~usable] = -1
    group_src = group[src]
    kept = (group_src >= 0) & (group_src == group[dst])
    return src[kept], dst[kept]


def doubt_counts(doubter: np.ndarray, doubted: np.ndarray, barred: np.ndarray | None, n: int) -> np.ndarray:
    """For each voter ``0..n-1``, how many doubt edges point at them from voters who are not barred (int32)."""
    n = int(n)
    if n < 0:
        raise ValueError("n must be non-negative")
    doubter = _as_index_array("doubter", doubter, n)
    doubted = _as_index_array("doubted", doubted, n)
    if doubter.shape != doubted.shape:
        raise ValueError("doubter and doubted must have the same length")
    if barred is not None:
        barred = np.asarray(barred)
        if barred.shape != (n,) or barred.dtype != np.bool_:
            raise ValueError(f"barred must be a boolean array of shape ({n},)")
        doubted = doubted[~barred[doubter]]
    return np.bincount(doubted, minlength=n).astype(np.int32)
