"""What a group shows: each post's score under the group's current weights, and the alternative it chooses."""

from __future__ import annotations

from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.rankings import Ranked, Rankings
from civitas_drafts.domain.scores import score, table_scores
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.votes import VoteTable

__all__ = ["Ranked", "group_scores", "paragraph_scores", "post_scores", "ranking", "rankings_of", "thread"]


def group_scores(state: DraftState, gid: str) -> dict[str, int]:
    """The score in group gid of every post and alternative posted or voted into it."""
    group = state.group(gid)
    numbers = state.voter_numbers  # whoever voted or posted has a number; the other members count for nothing
    weights = {numbers[voter]: m.weight for voter, m in group.members.items() if voter in numbers}
    posts = list(state.in_group.get(gid, {}))
    items = [state.items[pid] for pid in posts]
    points = table_scores(group.moderation_default_score, weights, state.post_votes.get(gid) or VoteTable(),
                          [i.order for i in items], [numbers[i.author] for i in items])
    return dict(zip(posts, points))


def post_scores(state: DraftState, gid: str, pids) -> dict[str, int]:
    """The score in gid of a few posts, each by the rule over its own votes."""
    group = state.group(gid)
    numbers = state.voter_numbers
    weights = {numbers[voter]: m.weight for voter, m in group.members.items() if voter in numbers}
    table = state.post_votes.get(gid) or VoteTable()
    return {pid: score(group.moderation_default_score, weights, table.of_post(state.items[pid].order),
                       weights.get(numbers[state.items[pid].author])) for pid in pids}


def paragraph_scores(state: DraftState, gid: str, pid: str) -> dict[str, int]:
    """The score in gid of each paragraph of a post: only the votes on that paragraph count."""
    group = state.group(gid)
    weights = {voter: m.weight for voter, m in group.members.items()}
    votes = state.paragraph_votes.get(gid, {})
    return {e.paragraph: score(group.moderation_default_score, weights, votes.get((pid, e.paragraph), {}))
            for e in state.item(pid).entries}


def ranking(state: DraftState, gid: str, *, hidden: bool = False, limit: int | None = None) -> list[Ranked]:
    """The posts of a group, best first (ties by id, so every site lists them alike); shown ones unless hidden.

    Each post stands with its best-scoring version: itself, or an alternative (ties: the post itself, then the
    earliest alternative). The ranking follows the fold (rankings.py): a page of a group of 100,000 posts costs
    its slice, and a vote since the last read moves one post, not a scoring of all of them.
    """
    kept = rankings_of(state).of(gid)
    end = len(kept.ranked) if hidden else kept.shown_count()
    return kept.ranked[:end if limit is None else min(end, limit)]


def rankings_of(state: DraftState) -> Rankings:
    """The state's rankings, made at the first ranking asked for and told of every change folded after it."""
    if state.rankings is None:
        state.rankings = Rankings(lambda gid: group_scores(state, gid), lambda gid, pids: post_scores(state, gid, pids),
                                  state.items)
        state.listeners.append(state.rankings.heard)
    return state.rankings


def thread(state: DraftState, pid: str, voter: str) -> list[tuple[int, Item]]:
    """A post and its replies that voter may see, depth first, each with its depth."""
    out, stack = [], [(0, pid)]
    while stack:
        depth, current = stack.pop()
        item = state.items[current]
        if not state.may_see(voter, item.group):
            continue
        out.append((depth, item))
        stack.extend((depth + 1, r) for r in reversed(state.replies.get(current, [])))
    return out
