"""Each group's ranking kept in step with the fold: derived whole once, then moved a post at a time.

A group's ranking costs a scoring of all its posts (a second at 100,000 posts and a million votes), but a vote
changes one post's score and a new post adds one: such changes re-score only that post and move it within the
sorted list. A new version of the group (weights, the default score) changes every score: the ranking is derived
whole again at the next read. The result is exactly the whole derivation's (tests/unit/test_rankings.py).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable
from typing import NamedTuple

from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import shown

INFINITE = float("inf")


class Ranked(NamedTuple):  # a tuple: a ranking makes one per post
    post: Item  # the post (never an alternative)
    chosen: Item  # the post itself, or the alternative the group's votes prefer
    score: int  # the chosen one's score, in millionths

    @property
    def shown(self) -> bool:
        return shown(self.score)


class GroupRanking:
    """One group's posts best first (ties by id), each with its chosen version; keys[i] = (-score, id) of ranked[i]."""

    def __init__(self, items: dict[str, Item], points: dict[str, int]) -> None:
        self.items, self.points = items, points  # points: every post and alternative posted or voted into the group
        self.alternatives: dict[str, list[str]] = {}  # post -> its alternatives in the group
        for pid in points:
            if items[pid].amends:
                self.alternatives.setdefault(items[pid].amends, []).append(pid)
        roots = [pid for pid in points if not items[pid].amends]
        roots += [root for root in self.alternatives if root not in points]
        self.value: dict[str, int] = {}
        listed: list[tuple[tuple[int, str], Ranked]] = []
        for root in roots:
            ranked = self._ranked(root)
            self.value[root] = ranked.score
            listed.append(((-ranked.score, root), ranked))
        listed.sort(key=lambda pair: pair[0])
        self.keys = [key for key, _ in listed]
        self.ranked = [ranked for _, ranked in listed]

    def _ranked(self, root: str) -> Ranked:
        """A post's chosen version: the best alternative if it scores above the post (ties: the earliest), else itself."""
        best, best_points = root, self.points.get(root, -INFINITE)
        for pid in self.alternatives.get(root, ()):
            points = self.points[pid]
            if points > best_points or (best != root and points == best_points
                                        and self.items[pid].order < self.items[best].order):
                best, best_points = pid, points
        return Ranked(self.items[root], self.items[best], self.points[best])

    def shown_count(self) -> int:
        """How many lead the ranking shown (score > 0, so key < (0,))."""
        return bisect_left(self.keys, (0,))

    def rescore(self, pid: str, points: int) -> None:
        """Post or alternative pid (new to the group, or not) now scores points: move its post where it now ranks."""
        item = self.items[pid]
        root = item.amends or pid
        if pid not in self.points and item.amends:
            self.alternatives.setdefault(root, []).append(pid)
        self.points[pid] = points
        if root in self.value:
            at = bisect_left(self.keys, (-self.value[root], root))
            del self.keys[at], self.ranked[at]
        ranked = self._ranked(root)
        self.value[root] = ranked.score
        key = (-ranked.score, root)
        at = bisect_left(self.keys, key)
        self.keys.insert(at, key)
        self.ranked.insert(at, ranked)


class Rankings:
    """Every group's ranking of one folded state, told of each change as it is folded (DraftState.listeners)."""

    def __init__(self, derive: Callable[[str], dict[str, int]], rescore: Callable[[str, list[str]], dict[str, int]],
                 items: dict[str, Item]) -> None:
        self.derive, self.rescore, self.items = derive, rescore, items  # derive: every score of a group
        self.kept: dict[str, GroupRanking] = {}
        self.moved: dict[str, dict[str, None]] = {}  # group -> posts whose scores may have moved since

    def heard(self, what: str, gid: str, post: str = "", paragraph: str = "", voter: str = "") -> None:
        if gid not in self.kept:
            return
        if what == "group":
            del self.kept[gid]  # weights or the default moved: every score with them
            self.moved.pop(gid, None)
        elif post and (not paragraph or post not in self.kept[gid].points):
            # a paragraph's votes never move its post's score, but the first brings the post into the group
            self.moved.setdefault(gid, {})[post] = None

    def of(self, gid: str) -> GroupRanking:
        kept = self.kept.get(gid)
        if kept is None:
            kept = self.kept[gid] = GroupRanking(self.items, self.derive(gid))
            self.moved.pop(gid, None)
            return kept
        moved = self.moved.pop(gid, None)
        if moved:
            for pid, points in self.rescore(gid, list(moved)).items():
                kept.rescore(pid, points)
        return kept
