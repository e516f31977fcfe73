"""The delegate cascade of one poll (Votorola's pollserver count), over integer-indexed nodes.

Every node (a voter, or any candidate) is an index 0..n-1; the caller maps names to indices
deterministically. ``candidate[i]`` is the node that i votes for (-1: no vote) and ``cast[i]`` says
whether i's vote is cast (False for a barred voter, whose candidate is then ignored).

The rule. Each cast vote starts at its voter (the origin) and follows candidate links
origin -> candidate(origin) -> ...; every node it reaches after the origin *receives* it. It is
*held* at the first node on its path (possibly the origin) that casts no vote, or whose own
candidate is already on the vote's path. So a self-vote is held by its voter; a barred voter
receives and holds what reaches it; a vote entering a cycle x1 -> x2 -> ... -> xk -> x1 at x1 goes
round and is held at xk.

Per node:

* ``receive``: votes received (its own excluded);
* ``hold``: votes held there (its own included, when held there);
* ``carry``: received votes it passes on to its candidate (``receive - hold + [holds its own]``);
* ``cycler``: it casts, and following cast candidate links from it leads back to it (a self-vote
  is not a cycle).

``turnout`` is the number of cast votes, which is also the sum of the hold counts (asserted).

How it is counted, in O(n) numpy work (no per-vote walk). Votes only move along *cast* links, so
the graph of cast links is a functional graph: trees hanging from roots that are either non-casting
nodes or nodes on a cycle (a self-vote is a cycle of one).

1. In-degree peeling (Kahn's topological order, level by level, vectorised) gives every tree
   node its subtree size ``S`` (itself plus everyone whose cast links lead to it); cycle nodes are
   exactly those never peeled, and their ``S`` counts themselves and their tails. Once a level is
   narrower than ``NARROW`` nodes (levels never widen again: a node of height h+1 needs its own
   child of height h), the rest is finished by a plain loop over just the remaining nodes, so long
   thin chains cost O(length), not O(length) numpy calls.
2. Cycles are labelled by their least node with pointer jumping (min over windows that double,
   until nothing changes), on the cycle nodes only.
3. Then, with ``B`` the size of a cycle's whole basin: a tree node receives ``S - 1``; a cycle node
   receives ``B - 1``; a non-casting node holds all it receives; a cycle node holds the votes
   entering the cycle at its candidate, ``S[candidate]``; every other node holds nothing.

``count_cascade_naive`` is the straightforward walk of every vote along its path, kept as the
cross-check (the tests compare the two on random graphs) and as the benchmark's baseline.

Pure: no I/O, no clock, no randomness; results are identical from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Cascade", "count_cascade", "count_cascade_naive", "trace"]

NARROW = 64
"""Peeling levels narrower than this are finished by a plain loop rather than numpy calls."""

_INT = np.int64


@dataclass(frozen=True, eq=False)
class Cascade:
    """The count of one poll's cascade: per-node arrays (read-only, int64 / bool) and the turnout."""

    receive: np.ndarray
    hold: np.ndarray
    carry: np.ndarray
    cycler: np.ndarray
    turnout: int

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cascade):
            return NotImplemented
        return self.turnout == other.turnout and all(
            a.dtype == b.dtype and np.array_equal(a, b)
            for a, b in ((getattr(self, f.name), getattr(other, f.name)) for f in fields(self) if f.name != "turnout")
        )

    __hash__ = None  # type: ignore[assignment]


def _inputs(n: int, candidate, cast) -> tuple[np.ndarray, np.ndarray]:
    """Checked copies of the inputs: candidate as int64, cast as bool, both of length n."""
    if n < 0:
        raise ValueError("n must not be negative")
    candidate = np.asarray(candidate)
    cast = np.asarray(cast)
    if candidate.shape != (n,) or cast.shape != (n,):
        raise ValueError(f"candidate and cast must both have shape ({n},)")
    if n and not np.issubdtype(candidate.dtype, np.integer):
        raise ValueError("candidate must hold integers")
    if n and cast.dtype != np.bool_:
        raise ValueError("cast must be a boolean mask")
    candidate = candidate.astype(_INT, copy=True)
    cast = cast.astype(bool, copy=True)
    if n and (candidate.min() < -1 or candidate.max() >= n):
        raise ValueError("a candidate is out of range (-1 for no vote, else 0..n-1)")
    if np.any(cast & (candidate < 0)):
        raise ValueError("a vote is cast without a candidate")
    return candidate, cast


def _peel(nxt: np.ndarray, narrow: int = NARROW, dense: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Subtree sizes by in-degree peeling, and which nodes lie on cycles (never peeled).

    ``nxt[i]`` is i's cast candidate or -1. Returns (S, on_cycle). A level touching more than
    n/dense parents is applied with whole-array bincounts, a smaller one with ufunc.at.
    """
    n = nxt.size
    linked = np.flatnonzero(nxt >= 0)
    indeg = np.bincount(nxt[linked], minlength=n).astype(_INT)
    size = np.ones(n, dtype=_INT)
    frontier = np.flatnonzero(indeg == 0)
    while frontier.size and frontier.size >= narrow:
        parent = nxt[frontier]
        keep = parent >= 0
        child, parent = frontier[keep], parent[keep]
        if not parent.size:
            frontier = parent
            break
        if parent.size * dense > n:
            hits = np.bincount(parent, minlength=n)
            size += np.bincount(parent, weights=size[child], minlength=n).astype(_INT)  # exact: < 2**53
            indeg -= hits
            frontier = np.flatnonzero((hits > 0) & (indeg == 0))
        else:
            np.add.at(size, parent, size[child])
            np.subtract.at(indeg, parent, 1)
            frontier = np.unique(parent[indeg[parent] == 0])
    if frontier.size:
        # The narrow remainder: the frontier and every node still waiting (a waiting node's parent waits too).
        rest = np.union1d(frontier, np.flatnonzero(indeg > 0))
        local = np.full(n, -1, dtype=_INT)
        local[rest] = np.arange(rest.size, dtype=_INT)
        up = nxt[rest]
        up = np.where(up >= 0, local[np.maximum(up, 0)], -1).tolist()
        sz, deg = size[rest].tolist(), indeg[rest].tolist()
        stack = local[frontier].tolist()
        pop, push = stack.pop, stack.append
        while stack:
            u = pop()
            p = up[u]
            if p >= 0:
                sz[p] += sz[u]
                d = deg[p] - 1
                deg[p] = d
                if not d:
                    push(p)
        size[rest] = sz
        indeg[rest] = deg
    return size, indeg > 0


def _cycle_labels(nxt: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """For sorted cycle nodes, the position (within ``nodes``) of the least node of each one's cycle."""
    local = np.full(nxt.size, -1, dtype=_INT)
    local[nodes] = np.arange(nodes.size, dtype=_INT)
    jump = local[nxt[nodes]]
    label = np.arange(nodes.size, dtype=_INT)
    while True:  # label[x] = least of x, jump^1(x), ..., over a window that doubles each round
        joined = np.minimum(label, label[jump])
        if np.array_equal(joined, label):
            return label
        label = joined
        jump = jump[jump]


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


def count_cascade(n: int, candidate, cast, *, narrow: int = NARROW, dense: int = 8) -> Cascade:
    """The cascade of one poll: see the module's doc. Linear work, vectorised with numpy.

    ``narrow`` and ``dense`` only tune how levels are peeled (see ``_peel``); the result never depends on them.
    """
    candidate, cast = _inputs(n, candidate, cast)
    nxt = np.where(cast, candidate, -1)
    size, on_cycle = _peel(nxt, narrow=narrow, dense=dense)

    receive = size - 1
    hold = np.where(cast, 0, receive)
    cycle = np.flatnonzero(on_cycle)
    if cycle.size:
        label = _cycle_labels(nxt, cycle)
        basin = np.zeros(cycle.size, dtype=_INT)
        np.add.at(basin, label, size[cycle])
        receive[cycle] = basin[label] - 1
        hold[cycle] = size[nxt[cycle]]
    self_vote = cast & (candidate == np.arange(n, dtype=_INT))
    carry = receive - hold + self_vote
    cycler = on_cycle & ~self_vote
    turnout = int(np.count_nonzero(cast))
    assert int(hold.sum()) == turnout, "every cast vote is held exactly once"
    _frozen(receive, hold, carry, cycler)
    return Cascade(receive, hold, carry, cycler, turnout)


def count_cascade_naive(n: int, candidate, cast) -> Cascade:
    """The same count by walking every cast vote along its path, in plain Python: O(total path length)."""
    candidate, cast = _inputs(n, candidate, cast)
    cand, cst = candidate.tolist(), cast.tolist()
    receive, hold, carry, cycler = [0] * n, [0] * n, [0] * n, [False] * n
    for v in range(n):
        if not cst[v]:
            continue
        path = _path(cand, cst, v)
        for w in path[1:]:
            receive[w] += 1
        for w in path[1:-1]:
            carry[w] += 1
        hold[path[-1]] += 1
        # cycler: following cast links from v's candidate comes back to v (a self-vote does not count)
        u, seen = cand[v], {v}
        while u != v and cst[u] and u not in seen:
            seen.add(u)
            u = cand[u]
        cycler[v] = u == v and cand[v] != v
    turnout = sum(cst)
    assert sum(hold) == turnout
    arrays = [np.array(a, dtype=_INT) for a in (receive, hold, carry)] + [np.array(cycler, dtype=bool)]
    _frozen(*arrays)
    return Cascade(*arrays, turnout=turnout)


def _path(cand: list[int], cst: list[bool], voter: int) -> list[int]:
    path, seen, u = [voter], {voter}, voter
    while cst[u] and cand[u] not in seen:
        u = cand[u]
        path.append(u)
        seen.add(u)
    return path


def trace(candidate, cast, voter: int) -> list[int]:
    """The path of one voter's vote, origin first, its holder last; [] when the voter's vote is not cast."""
    candidate, cast = _inputs(len(candidate), candidate, cast)
    if not 0 <= voter < candidate.size:
        raise ValueError("no such voter")
    if not cast[voter]:
        return []
    return _path(candidate.tolist(), cast.tolist(), voter)
