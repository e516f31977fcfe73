"""The decision record's compiler: a proposal's decision recounted from its archive alone.

The record's configuration (config.json) holds what the change stream does not: which revision is decided
and when its voting closed, the rules at its base commit (each file with its git blob id), and the voter
list its electorate is drawn from (verbatim, with its SHA-256, which equals that list record's own). The
cut is the change stream: every proposal, revision, ballot and delegation. The compiler folds the cut as
it stood at the close (delegations as recorded before it; ballots are taken only while voting is open)
and decides with the pure rules; the result is the decision's canonical text. The site runs this same
function to make the record, and `civitas audit` to recount it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from civitas_kernel.canonical import canonical_json
from civitas_kernel.events import decode_body
from civitas_kernel.voter_list import HEADER as LIST_HEADER

from civitas_deployer.domain.decision import decide
from civitas_deployer.domain.decision_text import decision_text
from civitas_deployer.domain.electorate import electorate
from civitas_deployer.domain.modules import parse_modules
from civitas_deployer.domain.proposals import (
    DELEGATION_CLEARED, DELEGATION_SET, PROPOSED, REVISED, VOTE_CAST, VOTE_WITHDRAWN, WITHDRAWN, ChangeState,
)
from civitas_deployer.domain.rules import parse_governance

KIND = "decision"
RESULT = "result.tsv"
RULE_FILES = ("governance.toml", "modules.toml")
_OF_A_PROPOSAL = {PROPOSED, REVISED, WITHDRAWN, VOTE_CAST, VOTE_WITHDRAWN}
_DELEGATIONS = {DELEGATION_SET, DELEGATION_CLEARED}


class DecisionRecordError(ValueError):
    """The record's configuration and its cut do not belong together; nothing can be recounted from them."""


def git_blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes (`git hash-object`), so the rules can be checked against the tree."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class DecisionPlan:
    """What a decision record is snapped with, besides the change stream: its config.json."""

    proposal: str
    revision: int
    content_hash: str
    base_commit: str
    closes_at_us: int
    rules: dict[str, bytes]  # governance.toml and modules.toml at the base commit
    voter_list: str  # its record's name, e.g. "list 3"
    voter_list_text: bytes  # that record's result, verbatim

    def to_json(self) -> bytes:
        return canonical_json({
            "proposal": self.proposal, "revision": self.revision, "content_hash": self.content_hash,
            "base_commit": self.base_commit, "closes_at_us": self.closes_at_us,
            "rules": {name: {"blob": git_blob_id(text), "text": text.decode()} for name, text in self.rules.items()},
            "voter_list": {"name": self.voter_list, "sha256": hashlib.sha256(self.voter_list_text).hexdigest(),
                           "text": self.voter_list_text.decode()},
        })


def _standings(text: bytes) -> Iterable[tuple[str, int, str]]:
    """(voter, trust level, bar) of every line of a voter list, without building an entry per voter."""
    header, _, body = text.decode().partition("\n")
    if header != LIST_HEADER:
        raise DecisionRecordError("the decision's voter list is not a civitas voter list")
    for line in body.split("\n"):
        if line:
            voter, level, bar, _ = line.split("\t", 3)
            yield voter, int(level), bar


def fold_at_close(events, proposal: str, closes_at_us: int) -> tuple[ChangeState, dict[str, int]]:
    """The change stream as it stood at the close, and each actor's last event recorded before it."""
    state = ChangeState()
    last_active: dict[str, int] = {}
    evolve = state.evolve
    for envelope in events:
        recorded_at, kind = envelope.recorded_at_us, envelope.type
        before_close = recorded_at < closes_at_us
        if before_close:
            last_active[envelope.actor] = recorded_at
        if kind in _DELEGATIONS:
            if before_close:
                evolve(kind, decode_body(kind, envelope.body), envelope.actor)
        elif kind in _OF_A_PROPOSAL:
            message = decode_body(kind, envelope.body)
            if message.proposal == proposal:
                evolve(kind, message, envelope.actor)
    return state, last_active


def compile_decision(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    """The decision's canonical text, from the change stream's cut and the record's configuration."""
    plan = json.loads(config)
    proposal, closes_at = plan["proposal"], plan["closes_at_us"]
    base = plan["base_commit"]
    texts = {}
    for name in RULE_FILES:
        text = plan["rules"][name]["text"].encode()
        if git_blob_id(text) != plan["rules"][name]["blob"]:
            raise DecisionRecordError(f"{name} in the decision is not the blob {plan['rules'][name]['blob']}")
        texts[name] = text.decode()
    voter_list = plan["voter_list"]["text"].encode()
    if hashlib.sha256(voter_list).hexdigest() != plan["voter_list"]["sha256"]:
        raise DecisionRecordError(f"the decision's copy of {plan['voter_list']['name']} is not the one it names")
    rules = parse_governance(texts["governance.toml"], where=f"governance.toml at {base[:12]}")
    modules = parse_modules(texts["modules.toml"], where=f"modules.toml at {base[:12]}")
    state, last_active = fold_at_close(events, proposal, closes_at)
    found = state.proposals.get(proposal)
    if found is None or found.current.number != plan["revision"] or found.current.content_hash != plan["content_hash"]:
        raise DecisionRecordError(f"the change stream's proposal {proposal} at the close is not revision "
                                  f"{plan['revision']} ({plan['content_hash'][:12]}), which this record decides")
    if found.current.base_commit != base:
        raise DecisionRecordError(f"proposal {proposal}'s base is {found.current.base_commit}, not {base}")
    voters = electorate(_standings(voter_list), rules, last_active_us=last_active, closes_at_us=closes_at)
    decision = decide(found.subject(), rules, modules, voters, state.ballots_of(proposal), state.delegations)
    return decision_text(decision)


COMPILERS = {KIND: compile_decision}
