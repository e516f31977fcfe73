"""What a group shows: each post's score under the group's current weights, and the alternative it chooses."""

from __future__ import annotations

from dataclasses import dataclass

from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import score, scores, shown
from civitas_drafts.domain.state import DraftState


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
    weights = {voter: m.weight for voter, m in group.members.items()}
    posts = state.in_group.get(gid, {})
    authors = {pid: state.items[pid].author for pid in posts}
    return scores(group.moderation_default_score, weights, state.post_votes.get(gid, {}), authors, posts)


def paragraph_scores(state: DraftState, gid: str, pid: str) -> dict[str, int]:
    """The score in gid of each paragraph of a post: only the votes on that paragraph count."""
    group = state.group(gid)
    weights = {voter: m.weight for voter, m in group.members.items()}
    votes = state.paragraph_votes.get(gid, {})
    return {e.paragraph: score(group.moderation_default_score, weights, votes.get((pid, e.paragraph), {}))
            for e in state.item(pid).entries}


def ranking(state: DraftState, gid: str, *, hidden: bool = False) -> list[Ranked]:
    """The posts of a group, best first (ties by id, so every site lists them alike); shown ones unless hidden."""
    points = group_scores(state, gid)
    best: dict[str, tuple[int, bool, int, Item]] = {}
    for pid, value in points.items():
        item = state.items[pid]
        root = item.amends or item.id
        key = (value, not item.amends, -item.order, item)  # ties: the post itself, then the earliest alternative
        if root not in best or key[:3] > best[root][:3]:
            best[root] = key
    ranked = [Ranked(state.items[root], key[3], key[0]) for root, key in best.items()]
    ranked.sort(key=lambda r: (-r.score, r.post.id))
    return ranked if hidden else [r for r in ranked if r.shown]


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
