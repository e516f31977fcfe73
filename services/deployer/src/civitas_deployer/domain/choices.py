"""Deciding voters' commands on the change stream: each returns the event to append, or raises ChangeError.

Whether a voter is on the voter list, and which rules apply, the command layer finds out (it reads the
list and the live repository) and passes in; these functions judge the state folded from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from civitas_kernel.commands import CommandError, ConflictError, NotFoundError
from civitas_kernel.events import NewEvent
from civitas_schema.v1 import change_pb2

from civitas_deployer.domain.modules import EVERY_MODULE, Modules
from civitas_deployer.domain.proposals import CHOICE_ENUM, ChangeState, Proposal, Revision
from civitas_deployer.domain.resolve import CHOICES
from civitas_deployer.domain.windows import CLOSED, REVIEW, Window

MAX_DELEGATES = 16  # "all of" a few people; more is a list no one can follow


class ChangeError(CommandError):
    """A change command that cannot be taken as given; the message says what to do."""


def when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def proposal_of(state: ChangeState, proposal: str) -> Proposal:
    found = state.proposals.get(proposal)
    if found is None:
        raise NotFoundError(f"there is no proposal {proposal!r}; `change list` shows them")
    return found


def _open_for_change(found: Proposal, voter: str, now_us: int, window: Window, verb: str) -> None:
    if found.withdrawn:
        raise ChangeError(f"proposal {found.id} was withdrawn; propose it again to {verb} it")
    if found.proposer != voter:
        raise ChangeError(f"only its proposer, {found.proposer}, may {verb} proposal {found.id}")
    if window.phase(now_us) == CLOSED:
        raise ChangeError(f"voting on proposal {found.id} closed at {when(window.closes_at_us)}; "
                          f"it can no longer be changed; propose a new one")


def decide_propose(state: ChangeState, proposer: str, revision: Revision,
                   is_open: Callable[[Proposal], bool] = lambda p: not p.withdrawn) -> NewEvent:
    """Propose `revision`; is_open says which earlier proposals are still undecided (one with the same content is)."""
    if not revision.changed_paths:
        raise ChangeError("the patch changes nothing in the live repository; nothing to propose")
    for other in state.proposals.values():
        if other.current.content_hash == revision.content_hash and is_open(other):
            raise ChangeError(f"proposal {other.id} proposes this very change already; vote on it there")
    message = change_pb2.ProposalProposed(proposal=state.next_id(), proposer=proposer,
                                          revision=revision.numbered(1).to_message())
    return NewEvent.of(message, proposer)


def decide_revise(state: ChangeState, proposer: str, proposal: str, revision: Revision, now_us: int,
                  window: Window) -> NewEvent:
    found = proposal_of(state, proposal)
    _open_for_change(found, proposer, now_us, window, "revise")
    if not revision.changed_paths:
        raise ChangeError("the revised patch changes nothing in the live repository; withdraw the proposal instead")
    if revision.content_hash == found.current.content_hash:
        raise ChangeError(f"the revision has the content of revision {found.current.number} already "
                          f"({revision.content_hash[:12]}); nothing changed")
    numbered = revision.numbered(found.current.number + 1)
    return NewEvent.of(change_pb2.ProposalRevised(proposal=proposal, revision=numbered.to_message()), proposer)


def decide_withdraw(state: ChangeState, proposer: str, proposal: str, now_us: int, window: Window) -> NewEvent:
    found = proposal_of(state, proposal)
    _open_for_change(found, proposer, now_us, window, "withdraw")
    message = change_pb2.ProposalWithdrawn(proposal=proposal, content_hash=found.current.content_hash)
    return NewEvent.of(message, proposer)


def _check_voting(found: Proposal, now_us: int, window: Window) -> None:
    if found.withdrawn:
        raise ChangeError(f"proposal {found.id} was withdrawn; there is nothing to vote on")
    phase = window.phase(now_us)
    if phase == REVIEW:
        raise ChangeError(f"proposal {found.id} is in review; voting opens at {when(window.opens_at_us)}")
    if phase == CLOSED:
        raise ChangeError(f"voting on proposal {found.id} closed at {when(window.closes_at_us)}")


def decide_vote(state: ChangeState, proposal: str, voter: str, choice: str, now_us: int, window: Window,
                expected_hash: str | None = None) -> NewEvent:
    """The ballot naming the current revision; expected_hash (or a prefix of it) pins the revision the voter saw."""
    found = proposal_of(state, proposal)
    if choice not in CHOICES:
        raise ChangeError(f"vote yes, no or abstain, not {choice!r}")
    current = found.current
    if expected_hash is not None and not (len(expected_hash) >= 8 and current.content_hash.startswith(expected_hash)):
        raise ConflictError(f"{expected_hash} is not the current revision of proposal {proposal}: it is revision "
                            f"{current.number} ({current.content_hash[:12]}) now; look at it with `change show "
                            f"{proposal}` and vote on it")
    _check_voting(found, now_us, window)
    if state.ballot(proposal, voter) == (current.content_hash, choice):
        raise ChangeError(f"you vote {choice} on proposal {proposal} already; nothing changed")
    message = change_pb2.ChangeVoteCast(proposal=proposal, voter=voter, content_hash=current.content_hash,
                                        choice=CHOICE_ENUM[choice])
    return NewEvent.of(message, voter)


def decide_unvote(state: ChangeState, proposal: str, voter: str, now_us: int, window: Window) -> NewEvent:
    found = proposal_of(state, proposal)
    ballot = state.ballot(proposal, voter)
    if ballot is None:
        raise ChangeError(f"you have no vote on proposal {proposal} to withdraw")
    _check_voting(found, now_us, window)
    return NewEvent.of(change_pb2.ChangeVoteWithdrawn(proposal=proposal, voter=voter, content_hash=ballot[0]), voter)


def check_scope(scope: str, modules: Modules) -> None:
    if scope != EVERY_MODULE and scope not in modules:
        raise ChangeError(f"there is no module {scope!r}; the modules are {', '.join(modules.names)}, "
                          f"or * for every module")


def decide_delegate(state: ChangeState, voter: str, scope: str, delegates: tuple[str, ...],
                    modules: Modules) -> NewEvent:
    """Delegate at `scope` to all of `delegates`; an empty tuple is `none`, which blocks a broader delegation."""
    check_scope(scope, modules)
    if voter in delegates:
        raise ChangeError("you cannot delegate to yourself; vote directly instead")
    if len(set(delegates)) != len(delegates):
        raise ChangeError("name each delegate once")
    if len(delegates) > MAX_DELEGATES:
        raise ChangeError(f"delegate to at most {MAX_DELEGATES} voters at one scope")
    ordered = tuple(sorted(delegates))
    if state.delegations.get(voter, {}).get(scope) == ordered:
        raise ChangeError(f"your delegation for {scope} is that already; nothing changed")
    message = change_pb2.DelegationSet(voter=voter, scope=scope, delegates=list(ordered), none=not ordered)
    return NewEvent.of(message, voter)


def decide_undelegate(state: ChangeState, voter: str, scope: str) -> NewEvent:
    if scope not in state.delegations.get(voter, {}):
        raise ChangeError(f"you have no delegation for {scope} to remove; `change delegate` shows yours")
    return NewEvent.of(change_pb2.DelegationCleared(voter=voter, scope=scope), voter)
