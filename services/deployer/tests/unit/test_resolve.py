"""A voter's vote in a module: own ballot, module delegation, `*`, `none`, chains, cycles and "all of"."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_deployer.domain.resolve import (
    ABSENT, BLOCKED, CYCLE, DELEGATED, DIRECT, DISAGREE, NONE, UNRESOLVED, Resolution, chain, resolve_module,
    resolve_modules,
)

VOTERS = frozenset("abcdefgh")


def resolve(ballots, delegations, module="pages", electorate=VOTERS):
    return resolve_module(module, frozenset(electorate), ballots, delegations)


def test_own_ballot_beats_any_delegation():
    r = resolve({"a": "no", "b": "yes"}, {"a": {"pages": ("b",)}})
    assert r["a"] == Resolution("no", DIRECT) and r["b"].how == DIRECT


def test_the_module_delegation_wins_over_every_module_and_none_blocks_it():
    delegations = {"a": {"*": ("b",), "pages": ("c",)}, "d": {"*": ("b",), "pages": NONE}, "e": {"*": ("b",)}}
    r = resolve({"b": "yes", "c": "no"}, delegations)
    assert r["a"] == Resolution("no", DELEGATED, "pages", ("c",))
    assert r["d"] == Resolution(None, BLOCKED, "pages")
    assert r["e"] == Resolution("yes", DELEGATED, "*", ("b",))
    assert resolve({"b": "yes", "c": "no"}, delegations, module="polls")["a"].vote == "yes"
    assert r["f"] == Resolution(None, ABSENT)


def test_a_chain_is_followed_to_its_direct_voter_however_deep():
    voters = [f"v{i}" for i in range(5000)]
    delegations = {voters[i]: {"*": (voters[i + 1],)} for i in range(len(voters) - 1)}
    r = resolve({voters[-1]: "abstain"}, delegations, electorate=voters)
    assert all(r[v].vote == "abstain" for v in voters)
    assert chain(r, "v4990") == [f"v{i}" for i in range(4990, 5000)]


def test_a_cycle_carries_nothing_nor_does_what_waits_on_it():
    delegations = {"a": {"*": ("b",)}, "b": {"*": ("c",)}, "c": {"*": ("a",)}, "d": {"*": ("a",)}, "e": {"*": ("e",)}}
    r = resolve({"f": "yes"}, delegations)
    assert [r[v].how for v in "abcde"] == [CYCLE, CYCLE, CYCLE, UNRESOLVED, CYCLE]
    assert all(r[v].vote is None for v in "abcde")
    assert chain(r, "d") == ["d", "a", "b", "c", "a"]


def test_several_delegates_count_only_when_all_resolve_and_agree():
    both = {"a": {"*": ("bob", "emily")}}
    electorate = VOTERS | {"bob", "emily"}
    assert resolve({"bob": "yes", "emily": "yes"}, both, electorate=electorate)["a"].vote == "yes"
    disagree = resolve({"bob": "yes", "emily": "no"}, both, electorate=electorate)["a"]
    assert disagree == Resolution(None, DISAGREE, "*", ("bob", "emily"))
    assert resolve({"bob": "yes"}, both, electorate=electorate)["a"].how == UNRESOLVED
    assert chain(resolve({"bob": "yes"}, both, electorate=electorate), "a") == ["a", "bob+emily"]


def test_voters_outside_the_electorate_neither_vote_nor_pass_a_vote_on():
    r = resolve({"zed": "yes", "a": "yes"}, {"b": {"*": ("zed",)}, "zed": {"*": ("a",)}})
    assert "zed" not in r and r["b"].how == UNRESOLVED and r["b"].vote is None


def reference(module, electorate, ballots, delegations):
    """The rules applied as written, by repeating them until nothing changes (quadratic, for small graphs)."""
    votes, pending = {}, {}
    for v in electorate:
        if v in ballots:
            votes[v] = ballots[v]
            continue
        mine = delegations.get(v, {})
        found = mine.get(module, mine.get("*"))
        if found:
            pending[v] = found
    changed = True
    while changed:
        changed = False
        for v, delegates in pending.items():
            if v in votes:
                continue
            got = {votes.get(d) for d in delegates}
            if None not in got and len(got) == 1:
                votes[v] = got.pop()
                changed = True

    def on_cycle(v):
        seen, todo = set(), list(pending[v])
        while todo:
            w = todo.pop()
            if w == v:
                return True
            if w in pending and w not in seen:
                seen.add(w)
                todo.extend(pending[w])
        return False

    hows = {}
    for v in electorate:
        if v in pending and v not in votes:
            hows[v] = CYCLE if on_cycle(v) else (
                DISAGREE if all(d in votes for d in pending[v]) else UNRESOLVED)
    return votes, hows


names = st.sampled_from([f"v{i}" for i in range(12)])
scopes = st.sampled_from(["pages", "*", "polls"])
graphs = st.tuples(
    st.sets(names, min_size=1),  # electorate
    st.dictionaries(names, st.sampled_from(["yes", "no", "abstain"]), max_size=6),
    st.dictionaries(names, st.dictionaries(scopes, st.lists(names, max_size=3, unique=True).map(tuple), max_size=2)),
)


@settings(max_examples=400, deadline=None)
@given(graphs)
def test_resolution_is_the_rules_applied_as_written_in_every_module(graph):
    electorate, ballots, delegations = graph
    electorate = frozenset(electorate)
    found = resolve_modules(("pages", "polls", "site"), electorate, ballots, delegations)
    for module, r in found.items():
        votes, hows = reference(module, electorate, ballots, delegations)
        assert set(r) == set(electorate)
        assert {v: x.vote for v, x in r.items() if x.vote is not None} == votes
        assert {v: x.how for v, x in r.items() if x.how in (CYCLE, DISAGREE, UNRESOLVED)} == hows
        assert list(r.lines(sorted(r))) == [f"{v}\t{x.vote or ''}\t{x.how}\t{x.scope}\t{','.join(x.via)}"
                                            for v, x in sorted(r.items())]
