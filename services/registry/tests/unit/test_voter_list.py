"""Compiling a voter list from a cut: levels, bars, the range rule, doubts, and the same bytes every time."""

from __future__ import annotations

import random

import pytest

from civitas_kernel.voter_list import HEADER, decode_voter_list
from civitas_registry import ListConfig, compile_voter_list
from civitas_registry.domain.register import RegisterState
from civitas_registry.domain.voter_list import fold_cut

from ..builders import attribute, doubt, primary, recorded, residence, trust, undoubt, unprimary, untrust

A, B, C, D = "a@x.org", "b@x.org", "c@x.org", "d@x.org"
HOME = "1 Elm St, Springfield 90210"


def compile_list(events, config=ListConfig()):
    return decode_voter_list(compile_voter_list(recorded(events), config))


def levels(voter_list) -> dict[str, int]:
    return {e.voter: e.trust_level for e in voter_list.entries}


def test_an_empty_cut_is_a_list_with_only_its_header():
    assert compile_voter_list([], ListConfig()) == (HEADER + "\n").encode()


def test_primary_edges_and_trust_give_levels():
    voters = compile_list([residence(A, HOME), residence(B, HOME), residence(C, HOME),
                           primary(A, 2), trust(A, B), trust(B, C)])
    assert levels(voters) == {A: 2, B: 1, C: 1}
    entry = voters.get(A)
    assert (entry.bar, entry.neighbourhood, entry.residence) == ("", "90210", HOME)


def test_every_registrant_is_listed_even_one_only_named_by_others():
    voters = compile_list([residence(A, HOME), primary(A), trust(A, B), doubt(A, C, "who?")])
    assert [e.voter for e in voters.entries] == [A, B, C]
    assert voters.get(B).bar == "no residence given" and voters.get(B).trust_level == 1


def test_barred_sources_do_not_count():
    unbarred = compile_list([residence(A, HOME), primary(A), trust(A, B)])
    barred = compile_list([primary(A), trust(A, B)])  # A gave no residence
    assert unbarred.get(B).trust_level == 1
    assert barred.get(B).trust_level == 0
    assert barred.get(A).trust_level == 1 and barred.get(A).bar == "no residence given"
    unparseable = compile_list([residence(A, "Elm Street, Springfield"), primary(A), trust(A, B)])
    assert unparseable.get(A).bar == "residence names no postal code: write it last"
    assert unparseable.get(B).trust_level == 0


def test_withdrawn_trust_and_primary_trust_stop_counting():
    events = [residence(A, HOME), primary(A), trust(A, B), untrust(A, B)]
    assert levels(compile_list(events)) == {A: 1, B: 0}
    assert levels(compile_list([*events, trust(A, B)])) == {A: 1, B: 1}
    assert levels(compile_list([*events, trust(A, B), unprimary(A)])) == {A: 0, B: 0}


def test_the_range_rule_keeps_edges_between_neighbourhoods_sharing_a_prefix():
    events = [residence(A, "1 Elm St, Springfield 90210"), residence(B, "2 Oak St, Springfield 90211"),
              residence(C, "3 Pine St, New York 10001"), primary(A), trust(A, B), trust(A, C)]
    assert levels(compile_list(events)) == {A: 1, B: 1, C: 1}
    assert levels(compile_list(events, ListConfig(range_prefix=4))) == {A: 1, B: 1, C: 0}
    assert levels(compile_list(events, ListConfig(range_prefix=5))) == {A: 1, B: 0, C: 0}


def test_doubts_count_only_from_unbarred_doubters_and_never_change_levels():
    events = [residence(A, HOME), residence(C, HOME), primary(A), trust(A, B),
              doubt(A, B, "never met"), doubt(C, B), doubt(D, B), doubt(C, A), undoubt(C, A)]
    voters = compile_list(events)
    assert voters.get(B).doubts == 2  # A and C; D is barred
    assert voters.get(A).doubts == 0  # withdrawn
    assert voters.get(B).trust_level == 1


def test_attributes_are_listed_as_last_set():
    voters = compile_list([attribute(A, "name", "Al"), attribute(A, "name", "Alice"), attribute(A, "note", "hi"),
                           attribute(A, "note", None), attribute(A, "link", "https://a.example.org")])
    entry = voters.get(A)
    assert (entry.name, entry.note, entry.link) == ("Alice", "", "https://a.example.org")


def random_register(seed: int, voters: int = 12, events: int = 400) -> list:
    rng = random.Random(seed)
    people = [f"v{i:02d}@x.org" for i in range(voters)]
    made = []
    for _ in range(events):
        a, b = rng.sample(people, 2)
        made.append(rng.choice([
            lambda: trust(a, b), lambda: trust(a, b), lambda: untrust(a, b),
            lambda: residence(a, rng.choice([HOME, "2 Oak St 90211", "nowhere", None])),
            lambda: primary(a, rng.randint(1, 3)), lambda: unprimary(a),
            lambda: doubt(a, b, rng.choice(["", "hmm"])), lambda: undoubt(a, b)])())
    return made


@pytest.mark.parametrize("seed", range(5))
def test_the_same_cut_compiles_to_the_same_bytes_in_any_interleaving_of_its_streams(seed):
    events = recorded(random_register(seed))
    first = compile_voter_list(events, ListConfig(range_prefix=3))
    assert compile_voter_list(list(events), ListConfig(range_prefix=3)) == first
    by_stream = sorted(events, key=lambda e: (e.stream, e.seq))  # stream after stream, each in order
    assert compile_voter_list(by_stream, ListConfig(range_prefix=3)) == first


@pytest.mark.parametrize("seed", range(5))
def test_the_fast_fold_agrees_with_the_register_state(seed):
    made = random_register(seed) + [attribute(f"v{i:02d}@x.org", "name", f"V {i}") for i in range(0, 12, 3)]
    state = RegisterState()
    for e in recorded(made):
        state.evolve(e.type, e.message(), e.actor)
    cut = fold_cut(recorded(made))
    assert cut.voters == sorted(state.registrants)
    edges = {(cut.voters[s], cut.voters[d]) for s, d in zip(cut.trust_src.tolist(), cut.trust_dst.tolist())}
    assert edges == {(a, b) for a, trustees in state.trusts.items() for b in trustees}
    assert {v: int(p) for v, p in zip(cut.voters, cut.primary) if p} == state.primary
    doubts = {(cut.voters[a], cut.voters[b]) for a, b in zip(cut.doubt_src.tolist(), cut.doubt_dst.tolist())}
    assert doubts == {(a, b) for a, doubted in state.doubts.items() for b in doubted}
    for name, column in cut.attributes.items():
        assert {v: x for v, x in zip(cut.voters, column) if x} == {
            v: a[name] for v, a in state.attributes.items() if name in a}


def test_list_config_round_trips_through_canonical_json():
    config = ListConfig(pre_registration_min=2, range_prefix=3)
    assert config.to_json() == b'{"pre_registration_min":2,"range_prefix":3}\n'
    assert ListConfig.from_json(config.to_json()) == config
    assert ListConfig.from_json(ListConfig().to_json()) == ListConfig()
    assert ListConfig.from_json(b"{}") == ListConfig()


@pytest.mark.parametrize("data", [b"[]", b'{"colour":1}', b'{"range_prefix":0}', b'{"pre_registration_min":"2"}'])
def test_a_bad_list_config_is_refused(data):
    with pytest.raises(ValueError):
        ListConfig.from_json(data)
