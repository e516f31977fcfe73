"""What a group shows: each post's score under the group's current weights, and the alternative it chooses."""

from __future__ import annotations

from typing import NamedTuple

from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import score, shown, table_scores
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.votes import VoteTable


INFINITE = float("inf")


class Ranked(NamedTuple):  # a tuple: a ranking makes one per post
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
    earliest alternative). The whole ranking is derived once per revision of the group: a page of a group of
    100,000 posts costs its slice, not a scoring.
    """
    ranked: list[Ranked] = state.remembered("ranking", gid, lambda: _ranking(state, gid))  # type: ignore[assignment]
    end = len(ranked) if hidden else _shown_count(ranked)
    return ranked[:end if limit is None else min(end, limit)]


def _shown_count(ranked: list[Ranked]) -> int:
    """How many lead the ranking shown: best first, so the shown ones (score > 0) come first."""
    low, high = 0, len(ranked)
    while low < high:
        middle = (low + high) // 2
        if shown(ranked[middle].score):
            low = middle + 1
        else:
            high = middle
    return low


def _ranking(state: DraftState, gid: str) -> list[Ranked]:
    items, points = state.items, group_scores(state, gid)
    chosen: dict[str, str] = {}  # post -> its best alternative, where one beats it
    for pid in [pid for pid in points if items[pid].amends]:
        root = items[pid].amends
        best = chosen.get(root, root)
        if points[pid] > points.get(best, points.get(root, -INFINITE)) or (
                best != root and points[pid] == points[best] and items[pid].order < items[best].order):
            chosen[root] = pid
    roots = [pid for pid in points if not items[pid].amends] + [r for r in chosen if r not in points]
    value = {root: points[chosen.get(root, root)] for root in roots}
    roots.sort()  # then a stable sort by score, so equal scores stay in id order
    roots.sort(key=value.__getitem__, reverse=True)
    return [Ranked(items[root], items[chosen.get(root, root)], value[root]) for root in roots]


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
