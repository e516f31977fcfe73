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
from civitas_deployer.records import DecisionSummary

HELP = {
    "propose": "propose --patch FILE --title TITLE: propose the change in FILE (`git format-patch` output) "
               "to the live repository.\n"
               "propose --url URL --ref REF --title TITLE: propose the branch or ref REF of the git repository at URL "
               "(git://, http:// or https://), built on the live HEAD.\n"
               "propose --branch BRANCH [--repo PATH] --title TITLE: propose a branch of your clone (on the site's "
               "own machine; PATH defaults to the current folder).",
    "revise": "revise ID --patch FILE [--title TITLE]: replace your proposal's change (or --url URL --ref REF, "
              "or --branch BRANCH [--repo PATH]); every direct vote on it is void and a new review and voting "
              "window opens.",
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


def _tally_line(module: str, t: dict) -> str:
    return (f"  {module:<14} yes {t['yes']:>6}  no {t['no']:>6}  abstain {t['abstain']:>6}  "
            f"quorum {'met' if t['quorum_met'] else 'not met'}, majority {'met' if t['majority_met'] else 'not met'}"
            f" -> {'approved' if t['approved'] else 'not approved'}")


def _tally(x: ModuleTally) -> dict:
    return {"yes": x.yes, "no": x.no, "abstain": x.abstain, "quorum_met": x.quorum_met,
            "majority_met": x.majority_met, "approved": x.approved}


def describe_proposal(proposal: Proposal, window: Window, now_us: int, decision: Decision, voter: str | None,
                      state: ChangeState, recorded: DecisionSummary | None = None,
                      recorded_votes: dict[str, tuple[Resolution, list[str]]] | None = None) -> Reply:
    """A proposal, its tally and `voter`'s vote: as the decision record says once there is one, else as it stands."""
    current, t = proposal.current, decision.thresholds
    ballot = state.ballot(proposal.id, voter) if voter else None
    voided = state.voided.get(proposal.id, {}).get(voter) if voter else None
    phase = "withdrawn" if proposal.withdrawn else window.phase(now_us)
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
    if voter:
        lines.append(f"your ballot: {ballot[1]}" if ballot else "your ballot: none")
    rule = f"quorum {t.quorum}, majority {t.majority}{'' if t.strict else ' or more'}"
    if recorded is not None:
        phase = "approved" if recorded.approved else "rejected"
        tally = recorded.tally
        lines.append(f"DECIDED: {'approved' if recorded.approved else 'not approved'} by decision {recorded.record} "
                     f"(electorate {recorded.electorate}; {rule}); the record: {recorded.archive}")
        resolved = {module: recorded_votes.get(module, (None, [])) for module in tally}
    else:
        tally = {x.module: _tally(x) for x in decision.tallies}
        if phase == CLOSED and not proposal.withdrawn:
            lines.append("voting has closed; its decision is not recorded yet (`civitas change decide` records it)")
        lines.append(f"tally so far (electorate {decision.electorate}; {rule}):")
        resolved = {}
        for x in decision.tallies:
            resolution = x.resolutions.get(voter) if voter else None
            resolved[x.module] = (resolution, chain(x.resolutions, voter) if resolution else [])
    lines.extend(_tally_line(module, values) for module, values in tally.items())
    mine = {}
    for module, (resolution, path) in resolved.items() if voter else ():
        lines.append(f"  your vote in {module}: {resolution_text(resolution, path, module)}")
        mine[module] = None if resolution is None else {
            "vote": resolution.vote, "how": resolution.how, "scope": resolution.scope, "chain": path}
    data = {
        "proposal": proposal.id, "proposer": proposal.proposer, "withdrawn": proposal.withdrawn, **current.as_dict(),
        "phase": phase, "opens_at_us": window.opens_at_us, "closes_at_us": window.closes_at_us,
        "constitutional": decision.constitutional,
        "electorate": recorded.electorate if recorded else decision.electorate,
        "thresholds": {"quorum": str(t.quorum), "majority": str(t.majority), "strict": t.strict,
                       "voting_hours": t.voting_hours},
        "tally": tally,
        "decision": recorded.as_dict() if recorded else None,
        "ballot": ballot[1] if ballot else None,
        "voided": None if voided is None else {"content_hash": voided[0], "choice": voided[1]},
        "my_vote": mine,
    }
    return Reply("\n".join(lines), data)


def describe_list(proposals: list[Proposal], phases: dict[str, str], modules: dict[str, tuple[str, ...]],
                  decisions: dict[str, DecisionSummary]) -> Reply:
    """Every proposal; a decided one's phase is its recorded decision: approved or rejected."""
    if not proposals:
        return Reply("no proposals yet; `change propose --patch FILE --title TITLE` makes one", [])
    lines = [f"{p.id:>5}  {phases[p.id]:<9}  rev {p.current.number:<3} {p.current.content_hash[:12]}  "
             f"{','.join(modules[p.id]):<20}  {p.current.title}" for p in proposals]
    data = [{"proposal": p.id, "phase": phases[p.id], "revision": p.current.number,
             "content_hash": p.current.content_hash, "modules": list(modules[p.id]), "title": p.current.title,
             "decision": decisions[p.id].record if p.id in decisions else None}
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
