"""What the read routes answer: groups, members, and posts (flat or threaded) with each paragraph's score and the
post's alternatives, all as one voter may see them."""

from __future__ import annotations

from bisect import bisect_left
from itertools import islice

from civitas_drafts.domain.errors import PostNotFound
from civitas_drafts.domain.groups import Group
from civitas_drafts.domain.numbers import format_micro
from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import score, shown
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.views import Ranked, post_scores, ranking, rankings_of
from civitas_drafts.refs import group_ref, post_ref
from civitas_drafts.render import group_data, members_text

MAX_POSTS = 1_000  # posts in one answer, replies included
MAX_SUBJECT_GROUPS = 100  # groups named for one subject in one answer: the first made are the ones that count


def groups(state: DraftState, voter: str) -> list[dict]:
    return [group_data(state.groups[gid]) for gid in state.visible_groups(voter)]


def group(state: DraftState, voter: str, ref: str) -> dict:
    return group_data(state.group(group_ref(state, voter, ref)))


def subject_groups(state: DraftState, voter: str, subject: str) -> list[dict]:
    """The groups made for a subject that voter may see, the first made first (a page trusts only the first made by
    the subject's owner: anyone may name any subject)."""
    found = (gid for gid in state.by_subject.get(subject, []) if state.may_see(voter, gid))
    return [group_data(state.groups[gid]) for gid in islice(found, MAX_SUBJECT_GROUPS)]


def members(state: DraftState, voter: str, ref: str) -> dict:
    gid = group_ref(state, voter, ref)
    return {"group": gid, "members": members_text(state.group(gid), state.moved)[1]}


class PostViews:
    """Posts of one group as a voter sees them, each version scored under the group's current weights."""

    def __init__(self, state: DraftState, voter: str, gid: str, shown_posts: list[Ranked]) -> None:
        self.state, self.voter, self.gid = state, voter, gid
        self.group: Group = state.group(gid)
        self.weights = {v: m.weight for v, m in self.group.members.items()}
        # one scoring of just the versions shown: the whole group's scores cost a second at 100,000 posts
        self.points = post_scores(state, gid, [v.id for r in shown_posts for v in self._versions(r.post)])

    def _versions(self, post: Item) -> list[Item]:
        if not self.state.may_see(self.voter, post.group):
            return [post]
        return [post] + [self.state.items[a] for a in post.alternatives]

    def post(self, ranked: Ranked) -> dict:
        """A post as its group shows it: the version its votes choose, and every version with its paragraphs."""
        state, post = self.state, ranked.post
        replies = [r for r in state.replies.get(post.id, []) if state.may_see(self.voter, state.items[r].group)]
        return {"post": post.id, "group": post.group, "author": post.author, "nickname": self._nickname(post.author),
                "author_moved_to": state.moved_to(post.author),
                "posted_at_us": post.posted_at_us, "reply_to": post.reply_to or None,
                "reply_to_paragraph": post.reply_to_paragraph or None, "anchor": _anchor(post),
                "score": format_micro(ranked.score),
                "shown": ranked.shown, "chosen": ranked.chosen.id, "replies": len(replies),
                "versions": [self._version(v) for v in self._versions(post)]}

    def _version(self, item: Item) -> dict:
        state, default = self.state, self.group.moderation_default_score
        votes = state.paragraph_votes.get(self.gid, {})
        value = self.points.get(item.id, default)
        entries = [{"paragraph": e.paragraph, "status": e.status, "text": state.paragraphs[e.paragraph],
                    "score": format_micro(score(default, self.weights, votes.get((item.id, e.paragraph), {}))),
                    "replaces": e.replaces or None, "replaced_by": e.replaced_by or None} for e in item.entries]
        return {"id": item.id, "author": item.author, "nickname": self._nickname(item.author),
                "amends": item.amends or None, "score": format_micro(value), "shown": shown(value),
                "revisions": item.revisions, "entries": entries}

    def _nickname(self, voter: str) -> str:
        member = self.group.members.get(voter)
        return member.nickname if member else voter


def _anchor(post: Item) -> dict | None:
    a = post.anchor
    return None if a is None else {"file": a.file, "hunk": a.hunk, "revision": a.revision}


def anchored(state: DraftState, voter: str, ref: str, *, limit: int) -> dict:
    """A group's posts that answer a place in a diff (a file, a hunk, a revision), in the order they were posted, each
    as the group shows it (its chosen version, its score, whether its votes hide it); at most limit."""
    gid = group_ref(state, voter, ref)
    limit = min(limit, MAX_POSTS)
    pids = state.anchored.get(gid, [])
    listed = [state.items[p] for p in pids[:limit]]
    versions = [v for post in listed for v in (post.id, *post.alternatives)]
    points = post_scores(state, gid, versions)
    ranked = []
    for post in listed:
        best = max((post.id, *post.alternatives), key=lambda v: (points[v], v == post.id))
        ranked.append(Ranked(post, state.items[best], points[best]))
    views = PostViews(state, voter, gid, ranked)
    return {"group": gid, "posts": [views.post(r) for r in ranked], "truncated": len(pids) > limit}


def posts(state: DraftState, voter: str, ref: str, *, threaded: bool, hidden: bool, limit: int) -> dict:
    """A group's posts best first. Flat: every post, replies too. Threaded: the posts that answer none listed, each
    with its listed replies beneath it (best first), depth first; at most MAX_POSTS in all."""
    gid = group_ref(state, voter, ref)
    limit = min(limit, MAX_POSTS)
    answer: dict = {"group": gid, "view": "threaded" if threaded else "flat", "truncated": False}
    if not threaded:
        listed = ranking(state, gid, hidden=hidden, limit=limit + 1)
        answer["truncated"], listed = len(listed) > limit, listed[:limit]
        views = PostViews(state, voter, gid, listed)
        answer["posts"] = [views.post(r) for r in listed]
        return answer
    kept = rankings_of(state).of(gid)  # the ranking as the fold keeps it: nothing here walks the whole group
    end = len(kept.ranked) if hidden else kept.shown_count()

    def listed(pid: str) -> bool:
        value = kept.value.get(pid)
        return value is not None and (hidden or shown(value))

    def rank(pid: str) -> tuple[int, str]:
        return -kept.value[pid], pid  # its place in the ranking

    def ranked_of(pid: str) -> Ranked:
        return kept.ranked[bisect_left(kept.keys, rank(pid))]

    roots = (r for r in islice(kept.ranked, end) if not (r.post.reply_to and listed(r.post.reply_to)))
    # the threads' shape first (depth first, without recursion: a chain of replies can be long), then one scoring
    order: list[tuple[Ranked, list]] = []
    tops: list[list] = []
    stack: list[tuple[Ranked, list]] = []
    for root in roots:
        if len(tops) == limit or len(order) >= MAX_POSTS:
            answer["truncated"] = True
            break
        tops.append(thread := [])
        stack.append((root, thread))
        while stack:
            ranked, siblings = stack.pop()
            if len(order) >= MAX_POSTS:
                answer["truncated"] = True
                break
            children: list = []
            order.append((ranked, children))
            siblings.append(len(order) - 1)
            replies = sorted((r for r in state.replies.get(ranked.post.id, []) if listed(r)), key=rank)
            stack.extend((ranked_of(r), children) for r in reversed(replies))
    views = PostViews(state, voter, gid, [ranked for ranked, _ in order])
    rendered = [views.post(ranked) for ranked, _ in order]
    for (_, children), data in zip(order, rendered):
        data["thread"] = [rendered[n] for n in children]
    answer["posts"] = [rendered[n] for thread in tops for n in thread]
    return answer


def post(state: DraftState, voter: str, ref: str, group_ref_: str | None) -> dict:
    """One post (or the post an alternative belongs to) in its group or another it was voted into, with its replies."""
    item, _ = post_ref(state, voter, ref)
    root = state.items[item.amends] if item.amends else item
    gid = group_ref(state, voter, group_ref_) if group_ref_ else root.group
    if root.id not in state.in_group.get(gid, {}):
        raise PostNotFound(f"post {root.id[:12]} is not in {state.group(gid).name}; vote it into that group first")
    versions = [root.id, *root.alternatives]
    points = post_scores(state, gid, versions)
    best = max(versions, key=lambda v: (points[v], v == root.id))  # ties: the post, then the earliest alternative
    data = PostViews(state, voter, gid, []).post(Ranked(root, state.items[best], points[best]))
    data["group"] = gid
    data["thread"] = [r for r in state.replies.get(root.id, []) if state.may_see(voter, state.items[r].group)]
    return data
