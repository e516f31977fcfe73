"""A trust level explained: it gives back the compiled level, counts only what the list counts, and says what the
next level needs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from civitas_registry.domain.standing import Source, explain_level, in_range, source_from
from civitas_registry.domain.trust import edges_in_range, trust_levels


def test_the_level_is_the_rules_and_the_sources_come_counted_first_highest_first():
    explained = explain_level(1, [Source("c@x.org", 1), Source("d@x.org", 5, "barred: no residence"),
                                  Source("b@x.org", 2), Source("a@x.org", 3)])
    assert explained.level == 2  # at 2: 1 primary + a, b = 3 >= 2; at 3: 1 primary + a = 2 < 3; d counts for nothing
    assert [s.voter for s in explained.sources] == ["a@x.org", "b@x.org", "c@x.org", "d@x.org"]


def test_the_words_say_what_counts_and_what_the_next_level_needs():
    explained = explain_level(1, [Source("a@x.org", 3), Source("b@x.org", 2), Source("d@x.org", 5, "barred: moved")])
    assert explained.level == 2 and explained.at_level == 2 and explained.next_needs == 1
    text = "\n".join(explained.lines)
    assert "The registrar extends you 1 primary edge." in text
    assert "2 voters who trust you count: a@x.org (level 3), b@x.org (level 2)" in text
    assert "1 trust counts for nothing: d@x.org (barred: moved)" in text
    assert "So your trust level is 2: 1 primary + 2 at level 2 or above = 3, at least 2." in text
    assert "Level 3 would need 1 primary + sources at level 3 or above to reach 3: you have 1, so 1 more such source" in text


def test_nobody_and_nothing_is_level_zero_said_plainly():
    explained = explain_level(0, [], who="carol@x.org")
    assert explained.level == 0 and explained.next_needs == 1
    assert explained.lines[:2] == ("The registrar extends carol@x.org no primary edge.", "Nobody trusts carol@x.org yet.")
    assert "carol@x.org's trust level is 0" in explained.lines[2]


def test_a_barred_source_and_one_outside_the_range_count_for_nothing():
    assert not source_from("a@x.org", 4, "no postal code", "", of="A1000", prefix=None).counts
    assert not source_from("a@x.org", 4, "", "B2000", of="A1000", prefix=1).counts
    assert source_from("a@x.org", 4, "", "A1999", of="A1000", prefix=2).counts
    assert source_from("a@x.org", 4, "", "", of="A1000", prefix=None).counts  # no range: every edge counts


NETWORK = st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
             max_size=3 * n, unique=True),
    st.lists(st.booleans(), min_size=n, max_size=n),
))


@given(NETWORK)
def test_the_explanation_gives_back_every_compiled_level(network):
    # A compiled level is the least fixed point of the rule, so re-reading the rule over the list's levels of a voter's
    # own sources must give that voter's level back: what the registration page tells voters is what the list says.
    n, primary, edges, barred = network
    src, dst = np.array([e[0] for e in edges], dtype=np.int32), np.array([e[1] for e in edges], dtype=np.int32)
    levels = trust_levels(n, np.array(primary), src, dst, np.array(barred)).tolist()
    for v in range(n):
        sources = [Source(str(u), levels[u], "barred: x" if barred[u] else "") for u, w in edges if w == v]
        assert explain_level(primary[v], sources).level == levels[v]


CODE = st.text("AB12", max_size=4)


@given(st.lists(st.tuples(CODE, CODE), min_size=1, max_size=20), st.integers(0, 5))
def test_one_edge_is_in_range_exactly_when_the_list_keeps_it(pairs, prefix):
    codes = [code for pair in pairs for code in pair]
    src, dst = np.arange(0, len(codes), 2), np.arange(1, len(codes), 2)
    kept_src, _ = edges_in_range(src, dst, codes, prefix)
    assert [int(s) in set(kept_src.tolist()) for s in src] == [in_range(a, b, prefix) for a, b in pairs]
