"""The polls and the votes in them, folded from the poll and vote streams; and the decisions on new votes."""

from __future__ import annotations

from dataclasses import dataclass, field

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import ConflictError, NotFoundError
from civitas_kernel.events import NewEvent
from civitas_schema.v1 import poll_pb2, vote_pb2

from civitas_polls.domain.polls import PollConfig, PollError, check_open, checked, normalise_candidate

POLL_CONFIGURED = poll_pb2.PollConfigured.DESCRIPTOR.full_name
VOTE_CAST = vote_pb2.VoteCast.DESCRIPTOR.full_name
VOTE_WITHDRAWN = vote_pb2.VoteWithdrawn.DESCRIPTOR.full_name


@dataclass
class PollsState:
    polls: dict[str, PollConfig] = field(default_factory=dict)
    votes: dict[str, dict[str, str]] = field(default_factory=dict)  # poll -> voter -> candidate
    configured_by: dict[str, str] = field(default_factory=dict)  # poll -> the actor of its last configuration

    def evolve(self, event_type: str, message, actor: str = "") -> None:
        if event_type == POLL_CONFIGURED:
            self.polls[message.name] = PollConfig.from_message(message)
            self.configured_by[message.name] = actor
            self.votes.setdefault(message.name, {})
        elif event_type == VOTE_CAST:
            self.votes.setdefault(message.poll, {})[message.voter] = message.candidate
        elif event_type == VOTE_WITHDRAWN:
            self.votes.get(message.poll, {}).pop(message.voter, None)

    def poll(self, name: str) -> PollConfig:
        if name not in self.polls:
            raise NotFoundError(f"there is no poll {name!r}; `civitas poll list` shows the polls")
        return self.polls[name]

    def vote_of(self, poll: str, voter: str) -> str | None:
        return self.votes.get(poll, {}).get(voter)


def decide_create(state: PollsState, config: PollConfig) -> NewEvent:
    config = checked(config)
    if config.name in state.polls:
        raise ConflictError(f"poll {config.name} exists already; `civitas poll configure` changes it")
    return NewEvent.of(config.to_message(), "operator")


def decide_configure(state: PollsState, name: str, changes: dict) -> NewEvent:
    config = state.poll(name).with_changes(**changes)
    if config == state.poll(name):
        raise PollError(f"{name} is configured like that already; nothing changed")
    return NewEvent.of(config.to_message(), "operator")


def decide_vote(state: PollsState, poll: str, voter: str, candidate: str, now_us: int) -> tuple[NewEvent, str]:
    """The event that casts `voter`'s vote for `candidate`, and the normalised candidate."""
    config = state.poll(poll)
    voter = normalise_address(voter)
    candidate = normalise_candidate(config, candidate)
    check_open(config, now_us)
    if state.vote_of(poll, voter) == candidate:
        raise PollError(f"you vote for {candidate} in {poll} already; nothing changed")
    return NewEvent.of(vote_pb2.VoteCast(poll=poll, voter=voter, candidate=candidate), voter), candidate


def decide_unvote(state: PollsState, poll: str, voter: str, now_us: int) -> NewEvent:
    config = state.poll(poll)
    voter = normalise_address(voter)
    if state.vote_of(poll, voter) is None:
        raise PollError(f"you have no vote in {poll} to withdraw")
    check_open(config, now_us)
    return NewEvent.of(vote_pb2.VoteWithdrawn(poll=poll, voter=voter), voter)
