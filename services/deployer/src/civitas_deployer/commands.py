"""The deployer's commands: voters propose changes to the live repository, vote on them and delegate per module.

Every command is decided on the state folded from the `change` stream and either appends its event or
raises a CommandError having written nothing: a refused patch leaves no git objects either (they stay
in quarantine), and a proposal's objects enter the repository before its event, never after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from civitas_kernel.addresses import normalise_address
from civitas_kernel.application import StreamFolder
from civitas_kernel.commands import Reply
from civitas_kernel.idempotency import callers_key
from civitas_kernel.log import EventLog

from civitas_deployer.deciding import decide_closed
from civitas_deployer.deploying.reads import DeploymentReads
from civitas_deployer.domain.choices import (
    ChangeError, decide_delegate, decide_propose, decide_revise, decide_undelegate, decide_unvote, decide_vote,
    decide_withdraw, proposal_of, when,
)
from civitas_deployer.domain.decision import Decision, decide
from civitas_deployer.domain.maintenance import check_requests, only_stops, request_paths
from civitas_deployer.domain.modules import EVERY_MODULE
from civitas_deployer.domain.proposals import ChangeState, Proposal, Revision
from civitas_deployer.domain.rules import RulesError
from civitas_deployer.domain.windows import CLOSED, Window, window
from civitas_deployer.electorates import Electorates, NotEligibleError, Rules, VoterLists
from civitas_deployer.fetch import Fetched, FetchLimits, Source, SourceRefused, fetch_change
from civitas_deployer.live_repo import LiveRepository, PendingRefs, StagedChange
from civitas_deployer.records import DecisionRecords, DecisionSummary, resolutions_in
from civitas_deployer.replies import describe_list, describe_proposal
from civitas_deployer.shell import run_shell
from civitas_deployer.views import delegation_graph, delegations_of, proposal_diff

CHANGE_STREAMS = ("change",)
Change = bytes | Source | Fetched  # a patch; where to fetch a change from; or a change fetched already
MAX_TITLE = 200


def _now_us() -> int:
    return time.time_ns() // 1000


class ChangeCommands:
    def __init__(self, log: EventLog, repo: LiveRepository, voter_lists: VoterLists,
                 clock: Callable[[], int] = _now_us, decisions: DecisionRecords | None = None,
                 fetch_limits: FetchLimits = FetchLimits(), deployments: DeploymentReads | None = None,
                 offered_builtins: frozenset[str] | None = None) -> None:
        """offered_builtins: the maintenance built-ins this site runs (None: not known here, so not checked)."""
        self.log, self.repo, self.clock, self.decisions = log, repo, clock, decisions
        self.offered_builtins = offered_builtins
        self.deployment_reads = deployments or DeploymentReads(log, None)
        self.fetch_limits = fetch_limits
        self.rules, self.electorates = Rules(repo), Electorates(voter_lists)
        self.state = ChangeState()
        self.folder = StreamFolder(log, CHANGE_STREAMS, self.state.evolve)
        self.refs = PendingRefs(repo)
        self._stops: dict[str, bool] = {}  # content hash -> whether it only asks to stop something

    def catch_up(self) -> None:
        self.refs.settle(self.folder.pending)
        self.folder.catch_up()

    def repair_refs(self) -> None:
        """Name every recorded revision's commit under refs/proposals/ (a crash may have come between)."""
        self.catch_up()
        for proposal in self.state.proposals.values():
            for revision in proposal.revisions:
                if self.repo.has_commit(revision.result_commit):
                    self.repo.keep(proposal.id, revision.number, revision.result_commit)

    # -- what the rules say of a proposal ------------------------------------------------

    def window(self, proposal: Proposal) -> Window:
        current = proposal.current
        rules, _ = self.rules.at(current.base_commit)
        constitutional = any(rules.is_constitutional(p) for p in current.changed_paths)
        return window(current.made_at_us, rules, constitutional, self._only_stops(current))

    def _only_stops(self, revision: Revision) -> bool:
        """Whether the revision only asks for stop-only maintenance actions (cached: its content never changes)."""
        held = self._stops.get(revision.content_hash)
        if held is None:
            paths = revision.changed_paths
            held = False
            if paths and len(request_paths(paths)) == len(paths):
                try:
                    held = only_stops(paths, check_requests(paths, lambda p: self.repo.read(revision.base_commit, p),
                                                            lambda p: self.repo.read(revision.result_commit, p)))
                except RulesError:
                    held = False  # a request that does not read gets the full window, and is refused when decided
            self._stops[revision.content_hash] = held
        return held

    def tally(self, proposal_id: str) -> Decision:
        """The decision as the ballots and delegations stand now, by the rules at the proposal's base."""
        self.catch_up()
        proposal = proposal_of(self.state, proposal_id)
        rules, modules = self.rules.at(proposal.current.base_commit)
        voters = self.electorates.of(proposal.current.voter_list, rules)
        return decide(proposal.subject(), rules, modules, voters, self.state.ballots_of(proposal_id),
                      self.state.delegations)

    def _is_open(self, proposal: Proposal) -> bool:
        return not proposal.withdrawn and self.window(proposal).phase(self.clock()) != CLOSED

    # -- proposing -----------------------------------------------------------------------

    def propose(self, voter: str, change: Change, title: str, *, idempotency_key: str | None = None,
                local: bool = False) -> Reply:
        """Propose `change`: a patch (git format-patch output or a diff), or a Source to fetch (a local repository
        only when `local`, i.e. the command comes from the site's own machine)."""
        voter, title = normalise_address(voter), _checked_title(title)
        idempotency_key = callers_key(voter, idempotency_key)  # the proposer's own key, whichever door it came by
        self.catch_up()
        list_name = self._may_propose(voter)
        now = self.clock()
        with self._staged(change, title, voter, now, local) as staged:
            revision = self._revision(staged, title, list_name, now)
            if not self._replayed(idempotency_key):  # refuse before any object is admitted
                decide_propose(self.state, voter, revision, self._is_open)
            staged.admit()
            decided: list[str] = []

            def decision():
                event = decide_propose(self.state, voter, revision, self._is_open)
                decided.append(self.state.next_id())
                return [event]

            self.folder.append("change", decision, idempotency_key=idempotency_key)
        proposal = self.state.proposals[decided[-1]] if decided else self._proposal_with(revision, voter)
        self.refs.name(self.folder.pending, proposal.id, 1, revision.result_commit)
        w = self.window(proposal)
        return Reply(f"proposed {proposal.id}: {title}\ncontent {revision.content_hash}\n"
                     f"changes {len(revision.changed_paths)} path(s) in {', '.join(self._modules_of(proposal))}; "
                     f"review until {when(w.opens_at_us)}, voting until {when(w.closes_at_us)}",
                     {"proposal": proposal.id, **revision.as_dict(), "opens_at_us": w.opens_at_us,
                      "closes_at_us": w.closes_at_us})

    def revise(self, voter: str, proposal_id: str, change: Change, title: str | None = None, *,
               idempotency_key: str | None = None, local: bool = False) -> Reply:
        voter = normalise_address(voter)
        idempotency_key = callers_key(voter, idempotency_key)
        self.catch_up()
        proposal = proposal_of(self.state, proposal_id)
        title = _checked_title(title) if title is not None else proposal.current.title
        list_name = self._may_propose(voter)
        now = self.clock()
        with self._staged(change, title, voter, now, local) as staged:
            revision = self._revision(staged, title, list_name, now)
            if not self._replayed(idempotency_key):
                decide_revise(self.state, voter, proposal_id, revision, now, self.window(proposal))
            staged.admit()
            self.folder.append("change", lambda: [decide_revise(self.state, voter, proposal_id, revision, now,
                                                                self.window(proposal))],
                               idempotency_key=idempotency_key)
        current = proposal.current
        self.refs.name(self.folder.pending, proposal_id, current.number, current.result_commit)
        voided = sorted(self.state.voided.get(proposal_id, {}))
        w = self.window(proposal)
        return Reply(f"revised {proposal_id} to revision {current.number}: content {current.content_hash}\n"
                     f"{len(voided)} direct vote(s) on the earlier revision are void; "
                     f"`change show {proposal_id}` tells each of those voters so. "
                     f"Review until {when(w.opens_at_us)}, voting until {when(w.closes_at_us)}",
                     {"proposal": proposal_id, **current.as_dict(), "voided": voided,
                      "opens_at_us": w.opens_at_us, "closes_at_us": w.closes_at_us})

    @contextmanager
    def _staged(self, change: Change, title: str, proposer: str, now: int, local: bool) -> Iterator[StagedChange]:
        if isinstance(change, bytes):
            with self.repo.stage(change, title=title, proposer=proposer, made_at_us=now) as staged:
                yield staged
            return
        fetched = change
        if isinstance(change, Source):
            fetched = fetch_change(self.repo, change, local=local, limits=self.fetch_limits)
        if not fetched.diff:
            raise ChangeError(f"{fetched.label} is the live HEAD itself: it changes nothing to propose")
        with self.repo.stage(fetched.diff, title=title, proposer=proposer, made_at_us=now, base=fetched.base) as staged:
            if staged.tree_hash != fetched.tree:  # what voters see must be exactly what was fetched
                raise SourceRefused(f"the diff of {fetched.label} does not remake its tree ({fetched.tree[:12]}); "
                                    "send it as a patch made with `git format-patch`")
            yield staged

    def fetch(self, url: str, ref: str) -> Fetched:
        """The change at `ref` of the git repository at `url`, fetched within the site's limits; it takes no lock, so
        a caller fetches first and then proposes what was fetched."""
        return fetch_change(self.repo, Source(url, ref), local=False, limits=self.fetch_limits)

    def _replayed(self, idempotency_key: str | None) -> bool:
        return idempotency_key is not None and self.log.idempotent_result(idempotency_key) is not None

    def _may_propose(self, voter: str) -> str:
        list_name, voters = self.electorates.reported()
        rules, _ = self.rules.at(self.repo.head())
        why = self.electorates.why_not(voters, voter, rules, list_name)
        if why:
            raise NotEligibleError(f"{why}; only voters may propose changes")
        return list_name

    def _revision(self, staged: StagedChange, title: str, list_name: str, now: int) -> Revision:
        try:  # a change that left the rules unreadable would leave the site unable to decide anything again
            Rules.parse(staged.rule_files["governance.toml"], staged.rule_files["modules.toml"], "after this change")
        except RulesError as error:
            raise RulesError(f"the change would break the site's rules: {error}") from None
        self._check_requests(staged)
        return Revision(0, staged.base_commit, staged.result_commit, staged.tree_hash, staged.changed_paths,
                        staged.content_hash, title, list_name, now)

    def _check_requests(self, staged: StagedChange) -> None:
        """A request to run a maintenance action must name one maintenance.toml holds at its base, and a built-in
        this site offers: refused now, before anyone votes on a run that could never happen."""
        asked = check_requests(staged.changed_paths, lambda p: self.repo.read(staged.base_commit, p),
                               staged.request_files.get)
        for request, action in asked:
            if self.offered_builtins is not None and action.builtin and action.builtin not in self.offered_builtins:
                raise RulesError(f"{request.path}: the action {action.name} runs the built-in {action.builtin}, "
                                 f"which this site does not offer (it offers {', '.join(sorted(self.offered_builtins))}"
                                 "); ask for another action")

    def _proposal_with(self, revision: Revision, voter: str) -> Proposal:
        """The proposal an earlier, identical command (same idempotency key) made."""
        return next(p for p in reversed(list(self.state.proposals.values()))
                    if p.proposer == voter and p.revisions[0].content_hash == revision.content_hash)

    def _modules_of(self, proposal: Proposal) -> tuple[str, ...]:
        return self.rules.at(proposal.current.base_commit)[1].modules_of(proposal.current.changed_paths)

    def withdraw(self, voter: str, proposal_id: str, *, idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        self.catch_up()
        proposal = proposal_of(self.state, proposal_id)
        self.folder.append("change", lambda: [decide_withdraw(self.state, voter, proposal_id, self.clock(),
                                                              self.window(proposal))],
                           idempotency_key=idempotency_key)
        return Reply(f"withdrew proposal {proposal_id}", {"proposal": proposal_id, "withdrawn": True})

    # -- voting and delegating -----------------------------------------------------------

    def vote(self, voter: str, proposal_id: str, choice: str, expected_hash: str | None = None, *,
             idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        self.catch_up()
        proposal = proposal_of(self.state, proposal_id)
        self._may_vote(voter, proposal)
        self.folder.append("change", lambda: [decide_vote(self.state, proposal_id, voter, choice, self.clock(),
                                                          self.window(proposal), expected_hash)],
                           idempotency_key=idempotency_key)
        current = proposal.current
        return Reply(f"you vote {choice} on proposal {proposal_id}, revision {current.number}: "
                     f"content {current.content_hash}",
                     {"proposal": proposal_id, "voter": voter, "choice": choice, "revision": current.number,
                      "content_hash": current.content_hash})

    def unvote(self, voter: str, proposal_id: str, *, idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        self.catch_up()
        proposal = proposal_of(self.state, proposal_id)
        self.folder.append("change", lambda: [decide_unvote(self.state, proposal_id, voter, self.clock(),
                                                            self.window(proposal))],
                           idempotency_key=idempotency_key)
        return Reply(f"you no longer vote on proposal {proposal_id}", {"proposal": proposal_id, "voter": voter,
                                                                        "choice": None})

    def _may_vote(self, voter: str, proposal: Proposal) -> None:
        rules, _ = self.rules.at(proposal.current.base_commit)
        list_name = proposal.current.voter_list
        why = self.electorates.why_not(self.electorates.lists.get(list_name), voter, rules, list_name)
        if why:
            raise NotEligibleError(f"{why}, the list proposal {proposal.id} is voted by; you cannot vote on it")

    def delegate(self, voter: str, scope: str, delegates: list[str], *, idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        none = delegates == ["none"]
        chosen = () if none else tuple(normalise_address(d) for d in delegates)
        if not none and not chosen:
            raise ChangeError("name one or more delegates, or `none`: `change delegate SCOPE DELEGATE [DELEGATE...]`")
        self.catch_up()
        list_name, voters = self.electorates.reported()
        if voters.get(voter) is None:
            raise NotEligibleError(f"{voter} is not on the voter list ({list_name}); only voters may delegate")
        for delegate in chosen:
            if voters.get(delegate) is None:
                raise NotEligibleError(f"{delegate} is not on the voter list ({list_name}); delegate to voters only")
        _, modules = self.rules.at(self.repo.head())
        self.folder.append("change", lambda: [decide_delegate(self.state, voter, scope, chosen, modules)],
                           idempotency_key=idempotency_key)
        if none:
            text = f"you delegate nothing for {scope}" + (", whatever your delegation for *" if scope != EVERY_MODULE
                                                          else "")
        elif len(chosen) == 1:
            text = f"for {scope}, your vote follows {chosen[0]}'s where you do not vote yourself"
        else:
            text = (f"for {scope}, your vote follows {' and '.join(sorted(chosen))} when all of them agree; "
                    "when they do not, you do not vote unless you vote yourself")
        return Reply(text, {"voter": voter, "scope": scope, "delegates": sorted(chosen), "none": none})

    def undelegate(self, voter: str, scope: str, *, idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        self.catch_up()
        self.folder.append("change", lambda: [decide_undelegate(self.state, voter, scope)],
                           idempotency_key=idempotency_key)
        return Reply(f"you no longer delegate for {scope}", {"voter": voter, "scope": scope})

    # -- looking -------------------------------------------------------------------------

    def show(self, voter: str | None, proposal_id: str) -> Reply:
        """The proposal, its tally and `voter`'s vote (none: nobody's): from its decision record once decided."""
        voter = normalise_address(voter) if voter else None
        decision = self.tally(proposal_id)
        proposal = self.state.proposals[proposal_id]
        recorded = self.decision_of(proposal)
        votes = resolutions_in(self.decisions.result(recorded), voter) if recorded and voter else {}
        return describe_proposal(proposal, self.window(proposal), self.clock(), decision, voter, self.state,
                                 recorded, votes)

    def decision_of(self, proposal: Proposal) -> DecisionSummary | None:
        """The recorded decision on the proposal's current revision, if there is one: the only "approved" there is."""
        if self.decisions is None:
            return None
        return self.decisions.decided().get((proposal.id, proposal.current.content_hash))

    def list_proposals(self) -> Reply:
        self.catch_up()
        proposals = sorted(self.state.proposals.values(), key=lambda p: int(p.id))
        recorded = self.decisions.decided() if self.decisions is not None else {}
        decided = {p.id: recorded[(p.id, p.current.content_hash)] for p in proposals
                   if (p.id, p.current.content_hash) in recorded}
        phases = {p.id: "withdrawn" if p.withdrawn else ("approved" if decided[p.id].approved else "rejected")
                  if p.id in decided else self.window(p).phase(self.clock()) for p in proposals}
        return describe_list(proposals, phases, {p.id: self._modules_of(p) for p in proposals}, decided)

    def diff(self, proposal_id: str, revision: int | None = None) -> Reply:
        return proposal_diff(self, proposal_id, revision)

    def graph(self, proposal_id: str, voter: str | None) -> Reply:
        """Who follows whom in each module the proposal touches, `voter`'s chain first."""
        return delegation_graph(self, proposal_id, voter)

    def delegations(self, voter: str) -> Reply:
        return delegations_of(self, voter)

    def deployments(self) -> Reply:
        """The live release, every deployment newest first (with its decision, phases and incident), the mirrors."""
        return self.deployment_reads.reply()

    def decide(self, now_us: int | None = None, lock: AbstractContextManager | None = None) -> Reply:
        """Record the decision of every proposal whose voting closed by `now_us` (default now; never later)."""
        return decide_closed(self, now_us, lock)

    # -- the voter shell -----------------------------------------------------------------

    def run(self, voter: str, args: list[str], *, idempotency_key: str | None = None, local: bool = False) -> Reply:
        """A voter's command as the voter shell writes it: `propose --patch FILE --title TITLE`, `vote 3 yes` ...

        local: the command comes from the site's own machine (`civitas voter`), so it may name files and
        repositories there; over the network (the gateway's shell, POST /commands) it may not."""
        return run_shell(self, voter, args, idempotency_key, local)


def _checked_title(title: str | None) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE or any(ord(c) < 32 for c in title):
        raise ChangeError(f"give the proposal a title of 1 to {MAX_TITLE} characters on one line")
    return title
