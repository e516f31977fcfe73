"""The decision record's compiler and the reading of its text: what the archive holds decides, and nothing else."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel.voter_list import VoterEntry, encode_voter_list
from civitas_schema.v1 import change_pb2, envelope_pb2
from civitas_deployer.decision_record import DecisionPlan, DecisionRecordError, compile_decision
from civitas_deployer.domain.decision import Ballot, Subject, decide
from civitas_deployer.domain.decision_text import decision_text
from civitas_deployer.domain.modules import parse_modules
from civitas_deployer.domain.proposals import CHOICE_ENUM, Revision
from civitas_deployer.domain.rules import parse_governance
from civitas_deployer.records import resolutions_in, summary_of

HASH, BASE = "c" * 64, "b" * 40
CLOSE = 10_000
VOTERS = [f"v{i}@example.org" for i in range(6)]
DEFAULT = resources.files("civitas_deployer") / "default"
RULES = {name: (DEFAULT / name).read_bytes() for name in ("governance.toml", "modules.toml")}


def envelope(message, actor: str, at: int) -> envelope_pb2.Envelope:
    return envelope_pb2.Envelope(type=message.DESCRIPTOR.full_name, actor=actor, recorded_at_us=at,
                                 body=message.SerializeToString())


def proposed(paths=("pages/a.md",)) -> envelope_pb2.Envelope:
    revision = Revision(1, BASE, "d" * 40, "e" * 40, paths, HASH, "t", "list 1", 0)
    return envelope(change_pb2.ProposalProposed(proposal="1", proposer=VOTERS[0], revision=revision.to_message()),
                    VOTERS[0], 0)


def vote(voter: str, choice: str, at: int = 100, content: str = HASH) -> envelope_pb2.Envelope:
    return envelope(change_pb2.ChangeVoteCast(proposal="1", voter=voter, content_hash=content,
                                              choice=CHOICE_ENUM[choice]), voter, at)


def delegate(voter: str, to: str, at: int, scope: str = "*") -> envelope_pb2.Envelope:
    return envelope(change_pb2.DelegationSet(voter=voter, scope=scope, delegates=[to]), voter, at)


def plan(changes: dict | None = None) -> bytes:
    """The configuration of a decision on proposal 1, with `changes` ({"a/b": value}) made to it."""
    config = json.loads(DecisionPlan("1", 1, HASH, BASE, CLOSE, RULES, "list 1",
                                     encode_voter_list([VoterEntry(v, 1) for v in VOTERS])).to_json())
    for path, value in (changes or {}).items():
        *parents, key = path.split("/")
        target = config
        for parent in parents:
            target = target[parent]
        target[key] = value
    return json.dumps(config).encode()


def test_the_record_decides_by_the_delegations_recorded_before_the_close():
    events = [proposed(), vote(VOTERS[1], "yes"), vote(VOTERS[2], "no"), delegate(VOTERS[3], VOTERS[1], 50),
              delegate(VOTERS[3], VOTERS[2], CLOSE), delegate(VOTERS[4], VOTERS[2], CLOSE + 5)]
    text = compile_decision(events, plan(), {})
    summary = summary_of(1, text, "archive.tar")
    assert summary.approved and summary.tally["pages"]["yes"] == 2 and summary.tally["pages"]["no"] == 1
    assert summary.electorate == 6 and (summary.proposal, summary.revision, summary.content_hash) == ("1", 1, HASH)
    mine = resolutions_in(text, VOTERS[3])["pages"]
    assert (mine[0].vote, mine[0].how, mine[1]) == ("yes", "delegated", [VOTERS[3], VOTERS[1]])
    assert resolutions_in(text, "outsider@example.org") == {}


def test_a_record_whose_parts_do_not_belong_together_recounts_nothing():
    events = [proposed(), vote(VOTERS[1], "yes")]
    loosened = RULES["governance.toml"].decode().replace('majority = "1/2"', 'majority = "1/10"')
    cases = [
        (plan({"rules/governance.toml/text": loosened}), "governance.toml in the decision is not the blob"),
        (plan({"voter_list/text": encode_voter_list([VoterEntry("mallory@example.org", 9)]).decode()}),
         "copy of list 1 is not the one it names"),
        (plan({"content_hash": "f" * 64}), "is not revision 1"),
        (plan({"revision": 2}), "is not revision 2"),
        (plan({"base_commit": "a" * 40}), "base is"),
    ]
    for config, words in cases:
        with pytest.raises(DecisionRecordError, match=words):
            compile_decision(events, config, {})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VOTERS), st.sampled_from(("yes", "no", "abstain"))), max_size=12),
       st.lists(st.tuples(st.sampled_from(VOTERS), st.sampled_from(VOTERS), st.integers(0, 2 * CLOSE)), max_size=12))
def test_the_record_is_the_pure_decision_of_the_stream_at_its_close(ballots, links):
    """Whatever the order of ballots and delegations, the compiler says what `decide` says of the state at the close."""
    events = [proposed(("pages/a.md", "README.md"))]
    direct, delegations = {}, {}
    for voter, choice in ballots:
        events.append(vote(voter, choice))
        direct[voter] = choice
    for voter, to, at in sorted(links, key=lambda link: link[2]):
        if voter == to:
            continue
        events.append(delegate(voter, to, at))
        if at < CLOSE:
            delegations[voter] = {"*": (to,)}
    expected = decide(Subject("1", 1, HASH, BASE, ("pages/a.md", "README.md")),
                      parse_governance(RULES["governance.toml"].decode()),
                      parse_modules(RULES["modules.toml"].decode()),
                      frozenset(VOTERS), [Ballot(v, HASH, c) for v, c in direct.items()], delegations)
    assert compile_decision(events, plan(), {}) == decision_text(expected)
