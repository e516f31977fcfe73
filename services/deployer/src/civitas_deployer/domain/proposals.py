"""Proposals, ballots and delegations as folded from the change stream.

A revision voids every direct ballot on the revision before it: the state keeps those voided ballots
apart, so their voters can be told, and never counts them. Delegations belong to voters and modules,
not to proposals, so a revision leaves them as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from civitas_schema.v1 import change_pb2

from civitas_deployer.domain.decision import Ballot, Subject

CONTENT_HASH_PREFIX = b"civitas/change/v1\n"
CHOICE_OF = {change_pb2.CHOICE_YES: "yes", change_pb2.CHOICE_NO: "no", change_pb2.CHOICE_ABSTAIN: "abstain"}
CHOICE_ENUM = {name: number for number, name in CHOICE_OF.items()}

PROPOSED = change_pb2.ProposalProposed.DESCRIPTOR.full_name
REVISED = change_pb2.ProposalRevised.DESCRIPTOR.full_name
WITHDRAWN = change_pb2.ProposalWithdrawn.DESCRIPTOR.full_name
VOTE_CAST = change_pb2.ChangeVoteCast.DESCRIPTOR.full_name
VOTE_WITHDRAWN = change_pb2.ChangeVoteWithdrawn.DESCRIPTOR.full_name
DELEGATION_SET = change_pb2.DelegationSet.DESCRIPTOR.full_name
DELEGATION_CLEARED = change_pb2.DelegationCleared.DESCRIPTOR.full_name


def content_hash(base_commit: str, tree_hash: str) -> str:
    """The name of a change's content: the base it applies to and the tree it makes, nothing else."""
    return hashlib.sha256(CONTENT_HASH_PREFIX + f"base {base_commit}\ntree {tree_hash}\n".encode()).hexdigest()


@dataclass(frozen=True)
class Revision:
    number: int
    base_commit: str
    result_commit: str
    tree_hash: str
    changed_paths: tuple[str, ...]
    content_hash: str
    title: str
    voter_list: str = ""  # the voter list record whose voters form the electorate
    made_at_us: int = 0

    @classmethod
    def from_message(cls, m: change_pb2.ChangeRevision) -> Revision:
        return cls(m.number, m.base_commit, m.result_commit, m.tree_hash, tuple(m.changed_paths), m.content_hash,
                   m.title, m.voter_list, m.made_at_us)

    def to_message(self) -> change_pb2.ChangeRevision:
        return change_pb2.ChangeRevision(
            number=self.number, base_commit=self.base_commit, result_commit=self.result_commit,
            tree_hash=self.tree_hash, changed_paths=list(self.changed_paths), content_hash=self.content_hash,
            title=self.title, voter_list=self.voter_list, made_at_us=self.made_at_us,
        )

    def numbered(self, number: int) -> Revision:
        return Revision(number, self.base_commit, self.result_commit, self.tree_hash, self.changed_paths,
                        self.content_hash, self.title, self.voter_list, self.made_at_us)

    def as_dict(self) -> dict:
        return {"revision": self.number, "base_commit": self.base_commit, "result_commit": self.result_commit,
                "tree_hash": self.tree_hash, "changed_paths": list(self.changed_paths),
                "content_hash": self.content_hash, "title": self.title, "voter_list": self.voter_list,
                "made_at_us": self.made_at_us}


@dataclass
class Proposal:
    id: str
    proposer: str
    revisions: list[Revision]
    withdrawn: bool = False

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    def subject(self) -> Subject:
        r = self.current
        return Subject(self.id, r.number, r.content_hash, r.base_commit, r.changed_paths)


@dataclass
class ChangeState:
    proposals: dict[str, Proposal] = field(default_factory=dict)
    ballots: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # id -> voter -> (hash, choice)
    voided: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # voided by the latest revision
    delegations: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # voter -> scope -> delegates

    def evolve(self, event_type: str, message, actor: str = "") -> None:
        if event_type == VOTE_CAST:
            self.ballots.setdefault(message.proposal, {})[message.voter] = (
                message.content_hash, CHOICE_OF[message.choice])
            self.voided.get(message.proposal, {}).pop(message.voter, None)
        elif event_type == VOTE_WITHDRAWN:
            self.ballots.get(message.proposal, {}).pop(message.voter, None)
        elif event_type == DELEGATION_SET:
            self.delegations.setdefault(message.voter, {})[message.scope] = (
                () if message.none else tuple(message.delegates))
        elif event_type == DELEGATION_CLEARED:
            mine = self.delegations.get(message.voter, {})
            mine.pop(message.scope, None)
            if not mine:
                self.delegations.pop(message.voter, None)
        elif event_type == PROPOSED:
            self.proposals[message.proposal] = Proposal(
                message.proposal, message.proposer, [Revision.from_message(message.revision)])
            self.ballots[message.proposal] = {}
        elif event_type == REVISED:
            self.proposals[message.proposal].revisions.append(Revision.from_message(message.revision))
            self.voided[message.proposal] = self.ballots.get(message.proposal, {})
            self.ballots[message.proposal] = {}
        elif event_type == WITHDRAWN:
            self.proposals[message.proposal].withdrawn = True

    def next_id(self) -> str:
        return str(len(self.proposals) + 1)

    def ballots_of(self, proposal: str) -> list[Ballot]:
        return [Ballot(voter, h, choice) for voter, (h, choice) in self.ballots.get(proposal, {}).items()]

    def ballot(self, proposal: str, voter: str) -> tuple[str, str] | None:
        return self.ballots.get(proposal, {}).get(voter)

    def delegators_of(self, delegate: str) -> dict[str, list[str]]:
        """scope -> the voters whose delegation at that scope names `delegate`."""
        found: dict[str, list[str]] = {}
        for voter, scopes in sorted(self.delegations.items()):
            for scope, delegates in sorted(scopes.items()):
                if delegate in delegates:
                    found.setdefault(scope, []).append(voter)
        return found
