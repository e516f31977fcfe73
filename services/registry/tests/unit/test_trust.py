"""Trust levels: hand cases from the rule, and the fast implementation against the plain one on random graphs."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import native
from civitas_registry.domain import trust
from civitas_registry.domain.trust import (
    check_edges,
    doubt_counts,
    edges_in_range,
    level_from_sources,
    trust_levels,
    trust_levels_naive,
)



@contextmanager
def small_round(edges: int):
    """Without the kernel's C cascade, set how small a cascade round must be to run one voter at a time (0: always
    numpy; huge: never numpy)."""
    before, built = trust._SMALL_ROUND, native._native
    trust._SMALL_ROUND, native._native = edges, None
    try:
        yield
    finally:
        trust._SMALL_ROUND, native._native = before, built


def numpy_rounds_only(*args):
    with small_round(0):
        return trust_levels(*args)


def by_hand_only(*args):
    with small_round(10**12):
        return trust_levels(*args)


def in_c(*args):
    assert native.BUILT, "the kernel's C cascade is not built"
    return trust_levels(*args)


FAST = [in_c, numpy_rounds_only, by_hand_only]
IMPLEMENTATIONS = [*FAST, trust_levels_naive]


def arrays(primary, edges, barred=None):
    primary = np.asarray(primary, dtype=np.int32)
    edges = np.asarray(edges, dtype=np.int32).reshape(-1, 2)
    barred = None if barred is None else np.asarray(barred, dtype=bool)
    return len(primary), primary, edges[:, 0].copy(), edges[:, 1].copy(), barred


def levels(impl, primary, edges, barred=None) -> list[int]:
    result = impl(*arrays(primary, edges, barred))
    assert result.dtype == np.int32
    return result.tolist()


def all_pairs(voters):
    return [(u, v) for u in voters for v in voters if u != v]


def satisfies_rule(primary, src, dst, barred, result) -> bool:
    """Every level is exactly the largest T with p + #{counted sources at level >= T} >= T (a fixed point)."""
    n = len(primary)
    for v in range(n):
        sources = [int(u) for u, w in zip(src, dst, strict=True) if w == v and not (barred is not None and barred[u])]
        p = int(primary[v])
        feasible = [t for t in range(p + len(sources) + 1) if p + sum(result[u] >= t for u in sources) >= t]
        if result[v] != max(feasible):
            return False
    return True


# ------------------------------------------------------------------------------------------------ the rule per voter


@pytest.mark.parametrize(
    ("p", "sources", "expected"),
    [
        (0, [], 0),
        (2, [], 2),
        (0, [0, 0, 0], 0),  # sources at level 0 count for nothing
        (0, [5], 1),
        (0, [3, 3, 3], 3),
        (0, [3, 3, 3, 3], 3),  # never above the best source when p is lower
        (0, [4, 4, 4, 4], 4),
        (0, [5, 2, 2], 2),
        (1, [2], 2),
        (1, [1, 1], 1),
        (3, [3, 3], 3),
        (2, [9, 9, 1], 4),
        (4, [1, 1], 4),  # never below p
    ],
)
def test_level_from_sources(p, sources, expected):
    assert level_from_sources(p, sources) == expected
    feasible = [t for t in range(p + len(sources) + 1) if p + sum(s >= t for s in sources) >= t]
    assert max(feasible) == expected


# ------------------------------------------------------------------------------------------------ hand cases


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
class TestHandCases:
    def test_no_edges_level_is_primary(self, impl):
        assert levels(impl, [0, 1, 2, 5], []) == [0, 1, 2, 5]

    def test_empty_network(self, impl):
        assert levels(impl, [], []) == []

    def test_ring_without_primary_edges_stays_at_zero(self, impl):
        assert levels(impl, [0, 0, 0, 0], [(0, 1), (1, 2), (2, 3), (3, 0)]) == [0, 0, 0, 0]

    def test_clique_without_primary_edges_stays_at_zero(self, impl):
        assert levels(impl, [0] * 5, all_pairs(range(5))) == [0] * 5

    def test_three_with_one_primary_edge_each_stay_at_one(self, impl):
        assert levels(impl, [1, 1, 1], all_pairs(range(3))) == [1, 1, 1]

    def test_three_with_three_primary_edges_each_reach_three(self, impl):
        assert levels(impl, [3, 3, 3], all_pairs(range(3))) == [3, 3, 3]

    def test_level_never_below_primary(self, impl):
        primary = [4, 0, 2, 1]
        result = levels(impl, primary, all_pairs(range(4)))
        assert all(level >= p for level, p in zip(result, primary, strict=True))

    def test_source_at_level_zero_counts_for_nothing(self, impl):
        # voter 2 has p = 1 and two sources at level 0: it stays at 1
        assert levels(impl, [0, 0, 1], [(0, 2), (1, 2)]) == [0, 0, 1]

    def test_one_source_lifts_to_one(self, impl):
        assert levels(impl, [3, 0], [(0, 1)]) == [3, 1]

    def test_chain_carries_level_one(self, impl):
        assert levels(impl, [2, 0, 0, 0], [(0, 1), (1, 2), (2, 3)]) == [2, 1, 1, 1]

    def test_three_strong_sources_lift_to_three(self, impl):
        assert levels(impl, [3, 3, 3, 0], all_pairs(range(3)) + [(0, 3), (1, 3), (2, 3)]) == [3, 3, 3, 3]

    def test_two_strong_sources_lift_to_two(self, impl):
        assert levels(impl, [3, 3, 0], [(0, 2), (1, 2)]) == [3, 3, 2]

    def test_primary_and_sources_add_up(self, impl):
        # p = 1 plus two sources at level >= 3: T = 3 holds (1 + 2 >= 3)
        assert levels(impl, [3, 3, 1], [(0, 2), (1, 2)]) == [3, 3, 3]

    def test_cascade_through_a_neighbourhood(self, impl):
        # three organisers at 3 vouch for 3, 4; then 3, 4 and organiser 0 vouch for 5; 5 reaches 3 only via 3 and 4
        edges = all_pairs(range(3)) + [(0, 3), (1, 3), (2, 3), (0, 4), (1, 4), (2, 4), (0, 5), (3, 5), (4, 5)]
        assert levels(impl, [3, 3, 3, 0, 0, 0], edges) == [3, 3, 3, 3, 3, 3]

    def test_mutual_support_cannot_bootstrap_above_evidence(self, impl):
        # 0 (p=2) vouches for 1 and 2, who vouch for each other: each has one source at 2 and one peer
        # -> least fixed point 2? 1 has sources {0: 2, 2: ?}; T=2 needs two sources >= 2: 0 and 2 -> only if 2 is
        # already at 2, which needs 1 at 2: a cycle with no outside support, so both stay at 1.
        assert levels(impl, [2, 0, 0], [(0, 1), (0, 2), (1, 2), (2, 1)]) == [2, 1, 1]

    def test_barred_source_counts_for_nothing(self, impl):
        edges = [(0, 2), (1, 2)]
        assert levels(impl, [3, 3, 0], edges) == [3, 3, 2]
        assert levels(impl, [3, 3, 0], edges, barred=[True, False, False]) == [3, 3, 1]
        assert levels(impl, [3, 3, 0], edges, barred=[True, True, False]) == [3, 3, 0]

    def test_barred_voter_still_gets_a_level(self, impl):
        edges = [(0, 2), (1, 2), (2, 3)]
        assert levels(impl, [3, 3, 0, 0], edges, barred=[False, False, True, False]) == [3, 3, 2, 0]

    def test_levels_never_exceed_the_largest_primary(self, impl):
        result = levels(impl, [2] * 6, all_pairs(range(6)))
        assert result == [2] * 6

    def test_large_primary_counts(self, impl):
        assert levels(impl, [1_000_000, 0, 7], [(0, 1), (0, 2), (2, 1)]) == [1_000_000, 2, 8]
        top = 2**31 - 1
        assert levels(impl, [top, top - 1, 0], [(0, 1), (1, 2), (0, 2)]) == [top, top, 2]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
class TestInvalidInput:
    def test_self_edge(self, impl):
        with pytest.raises(ValueError, match="self"):
            impl(*arrays([1, 0], [(0, 0)]))

    def test_duplicate_edge(self, impl):
        with pytest.raises(ValueError, match="duplicate"):
            impl(*arrays([1, 0], [(0, 1), (0, 1)]))

    def test_index_out_of_range(self, impl):
        with pytest.raises(ValueError, match="outside"):
            impl(*arrays([1, 0], [(0, 2)]))
        with pytest.raises(ValueError, match="outside"):
            impl(*arrays([1, 0], [(-1, 1)]))

    def test_negative_primary(self, impl):
        with pytest.raises(ValueError, match="primary"):
            impl(*arrays([-1, 0], []))

    def test_shapes(self, impl):
        with pytest.raises(ValueError):
            impl(3, np.zeros(2, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32))
        with pytest.raises(ValueError):
            impl(2, np.zeros(2, np.int32), np.zeros(1, np.int32), np.zeros(2, np.int32))
        with pytest.raises(ValueError):
            impl(2, np.zeros(2, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(2, np.int32))


def test_check_edges():
    check_edges(3, np.array([0, 1, 1]), np.array([1, 0, 2]))
    with pytest.raises(ValueError, match="duplicate"):
        check_edges(3, np.array([0, 1, 0]), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="self"):
        check_edges(3, np.array([2]), np.array([2]))


def test_does_not_modify_inputs():
    n, primary, src, dst, barred = arrays([3, 3, 0, 1], [(1, 0), (0, 2), (1, 2), (2, 3)], [False, True, False, False])
    copies = [a.copy() for a in (primary, src, dst, barred)]
    trust_levels(n, primary, src, dst, barred)
    for before, after in zip(copies, (primary, src, dst, barred), strict=True):
        assert np.array_equal(before, after)


def test_edge_order_does_not_matter():
    rng = np.random.default_rng(7)
    n = 300
    pairs = np.unique(rng.integers(0, n, size=(2000, 2)), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    primary = np.where(rng.random(n) < 0.1, rng.integers(1, 4, n), 0).astype(np.int32)
    expected = trust_levels_naive(n, primary, pairs[:, 0], pairs[:, 1])
    for _ in range(3):
        shuffled = pairs[rng.permutation(len(pairs))]
        assert np.array_equal(trust_levels(n, primary, shuffled[:, 0], shuffled[:, 1]), expected)
    assert expected.max() == 3  # the case is not trivial


# ------------------------------------------------------------------------------------------------ random graphs


@st.composite
def networks(draw, max_voters=14):
    n = draw(st.integers(0, max_voters))
    primary = draw(st.lists(st.sampled_from([0, 0, 0, 1, 2, 3, 4]), min_size=n, max_size=n))
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    barred = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    return primary, edges, barred


@pytest.mark.parametrize("fast_impl", FAST)
@settings(max_examples=300, deadline=None)
@given(network=networks())
def test_fast_matches_naive_on_random_networks(fast_impl, network):
    primary, edges, barred = network
    n, primary_a, src, dst, barred_a = arrays(*network)
    fast = fast_impl(n, primary_a, src, dst, barred_a)
    naive = trust_levels_naive(n, primary_a, src, dst, barred_a)
    assert fast.tolist() == naive.tolist()
    assert satisfies_rule(primary_a, src, dst, barred_a, fast.tolist())
    assert all(level >= p for level, p in zip(fast.tolist(), primary, strict=True))
    assert fast.max(initial=0) <= max(primary, default=0)


@settings(max_examples=150, deadline=None)
@given(networks(max_voters=10), st.data())
def test_result_is_the_least_fixed_point(network, data):
    """The least fixed point lies below every pre-fixed point x (F(x) <= x, F the level rule), and iterating
    x -> max(x, F(x)) from any start that respects p reaches one (Knaster-Tarski)."""
    n, primary, src, dst, barred = arrays(*network)
    least = trust_levels(n, primary, src, dst, barred).tolist()
    sources = [
        [int(u) for u, w in zip(src, dst, strict=True) if w == v and not (barred is not None and barred[u])]
        for v in range(n)
    ]
    top = int(primary.max(initial=0))
    start = data.draw(st.lists(st.integers(0, top + 2), min_size=n, max_size=n))
    current = [max(s, int(p)) for s, p in zip(start, primary, strict=True)]

    def rule(levels):
        return [level_from_sources(int(primary[v]), [levels[u] for u in sources[v]]) for v in range(n)]

    while (raised := [max(a, b) for a, b in zip(current, rule(current), strict=True)]) != current:
        current = raised
    assert all(a <= b for a, b in zip(rule(current), current, strict=True))  # pre-fixed point
    assert all(a <= b for a, b in zip(least, current, strict=True))
    # and the least fixed point is itself a fixed point
    assert rule(least) == least


@pytest.mark.parametrize("fast_impl", FAST)
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 150), density=st.floats(0.01, 0.3))
def test_fast_matches_naive_on_denser_random_networks(fast_impl, seed, n, density):
    rng = np.random.default_rng(seed)
    pairs = np.argwhere((rng.random((n, n)) < density) & ~np.eye(n, dtype=bool)).astype(np.int32)
    pairs = pairs[rng.permutation(len(pairs))]
    primary = np.where(rng.random(n) < 0.2, rng.integers(1, 6, n), 0).astype(np.int32)
    barred = rng.random(n) < 0.1
    src, dst = pairs[:, 0].copy(), pairs[:, 1].copy()
    assert np.array_equal(fast_impl(n, primary, src, dst, barred), trust_levels_naive(n, primary, src, dst, barred))
    assert np.array_equal(fast_impl(n, primary, src, dst), trust_levels_naive(n, primary, src, dst))


# ------------------------------------------------------------------------------------------------ edges in range


class TestEdgesInRange:
    codes = ["AB12", "AB13", "AC01", "", "AB1", "AB12"]
    src = np.array([0, 0, 1, 3, 0, 4, 2, 5], dtype=np.int32)
    dst = np.array([1, 2, 0, 0, 3, 0, 1, 0], dtype=np.int32)

    def pairs(self, prefix_len, codes=None):
        kept_src, kept_dst = edges_in_range(self.src, self.dst, self.codes if codes is None else codes, prefix_len)
        return list(zip(kept_src.tolist(), kept_dst.tolist(), strict=True))

    def test_none_keeps_every_edge(self):
        assert self.pairs(None) == list(zip(self.src.tolist(), self.dst.tolist(), strict=True))

    def test_prefix(self):
        assert self.pairs(1) == [(0, 1), (0, 2), (1, 0), (4, 0), (2, 1), (5, 0)]
        assert self.pairs(2) == [(0, 1), (1, 0), (4, 0), (5, 0)]
        assert self.pairs(3) == [(0, 1), (1, 0), (4, 0), (5, 0)]
        assert self.pairs(4) == [(5, 0)]  # "AB1" is too short to say; "AB12" and "AB13" differ
        assert self.pairs(9) == []

    def test_empty_code_never_matches(self):
        assert (3, 0) not in self.pairs(0) and (0, 3) not in self.pairs(0)
        assert self.pairs(0) == [(0, 1), (0, 2), (1, 0), (4, 0), (2, 1), (5, 0)]
        assert self.pairs(2, codes=["", "", "", "", "", ""]) == []

    def test_numpy_codes(self):
        assert self.pairs(2, codes=np.array(self.codes)) == self.pairs(2)
        assert self.pairs(2, codes=np.array(self.codes, dtype=object)) == self.pairs(2)
        assert self.pairs(2, codes=np.array(self.codes, dtype=np.dtypes.StringDType())) == self.pairs(2)
        assert self.pairs(4, codes=np.array(self.codes, dtype=np.dtypes.StringDType())) == self.pairs(4)

    def test_invalid(self):
        with pytest.raises(ValueError):
            edges_in_range(self.src, self.dst, self.codes, -1)
        with pytest.raises(ValueError):
            edges_in_range(np.array([0, 9]), np.array([1, 0]), self.codes, 2)
        with pytest.raises(ValueError, match="strings"):
            edges_in_range(self.src, self.dst, [None, "A", "A", "A", "A", "A"], 1)
        with pytest.raises(ValueError, match="strings"):
            edges_in_range(self.src, self.dst, np.arange(6), 1)

    def test_empty(self):
        kept_src, kept_dst = edges_in_range(np.zeros(0, np.int32), np.zeros(0, np.int32), [], 2)
        assert kept_src.size == kept_dst.size == 0


# ------------------------------------------------------------------------------------------------ doubts


def test_doubt_counts():
    doubter = np.array([0, 1, 2, 3, 3], dtype=np.int32)
    doubted = np.array([4, 4, 4, 0, 4], dtype=np.int32)
    assert doubt_counts(doubter, doubted, None, 5).tolist() == [1, 0, 0, 0, 4]
    barred = np.array([False, True, False, True, False])
    counts = doubt_counts(doubter, doubted, barred, 5)
    assert counts.tolist() == [0, 0, 0, 0, 2]
    assert counts.dtype == np.int32
    assert doubt_counts(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(3, bool), 3).tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        doubt_counts(np.array([0]), np.array([3]), None, 3)


# ------------------------------------------------------------------------------------------------ shapes that stress it


@pytest.mark.parametrize("fast_impl", FAST)
def test_long_chain(fast_impl):
    # a long thin chain: one voter joins per round, the case the one-voter-at-a-time path is for
    n = 3000
    src = np.arange(n - 1, dtype=np.int32)
    dst = src + 1
    primary = np.zeros(n, np.int32)
    primary[0] = 3
    assert fast_impl(n, primary, src, dst).tolist() == [3] + [1] * (n - 1)


@pytest.mark.parametrize("fast_impl", FAST)
def test_ladder_carries_level_two(fast_impl):
    # every voter is vouched for by the two before it: level 2 travels down the whole ladder
    n = 2000
    src = np.concatenate([np.arange(n - 1), np.arange(n - 2)]).astype(np.int32)
    dst = np.concatenate([np.arange(1, n), np.arange(2, n)]).astype(np.int32)
    primary = np.zeros(n, np.int32)
    primary[:2] = 2
    expected = trust_levels_naive(n, primary, src, dst)
    assert expected.tolist() == [2] * n
    assert np.array_equal(fast_impl(n, primary, src, dst), expected)


@pytest.mark.parametrize("fast_impl", FAST)
def test_hub_and_neighbourhoods(fast_impl):
    # hubs with many out-edges mixed with sparse neighbourhoods, against the reference
    rng = np.random.default_rng(11)
    n = 3000
    hubs = rng.choice(n, 12, replace=False)
    src = np.concatenate([np.repeat(hubs, 400), rng.integers(0, n, 9000)])
    block = rng.integers(0, n, 9000 + 0) // 60 * 60
    dst = np.concatenate([rng.integers(0, n, 12 * 400), block[:9000] + rng.integers(0, 60, 9000) % (n - block[:9000])])
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]].astype(np.int32)
    primary = np.zeros(n, np.int32)
    primary[hubs] = rng.integers(1, 5, hubs.size)
    primary[rng.choice(n, 60, replace=False)] = rng.integers(1, 5, 60)
    barred = rng.random(n) < 0.05
    expected = trust_levels_naive(n, primary, pairs[:, 0], pairs[:, 1], barred)
    assert len(set(expected.tolist())) >= 3
    assert np.array_equal(fast_impl(n, primary, pairs[:, 0], pairs[:, 1], barred), expected)


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.text(alphabet="AB1", max_size=4), min_size=1, max_size=12),
    data=st.data(),
    prefix_len=st.one_of(st.none(), st.integers(0, 5)),
)
def test_edges_in_range_matches_plain_python(codes, data, prefix_len):
    n = len(codes)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    src = np.array([u for u, _ in pairs], dtype=np.int32)
    dst = np.array([v for _, v in pairs], dtype=np.int32)

    def in_range(a: str, b: str) -> bool:
        if prefix_len is None:
            return True
        return len(a) >= max(prefix_len, 1) and len(b) >= max(prefix_len, 1) and a[:prefix_len] == b[:prefix_len]

    kept_src, kept_dst = edges_in_range(src, dst, codes, prefix_len)
    expected = [(u, v) for u, v in pairs if in_range(codes[u], codes[v])]
    assert list(zip(kept_src.tolist(), kept_dst.tolist(), strict=True)) == expected


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 10), data=st.data())
def test_doubt_counts_matches_plain_python(n, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    barred = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    doubter = np.array([u for u, _ in pairs], dtype=np.int32)
    doubted = np.array([v for _, v in pairs], dtype=np.int32)
    expected = [sum(1 for u, v in pairs if v == w and not barred[u]) for w in range(n)]
    assert doubt_counts(doubter, doubted, np.array(barred), n).tolist() == expected
