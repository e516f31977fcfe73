"""What the pages show of a proposal beside its tally: its diff, who follows whom in its modules, my delegations.

Reads only, each bounded: the diff is cut at the patch limit, the graph at MAX_GRAPH_EDGES links (the
voter's own chain and who follows them first, so the part that concerns the reader is always drawn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import NotFoundError, Reply

from civitas_deployer.domain.choices import proposal_of
from civitas_deployer.domain.modules import EVERY_MODULE
from civitas_deployer.domain.resolve import DIRECT, Resolution
from civitas_deployer.replies import describe_delegations

if TYPE_CHECKING:
    from civitas_deployer.commands import ChangeCommands

MAX_GRAPH_EDGES = 300  # beyond this a drawing stops helping; the reply says how many were left out


def proposal_diff(commands: ChangeCommands, proposal_id: str, revision: int | None = None) -> Reply:
    """The unified diff of a revision (default: the current one) against its base, as git shows it."""
    commands.catch_up()
    proposal = proposal_of(commands.state, proposal_id)
    number = revision or proposal.current.number
    if not 1 <= number <= len(proposal.revisions):
        raise NotFoundError(f"proposal {proposal_id} has revisions 1 to {len(proposal.revisions)}, not {number}")
    chosen = proposal.revisions[number - 1]
    limit = commands.repo.max_patch_bytes
    diff = commands.repo.git.read_at_most(limit, "diff", "--full-index", "--no-renames", "--no-color",
                                          "--no-ext-diff", "--no-textconv", chosen.base_commit, chosen.result_commit)
    cut = len(diff) > limit
    text = diff[:limit].decode("utf-8", errors="replace")
    return Reply(text, {"proposal": proposal_id, "revision": number, "base_commit": chosen.base_commit,
                        "result_commit": chosen.result_commit, "content_hash": chosen.content_hash,
                        "diff": text, "cut": cut})


def _edges_of(resolutions, delegations, module: str) -> dict[str, tuple[str, ...]]:
    """voter -> the delegates their vote follows in `module`: the module's delegation, else `*`'s (`none` blocks);
    a voter outside the electorate or voting themselves follows nobody."""
    found = {}
    for voter, scopes in delegations.items():
        if voter not in resolutions or resolutions[voter].how == DIRECT:
            continue
        delegates = scopes[module] if module in scopes else scopes.get(EVERY_MODULE, ())
        if delegates:
            found[voter] = tuple(delegates)
    return found


def delegation_graph(commands: ChangeCommands, proposal_id: str, voter: str | None,
                     limit: int = MAX_GRAPH_EDGES) -> Reply:
    """Per module the proposal touches: who follows whom, each voter's resolved vote and how, `voter`'s chain first."""
    voter = normalise_address(voter) if voter else None
    decision = commands.tally(proposal_id)
    state = commands.state
    modules = {}
    for tally in decision.tallies:
        resolutions = tally.resolutions
        follows = _edges_of(resolutions, state.delegations, tally.module)
        chosen = _chosen_links(follows, voter, limit)
        shown = {v for v, _ in chosen} | {d for _, d in chosen} | ({voter} if voter in resolutions else set())
        voted = sorted(v for v in shown if v in resolutions)
        modules[tally.module] = {
            "links": [list(link) for link in chosen],
            "links_left_out": sum(len(ds) for ds in follows.values()) - len(chosen),
            "voters": {v: _resolution(resolutions[v]) for v in voted},
        }
    return Reply(f"who follows whom in proposal {proposal_id}'s modules", {"proposal": proposal_id, "voter": voter,
                                                                           "modules": modules})


def _resolution(r: Resolution) -> dict:
    return {"vote": r.vote, "how": r.how, "scope": r.scope}


def _chosen_links(follows: dict[str, tuple[str, ...]], voter: str | None, limit: int) -> list[tuple[str, str]]:
    """The links to draw: from `voter` along their delegates, then into `voter` from who follows them, then the rest,
    breadth first from each, up to `limit`."""
    followed_by: dict[str, list[str]] = {}
    for who, delegates in sorted(follows.items()):
        for d in delegates:
            followed_by.setdefault(d, []).append(who)
    chosen: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def take(link: tuple[str, str]) -> bool:
        if link not in seen and len(chosen) < limit:
            seen.add(link)
            chosen.append(link)
            return True
        return False

    if voter:
        queue, visited = [voter], {voter}
        while queue:  # my delegates, theirs, ...
            who = queue.pop(0)
            for d in follows.get(who, ()):
                take((who, d))
                if d not in visited:
                    visited.add(d)
                    queue.append(d)
        queue, visited = [voter], {voter}
        while queue:  # who follows me, who follows them, ...
            who = queue.pop(0)
            for f in followed_by.get(who, ()):
                take((f, who))
                if f not in visited:
                    visited.add(f)
                    queue.append(f)
    for who, delegates in sorted(follows.items()):
        for d in delegates:
            if len(chosen) >= limit:
                return chosen
            take((who, d))
    return chosen


def delegations_of(commands: ChangeCommands, voter: str) -> Reply:
    """`voter`'s delegations per scope, and who delegates to them."""
    commands.catch_up()
    return describe_delegations(normalise_address(voter), commands.state)
