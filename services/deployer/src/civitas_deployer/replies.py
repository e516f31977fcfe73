"""What the change commands say: help, a proposal with its tally and how my vote resolved, the list, delegations."""

from __future__ import annotations

from civitas_kernel.commands import Reply

from civitas_deployer.domain.choices import when
from civitas_deployer.domain.decision import Decision, ModuleTally
from civitas_deployer.domain.proposals import ChangeState, Proposal
from civitas_deployer.domain.resolve import (
    ABSENT, BLOCKED, CYCLE, DELEGATED, DIRECT, DISAGREE, Resolution, chain,
)
from civitas_deployer.domain.windows import CLOSED, REVIEW, Window

HELP = {
    "propose": "propose --patch FILE --title TITLE: propose the change in FILE (`git format-patch` output) "
               "to the live repository.",
    "revise": "revise ID --patch FILE [--title TITLE]: replace your proposal's change; every direct vote on it is "
              "void and a new review and voting window opens.",
    "withdraw": "withdraw ID: withdraw your proposal.",
    "vote": "vote ID yes|no|abstain [--hash CONTENT_HASH]: vote on the proposal's current revision "
            "(--hash: only if it is still the revision you looked at).",
    "unvote": "unvote ID: withdraw your vote.",
    "delegate": "delegate SCOPE DELEGATE [DELEGATE...]: where you do not vote, your vote in module SCOPE (or * for "
                "every module) follows your delegate's, or with several only what all of them agree on.\n"
                "delegate SCOPE none: no delegation in SCOPE, whatever your delegation for *.   "
                "delegate: show your delegations and who delegates to you.",
    "undelegate": "undelegate SCOPE: remove your delegation for SCOPE.",
    "show": "show ID: the proposal, its tally so far per module, your vote and how it resolves.",
    "list": "list: every proposal.",
    "help": "help: list the commands.   COMMAND --help: explain one.",
}


def _phase_text(proposal: Proposal, window: Window, now_us: int) -> str:
    if proposal.withdrawn:
        return "withdrawn"
    phase = window.phase(now_us)
    if phase == REVIEW:
        return f"in review until {when(window.opens_at_us)}, then voting until {when(window.closes_at_us)}"
    if phase == CLOSED:
        return f"voting closed at {when(window.closes_at_us)}"
    return f"voting until {when(window.closes_at_us)}"


def resolution_text(resolution: Resolution | None, path: list[str], module: str) -> str:
    if resolution is None:
        return "you are not in this proposal's electorate"
    how = resolution.how
    if how == DIRECT:
        return f"{resolution.vote}, your own vote"
    if how == DELEGATED:
        return f"{resolution.vote}, through {' -> '.join(path)} (your delegation for {resolution.scope})"
    if how == BLOCKED:
        return f"no vote: your delegation for {resolution.scope} is none"
    if how == ABSENT:
        return f"no vote: you have not voted and have no delegation for {module} or *"
    if how == CYCLE:
        return f"no vote: the chain {' -> '.join(path)} returns to a voter already on it"
    if how == DISAGREE:
        return f"no vote: your delegates {' and '.join(resolution.via)} do not agree"
    return f"no vote yet: {' -> '.join(path)} does not reach a vote"


def _tally_line(t: ModuleTally) -> str:
    return (f"  {t.module:<14} yes {t.yes:>6}  no {t.no:>6}  abstain {t.abstain:>6}  "
            f"quorum {'met' if t.quorum_met else 'not met'}, majority {'met' if t.majority_met else 'not met'}"
            f" -> {'approved' if t.approved else 'not approved'}")


def describe_proposal(proposal: Proposal, window: Window, now_us: int, decision: Decision, voter: str,
                      state: ChangeState) -> Reply:
    current, t = proposal.current, decision.thresholds
    ballot = state.ballot(proposal.id, voter)
    voided = state.voided.get(proposal.id, {}).get(voter)
    lines = [
        f"proposal {proposal.id}: {current.title} (by {proposal.proposer}, revision {current.number})",
        f"content {current.content_hash}  base {current.base_commit[:12]}  commit {current.result_commit[:12]}",
        _phase_text(proposal, window, now_us),
        f"changes {len(current.changed_paths)} path(s) in {', '.join(x.module for x in decision.tallies)}"
        + ("; constitutional" if decision.constitutional else ""),
    ]
    if voided is not None:
        lines.append(f"your vote {voided[1]} on the earlier revision {voided[0][:12]} is void since revision "
                     f"{current.number}: look at the change again and vote on it")
    lines.append(f"your ballot: {ballot[1]}" if ballot else "your ballot: none")
    lines.append(f"tally so far (electorate {decision.electorate}; quorum {t.quorum}, majority {t.majority}"
                 f"{'' if t.strict else ' or more'}):")
    lines.extend(_tally_line(x) for x in decision.tallies)
    mine = {}
    for tally in decision.tallies:
        resolution = tally.resolutions.get(voter)
        path = chain(tally.resolutions, voter) if resolution else []
        lines.append(f"  your vote in {tally.module}: {resolution_text(resolution, path, tally.module)}")
        mine[tally.module] = None if resolution is None else {
            "vote": resolution.vote, "how": resolution.how, "scope": resolution.scope, "chain": path}
    data = {
        "proposal": proposal.id, "proposer": proposal.proposer, "withdrawn": proposal.withdrawn, **current.as_dict(),
        "phase": "withdrawn" if proposal.withdrawn else window.phase(now_us),
        "opens_at_us": window.opens_at_us, "closes_at_us": window.closes_at_us,
        "constitutional": decision.constitutional, "electorate": decision.electorate,
        "thresholds": {"quorum": str(t.quorum), "majority": str(t.majority), "strict": t.strict,
                       "voting_hours": t.voting_hours},
        "tally": {x.module: {"yes": x.yes, "no": x.no, "abstain": x.abstain, "quorum_met": x.quorum_met,
                             "majority_met": x.majority_met, "approved": x.approved} for x in decision.tallies},
        "ballot": ballot[1] if ballot else None,
        "voided": None if voided is None else {"content_hash": voided[0], "choice": voided[1]},
        "my_vote": mine,
    }
    return Reply("\n".join(lines), data)


def describe_list(proposals: list[Proposal], phases: dict[str, str], modules: dict[str, tuple[str, ...]]) -> Reply:
    if not proposals:
        return Reply("no proposals yet; `change propose --patch FILE --title TITLE` makes one", [])
    lines = [f"{p.id:>5}  {phases[p.id]:<9}  rev {p.current.number:<3} {p.current.content_hash[:12]}  "
             f"{','.join(modules[p.id]):<20}  {p.current.title}" for p in proposals]
    data = [{"proposal": p.id, "phase": phases[p.id], "revision": p.current.number,
             "content_hash": p.current.content_hash, "modules": list(modules[p.id]), "title": p.current.title}
            for p in proposals]
    return Reply("\n".join(lines), data)


def describe_delegations(voter: str, state: ChangeState) -> Reply:
    mine = state.delegations.get(voter, {})
    to_me = state.delegators_of(voter)
    lines = [f"  {scope}: {'none' if not ds else ' + '.join(ds)}" for scope, ds in sorted(mine.items())]
    lines = (["your delegations:", *lines] if lines else ["you delegate nowhere"])
    lines += [f"  {scope}: {', '.join(voters)}" for scope, voters in sorted(to_me.items())]
    if to_me:
        lines.insert(len(lines) - len(to_me), "who delegates to you:")
    return Reply("\n".join(lines), {"voter": voter, "delegations": {s: list(d) for s, d in mine.items()},
                                     "delegators": to_me})
