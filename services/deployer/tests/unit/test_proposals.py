"""The change stream folded: a revision voids direct ballots, keeps delegations; commands judged on that state."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel.commands import ConflictError
from civitas_kernel.events import decode_body
from civitas_deployer.domain.choices import (
    ChangeError, decide_delegate, decide_propose, decide_revise, decide_undelegate, decide_vote, decide_withdraw,
)
from civitas_deployer.domain.decision import decide
from civitas_deployer.domain.modules import parse_modules
from civitas_deployer.domain.proposals import ChangeState, Revision, content_hash
from civitas_deployer.domain.rules import parse_governance
from civitas_deployer.domain.windows import HOUR_US, window

RULES = parse_governance("")
MODULES = parse_modules('[modules.pages]\npaths = ["pages/"]')
VOTERS = [f"v{i}@example.org" for i in range(6)]
ALICE = "alice@example.org"


def revision(tree: str, made_at_us: int = 0) -> Revision:
    return Revision(0, "b" * 40, "r" * 40, tree, ("pages/a",), content_hash("b" * 40, tree), "A title", "list 1",
                    made_at_us)


def apply(state: ChangeState, event) -> None:
    state.evolve(event.type, decode_body(event.type, event.body), event.actor)


def proposed(state: ChangeState, tree: str = "t1") -> str:
    apply(state, decide_propose(state, ALICE, revision(tree)))
    return str(len(state.proposals))


VOTING = window(0, RULES, False)
DURING = VOTING.opens_at_us + 1


def test_content_hash_names_base_and_tree_only():
    assert content_hash("a" * 40, "t") == content_hash("a" * 40, "t") != content_hash("a" * 40, "u")
    assert content_hash("a" * 40, "t") != content_hash("b" * 40, "t")


def test_votes_are_taken_only_while_voting_is_open():
    state = ChangeState()
    pid = proposed(state)
    with pytest.raises(ChangeError, match="in review; voting opens at 1970-01-03 00:00 UTC"):
        decide_vote(state, pid, VOTERS[0], "yes", VOTING.opens_at_us - 1, VOTING)
    with pytest.raises(ChangeError, match="closed at"):
        decide_vote(state, pid, VOTERS[0], "yes", VOTING.closes_at_us, VOTING)
    with pytest.raises(ChangeError, match="yes, no or abstain"):
        decide_vote(state, pid, VOTERS[0], "maybe", DURING, VOTING)
    apply(state, decide_vote(state, pid, VOTERS[0], "yes", DURING, VOTING))
    with pytest.raises(ChangeError, match="already; nothing changed"):
        decide_vote(state, pid, VOTERS[0], "yes", DURING, VOTING)


def test_a_vote_naming_an_old_revision_is_refused():
    state = ChangeState()
    pid = proposed(state)
    old = state.proposals[pid].current.content_hash
    apply(state, decide_revise(state, ALICE, pid, revision("t2"), DURING, VOTING))
    with pytest.raises(ConflictError, match="is not the current revision of proposal 1: it is revision 2"):
        decide_vote(state, pid, VOTERS[0], "yes", DURING, VOTING, expected_hash=old[:12])
    new = state.proposals[pid].current.content_hash
    event = decide_vote(state, pid, VOTERS[0], "yes", DURING, VOTING, expected_hash=new[:12])
    assert decode_body(event.type, event.body).content_hash == new


def test_only_the_proposer_revises_or_withdraws_and_not_after_the_close():
    state = ChangeState()
    pid = proposed(state)
    with pytest.raises(ChangeError, match="only its proposer, alice@example.org, may revise"):
        decide_revise(state, VOTERS[0], pid, revision("t2"), DURING, VOTING)
    with pytest.raises(ChangeError, match="content of revision 1 already"):
        decide_revise(state, ALICE, pid, revision("t1"), DURING, VOTING)
    with pytest.raises(ChangeError, match="no longer be changed"):
        decide_withdraw(state, ALICE, pid, VOTING.closes_at_us, VOTING)
    apply(state, decide_withdraw(state, ALICE, pid, DURING, VOTING))
    with pytest.raises(ChangeError, match="was withdrawn"):
        decide_vote(state, pid, VOTERS[0], "yes", DURING, VOTING)


def test_delegation_mistakes_are_refused():
    state = ChangeState()
    with pytest.raises(ChangeError, match="no module 'pagez'; the modules are pages, site, or \\*"):
        decide_delegate(state, ALICE, "pagez", (VOTERS[0],), MODULES)
    with pytest.raises(ChangeError, match="yourself"):
        decide_delegate(state, ALICE, "*", (VOTERS[0], ALICE), MODULES)
    with pytest.raises(ChangeError, match="each delegate once"):
        decide_delegate(state, ALICE, "*", (VOTERS[0], VOTERS[0]), MODULES)
    apply(state, decide_delegate(state, ALICE, "pages", (VOTERS[1], VOTERS[0]), MODULES))
    assert state.delegations[ALICE] == {"pages": (VOTERS[0], VOTERS[1])}
    with pytest.raises(ChangeError, match="nothing changed"):
        decide_delegate(state, ALICE, "pages", (VOTERS[0], VOTERS[1]), MODULES)
    apply(state, decide_delegate(state, ALICE, "pages", (), MODULES))
    assert state.delegations[ALICE] == {"pages": ()}
    apply(state, decide_undelegate(state, ALICE, "pages"))
    assert ALICE not in state.delegations
    with pytest.raises(ChangeError, match="no delegation for pages"):
        decide_undelegate(state, ALICE, "pages")


before = st.dictionaries(st.sampled_from(VOTERS), st.sampled_from(["yes", "no", "abstain"]))
after = st.dictionaries(st.sampled_from(VOTERS), st.sampled_from(["yes", "no", "abstain"]))


@settings(max_examples=100, deadline=None)
@given(before, after)
def test_a_revision_voids_every_direct_vote_but_keeps_delegations(votes_before, votes_after):
    state = ChangeState()
    pid = proposed(state)
    for voter, choice in votes_before.items():
        apply(state, decide_vote(state, pid, voter, choice, DURING, VOTING))
    apply(state, decide_delegate(state, VOTERS[0], "*", (VOTERS[1],), MODULES))
    old_ballots = state.ballots_of(pid)
    apply(state, decide_revise(state, ALICE, pid, revision("t2", made_at_us=DURING), DURING, VOTING))
    first = state.proposals[pid].revisions[0].content_hash
    assert state.voided[pid] == {v: (first, c) for v, c in votes_before.items()}
    assert state.ballots_of(pid) == [] and state.delegations[VOTERS[0]] == {"*": (VOTERS[1],)}
    later = window(DURING, RULES, False)
    for voter, choice in votes_after.items():
        apply(state, decide_vote(state, pid, voter, choice, later.opens_at_us, later))
    # even handed the old ballots, the decision counts only those on the new content
    counted = decide(state.proposals[pid].subject(), RULES, MODULES, frozenset(VOTERS),
                     state.ballots_of(pid) + old_ballots, {})
    expected = {c: sum(1 for x in votes_after.values() if x == c) for c in ("yes", "no", "abstain")}
    tally = counted.tallies[0]
    assert (tally.yes, tally.no, tally.abstain) == (expected["yes"], expected["no"], expected["abstain"])
    assert later.opens_at_us == DURING + RULES.review_hours * HOUR_US
