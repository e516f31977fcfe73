"""The delegate cascade: hand-worked polls, and the fast count checked against the plain walk of every vote."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_counter.domain.cascade import Cascade, count_cascade, count_cascade_naive, trace

NO = -1


def poll(*votes: int, cast: list[bool] | None = None):
    """candidate and cast arrays from one candidate per node (-1: no vote); cast defaults to 'votes'."""
    candidate = np.array(votes, dtype=np.int64)
    mask = candidate >= 0 if cast is None else np.array(cast, dtype=bool)
    return len(votes), candidate, mask


def counted(*votes: int, cast: list[bool] | None = None) -> Cascade:
    n, candidate, mask = poll(*votes, cast=cast)
    fast = count_cascade(n, candidate, mask)
    assert fast == count_cascade_naive(n, candidate, mask)
    return fast


def rows(c: Cascade) -> dict[str, list]:
    return {"receive": c.receive.tolist(), "hold": c.hold.tolist(), "carry": c.carry.tolist(), "cycler": c.cycler.tolist()}


# --- hand-worked polls -------------------------------------------------------------------------------------------


def test_a_chain_is_held_at_its_end():
    a, b, c = 0, 1, 2
    result = counted(b, c, NO)  # a -> b -> c, c votes for no one
    assert rows(result) == {"receive": [0, 1, 2], "hold": [0, 0, 2], "carry": [0, 1, 0], "cycler": [False] * 3}
    assert result.turnout == 2
    assert trace([b, c, NO], [True, True, False], a) == [a, b, c]
    assert trace([b, c, NO], [True, True, False], c) == []


def test_a_two_cycle_holds_each_vote_at_the_other_end():
    a, b = 0, 1
    result = counted(b, a)
    assert rows(result) == {"receive": [1, 1], "hold": [1, 1], "carry": [0, 0], "cycler": [True, True]}
    assert trace([b, a], [True, True], a) == [a, b]
    assert trace([b, a], [True, True], b) == [b, a]


def test_a_three_cycle_with_tails_holds_each_vote_before_where_it_entered():
    x0, x1, x2, t0, t1, u = range(6)
    votes = [x1, x2, x0, t1, x0, x1]  # x0 -> x1 -> x2 -> x0; t0 -> t1 -> x0; u -> x1
    result = counted(*votes)
    cast = [True] * 6
    assert trace(votes, cast, t0) == [t0, t1, x0, x1, x2]
    assert trace(votes, cast, u) == [u, x1, x2, x0]
    assert trace(votes, cast, x1) == [x1, x2, x0]
    assert rows(result) == {
        "receive": [5, 5, 5, 0, 1, 0],  # the whole basin but their own vote
        "hold": [2, 1, 3, 0, 0, 0],  # x2 holds what enters at x0 (t0, t1, x0); x0 holds u and x1; x1 holds x2
        "carry": [3, 4, 2, 0, 1, 0],
        "cycler": [True, True, True, False, False, False],
    }
    assert result.turnout == 6


def test_a_self_vote_is_cast_and_held_by_oneself_and_is_no_cycle():
    a, b = 0, 1
    result = counted(a, a)  # a votes for a; b votes for a
    assert rows(result) == {"receive": [1, 0], "hold": [2, 0], "carry": [0, 0], "cycler": [False, False]}
    assert trace([a, a], [True, True], a) == [a]
    assert trace([a, a], [True, True], b) == [b, a]


def test_a_lone_self_vote_is_ranked_with_nothing_received():
    result = counted(0)
    assert rows(result) == {"receive": [0], "hold": [1], "carry": [0], "cycler": [False]}


def test_a_barred_middle_voter_receives_and_holds():
    a, b, c = 0, 1, 2
    result = counted(b, c, NO, cast=[True, False, False])  # b's vote for c is barred
    assert rows(result) == {"receive": [0, 1, 0], "hold": [0, 1, 0], "carry": [0, 0, 0], "cycler": [False] * 3}
    assert result.turnout == 1
    assert trace([b, c, NO], [True, False, False], a) == [a, b]
    assert trace([b, c, NO], [True, False, False], b) == []


def test_a_barred_voter_breaks_a_cycle():
    a, b = 0, 1
    result = counted(b, a, cast=[True, False])
    assert rows(result) == {"receive": [0, 1], "hold": [0, 1], "carry": [0, 0], "cycler": [False, False]}


def test_votes_for_a_candidate_who_is_not_a_voter():
    p = 3  # a proposal: a node that casts no vote
    result = counted(p, p, p, NO)
    assert rows(result) == {"receive": [0, 0, 0, 3], "hold": [0, 0, 0, 3], "carry": [0] * 4, "cycler": [False] * 4}


def test_equal_counts_share_a_rank_and_are_listed_by_node():
    # 0 <- 2, 3 ; 1 <- 4, 5 ; 6 <- 7
    votes = [NO, NO, 0, 0, 1, 1, NO, 6]


def test_no_votes_at_all():
    assert rows(counted(NO, NO)) == {"receive": [0, 0], "hold": [0, 0], "carry": [0, 0], "cycler": [False, False]}
    empty = count_cascade(0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
    assert empty.turnout == 0 and empty.receive.size == 0


@pytest.mark.parametrize("narrow", [0, 64, 10**9])
def test_a_long_chain_into_a_cycle(narrow):
    """10,000 deep: exercises the numpy levels, the plain-loop remainder, or both (the walk would be quadratic)."""
    depth = 10_000
    votes = np.arange(1, depth + 4, dtype=np.int64)  # 0 -> 1 -> ... -> depth+2,
    votes[-1] = depth  # and depth+2 -> depth: a three-cycle at the end of a 10,000 long tail
    n = votes.size
    cast = np.ones(n, dtype=bool)
    result = count_cascade(n, votes, cast, narrow=narrow)
    assert result.receive.tolist() == list(range(depth)) + [n - 1] * 3
    assert result.hold.tolist() == [0] * depth + [1, 1, depth + 1]  # the last holds all that entered at `depth`
    assert result.carry.tolist() == list(range(depth)) + [n - 2, n - 2, n - 1 - (depth + 1)]
    assert result.cycler.tolist() == [False] * depth + [True] * 3
    assert trace(votes, cast, 0) == list(range(n))


@pytest.mark.parametrize("dense", [0, 8, 10**9])
def test_how_levels_are_applied_does_not_change_the_count(dense):
    rng = np.random.default_rng(7)
    n = 5_000
    votes = np.where(rng.random(n) < 0.7, rng.integers(0, 20, n), rng.integers(0, n, n))
    cast = rng.random(n) < 0.97
    assert count_cascade(n, votes, cast, dense=dense) == count_cascade_naive(n, votes, cast)


def test_the_count_is_deterministic_and_read_only():
    n, candidate, cast = poll(1, 2, 0, 0, NO)
    first, second = count_cascade(n, candidate, cast), count_cascade(n, candidate, cast)
    assert first == second
    with pytest.raises(ValueError):
        first.receive[0] = 7
    candidate[0] = 4  # the caller's arrays are not kept
    assert first == second


@pytest.mark.parametrize(
    ("candidate", "cast", "message"),
    [
        ([NO, 0], [True, True], "without a candidate"),
        ([2, 0], [True, True], "out of range"),
        ([-2, 0], [False, True], "out of range"),
        ([1, 0, 0], [True, True], "shape"),
        ([1.0, 0.0], [True, True], "integers"),
        ([1, 0], [1, 1], "boolean"),
    ],
)
def test_bad_input_is_refused(candidate, cast, message):
    with pytest.raises(ValueError, match=message):
        count_cascade(2, np.array(candidate), np.array(cast))


# --- the fast count against the walk of every vote ---------------------------------------------------------------


@st.composite
def random_polls(draw, max_n: int = 24):
    """Any small functional graph: cycles, self-votes, tails, non-voters, barred voters who still name someone."""
    n = draw(st.integers(0, max_n))
    candidate = draw(st.lists(st.integers(-1, n - 1), min_size=n, max_size=n)) if n else []
    votes = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cast = [v and c >= 0 for v, c in zip(votes, candidate)]
    return n, np.array(candidate, dtype=np.int64), np.array(cast, dtype=bool)


@st.composite
def structured_polls(draw):
    """Bigger polls built from cycles (length 1..8) with trees hanging off them, into few candidates, ~some barred."""
    n = draw(st.integers(1, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    candidate = np.full(n, -1, dtype=np.int64)
    i = 0
    while i < n:
        kind = rng.random()
        if kind < 0.15:  # a cycle
            k = int(min(n - i, rng.integers(1, 9)))
            ring = order[i : i + k]
            candidate[ring] = np.roll(ring, -1)
            i += k
        elif kind < 0.25 or i == 0:  # a root that casts no vote
            i += 1
        else:  # a tree node voting for someone earlier (or, sometimes, anyone)
            candidate[order[i]] = order[rng.integers(0, i)] if rng.random() < 0.9 else rng.integers(0, n)
            i += 1
    cast = (candidate >= 0) & (rng.random(n) < draw(st.sampled_from([1.0, 0.97, 0.8])))
    return n, candidate, cast


def check_against_the_walk(n, candidate, cast, narrow):
    fast = count_cascade(n, candidate, cast, narrow=narrow)
    slow = count_cascade_naive(n, candidate, cast)
    assert fast == slow
    assert fast.turnout == int(cast.sum()) == int(fast.hold.sum())
    # every traced path ends where its vote is held, and its other nodes receive it
    held = np.zeros(n, dtype=np.int64)
    received = 0
    for voter in range(n):
        path = trace(candidate, cast, voter)
        assert (path == []) == (not cast[voter])
        if path:
            assert len(set(path)) == len(path)
            held[path[-1]] += 1
            received += len(path) - 1
    assert held.tolist() == fast.hold.tolist()
    assert received == int(fast.receive.sum())
    assert (fast.carry >= 0).all() and (fast.carry <= fast.receive).all()
    assert not (fast.cycler & ~cast).any()


@settings(max_examples=400, deadline=None)
@given(random_polls(), st.sampled_from([0, 2, 64]))
def test_small_random_polls_count_as_the_walk_does(p, narrow):
    check_against_the_walk(*p, narrow)


@settings(max_examples=150, deadline=None)
@given(structured_polls(), st.sampled_from([0, 3, 64, 10**9]))
def test_structured_polls_count_as_the_walk_does(p, narrow):
    check_against_the_walk(*p, narrow)


@settings(max_examples=100, deadline=None)
@given(random_polls(max_n=16), st.randoms(use_true_random=False))
def test_renaming_the_nodes_renames_the_count(p, rnd):
    n, candidate, cast = p
    perm = np.array(rnd.sample(range(n), n), dtype=np.int64)  # old index -> new index
    renamed = np.full(n, -1, dtype=np.int64)
    renamed[perm] = np.where(candidate >= 0, perm[np.maximum(candidate, 0)], -1)
    recast = np.zeros(n, dtype=bool)
    recast[perm] = cast
    before, after = count_cascade(n, candidate, cast), count_cascade(n, renamed, recast)
    for name in ("receive", "hold", "carry", "cycler"):
        assert getattr(after, name)[perm].tolist() == getattr(before, name).tolist()
