"""The decision: quorum and majority per module, constitutional thresholds, ballots bound to content."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_deployer.domain.decision import Ballot, Subject, decide
from civitas_deployer.domain.decision_text import decision_text
from civitas_deployer.domain.modules import parse_modules
from civitas_deployer.domain.rules import parse_governance

MODULES = parse_modules('[modules.pages]\npaths = ["pages/"]\n'
                        '[modules.rules]\npaths = ["governance.toml", "modules.toml"]')
RULES = parse_governance("")
HASH = "c" * 64
VOTERS = frozenset(f"v{i}@example.org" for i in range(10))


def subject(*paths, content=HASH):
    return Subject("1", 1, content, "b" * 40, tuple(paths))


def ballots(*choices, content=HASH):
    return [Ballot(f"v{i}@example.org", content, c) for i, c in enumerate(choices)]


def run(paths, votes, rules=RULES, delegations=None, electorate=VOTERS):
    return decide(subject(*paths), rules, MODULES, electorate, votes, delegations or {})


def test_a_strict_majority_needs_more_than_half_of_yes_and_no():
    assert run(["pages/a"], ballots("yes", "yes", "no")).approved
    assert not run(["pages/a"], ballots("yes", "no")).approved
    assert run(["pages/a"], ballots("yes", "no"), parse_governance("[voting]\nstrict = false")).approved
    assert not run(["pages/a"], ballots("abstain", "abstain")).approved  # yes > 0, always
    assert not run(["pages/a"], []).approved


def test_quorum_counts_yes_no_and_abstain_against_the_whole_electorate():
    rules = parse_governance('[voting]\nquorum = "3/10"')
    assert not run(["pages/a"], ballots("yes", "abstain"), rules).tallies[0].quorum_met
    tally = run(["pages/a"], ballots("yes", "abstain", "no"), rules).tallies[0]
    assert tally.quorum_met and not tally.majority_met  # 1 yes of 2 is not more than half


def test_a_constitutional_change_needs_the_constitutional_thresholds_in_every_module():
    votes = ballots("yes", "yes", "yes", "no", "no")  # 60%: enough for pages, not for 2/3
    assert run(["pages/a"], votes).approved
    decision = run(["pages/a", "governance.toml"], votes)
    assert decision.constitutional and [t.module for t in decision.tallies] == ["pages", "rules"]
    assert not decision.approved and not decision.tallies[0].approved
    assert run(["pages/a", "governance.toml"], ballots("yes", "yes", "no")).approved  # 2/3, quorum 3 of 10 >= 1/10


def test_approval_is_needed_in_every_module_touched():
    v = [f"v{i}@example.org" for i in range(10)]
    delegations = {v[1]: {"pages": (v[0],), "site": (v[9],)}, v[2]: {"pages": (v[0],), "*": (v[9],)},
                   v[3]: {"site": (v[9],)}}
    decision = run(["pages/a", "README.md"], [Ballot(v[0], HASH, "yes"), Ballot(v[9], HASH, "no")],
                   delegations=delegations)
    pages, site = decision.tallies
    assert (pages.module, pages.yes, pages.no, pages.approved) == ("pages", 3, 1, True)
    assert (site.module, site.yes, site.no, site.approved) == ("site", 1, 4, False)
    assert not decision.approved


def test_a_change_touching_nothing_is_never_approved():
    assert not run([], ballots("yes")).approved


def test_a_ballot_for_other_content_never_counts():
    decision = run(["pages/a"], ballots("yes", "yes", content="d" * 64))
    assert decision.tallies[0].yes == 0 and not decision.approved


def test_the_decision_text_traces_every_voter():
    delegations = {"v1@example.org": {"*": ("v0@example.org",)}, "v2@example.org": {"pages": ()}}
    text = decision_text(run(["pages/a"], ballots("yes"), delegations=delegations)).decode()
    assert "approved\t1\npath\tpages/a\tpages\n# module pages\nyes\t2\nno\t0\n" in text
    assert "v1@example.org\tyes\tdelegated\t*\tv0@example.org\n" in text
    assert "v2@example.org\t\tnone\tpages\t\n" in text
    assert text.count("@example.org\t") == len(VOTERS)


choices = st.sampled_from(["yes", "no", "abstain"])
voters = st.sampled_from(sorted(VOTERS))
cases = st.tuples(
    st.dictionaries(voters, choices),  # ballots on the current revision
    st.dictionaries(voters, choices),  # ballots on another revision
    st.dictionaries(voters, st.dictionaries(st.sampled_from(["*", "pages", "rules"]),
                                            st.lists(voters, max_size=2, unique=True).map(tuple), max_size=2)),
    st.lists(st.sampled_from(["pages/a", "pages/b", "modules.toml", "x"]), min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)


@settings(max_examples=200, deadline=None)
@given(cases)
def test_neither_order_nor_ballots_on_other_content_change_the_decision(case):
    current, other, delegations, paths, rng = case
    ballots_now = [Ballot(v, HASH, c) for v, c in current.items()]
    expected = decision_text(decide(subject(*paths), RULES, MODULES, VOTERS, ballots_now, delegations))
    mixed = ballots_now + [Ballot(v, "e" * 64, c) for v, c in other.items()]
    rng.shuffle(mixed)
    shuffled_delegations = dict(random.Random(rng.random()).sample(sorted(delegations.items()), len(delegations)))
    again = decide(subject(*reversed(paths)), RULES, MODULES, VOTERS, mixed, shuffled_delegations)
    assert decision_text(again) == expected
