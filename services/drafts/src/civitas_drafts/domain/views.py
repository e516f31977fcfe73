"""What a group shows: each post's score under the group's current weights, and the alternative it chooses."""

from __future__ import annotations

from dataclasses import dataclass

from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import score, shown, table_scores
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.votes import VoteTable


@dataclass(frozen=True)
class Ranked:
    post: Item  # the post (never an alternative)
    chosen: Item  # the post itself, or the alternative the group's votes prefer
    score: int  # the chosen one's score, in millionths

    @property
    def shown(self) -> bool:
        return shown(self.score)


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
    earliest alternative).
    """
    items = state.items
    best: dict[str, tuple[tuple[int, bool, int], str]] = {}
    for pid, value in group_scores(state, gid).items():
        item = items[pid]
        root = item.amends or pid
        key = (value, not item.amends, -item.order)
        current = best.get(root)
        if current is None or key > current[0]:
            best[root] = (key, pid)
    order = sorted((-key[0], root, pid) for root, (key, pid) in best.items() if hidden or shown(key[0]))
    return [Ranked(items[root], items[pid], -negative) for negative, root, pid in order[:limit]]


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
