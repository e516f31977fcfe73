"""The score rule, exactly.

The score of post X in group G is G's current default score plus, over the members m of G whose current
weight is above 0, weight(m) x clamp(sum of m's votes on X in G, -1, +1). A member whose current weight is
negative is banned: their votes count for nothing, and a post they wrote scores their weight in addition.
X is shown in G if its score is above 0. Votes on a paragraph count toward that paragraph's score only.

Votes are summed per member as exact integers (millionths of a vote), so no order of votes changes a score;
weights and the default are read when a score is asked for, so a change applies at once to every post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from civitas_drafts.domain.numbers import UNIT
from civitas_drafts.domain.votes import VoteTable

Sums = Mapping[str, int]  # member -> the sum of their votes on one post or paragraph, in millionths


def clamp(total: int) -> int:
    return UNIT if total > UNIT else -UNIT if total < -UNIT else total


def score(default: int, weights: Mapping[str, int], sums: Sums, author_weight: int | None = None) -> int:
    """One post's (or paragraph's: author_weight None) score in a group, in millionths."""
    total = default
    for voter, votes in sums.items():
        weight = weights.get(voter)
        if weight is not None and weight > 0:
            total += weight * clamp(votes)
    if author_weight is not None and author_weight < 0:
        total += author_weight * UNIT
    return total


def shown(points: int) -> bool:
    return points > 0


INT64_ROOM = 2**62  # sums below this cannot overflow int64 on the way


def table_scores(
    default: int,
    weights: Mapping[int, int],
    table: VoteTable,
    posts: Sequence[int],
    authors: Sequence[int],
) -> list[int]:
    """The score of each post of a group at once (voters and posts by number), exactly, over int64 columns.

    weights: voter number -> current weight of each member; posts and authors: the posts to score and the
    voter number of each one's author. Falls back to Python integers where int64 could overflow.
    """
    positive = sum(w for w in weights.values() if w > 0)
    worst = abs(default) + (positive + max((-w for w in weights.values()), default=0)) * UNIT
    if worst >= INT64_ROOM:
        return _python_scores(default, weights, table, posts, authors)
    post_column, voter_column, sum_column = table.columns()
    size = max([len(weights) and max(weights), *authors, int(voter_column.max(initial=0))]) + 1
    weight = np.zeros(size, dtype=np.int64)
    weight[list(weights)] = list(weights.values())
    voting = np.maximum(weight, 0)[voter_column]
    totals = np.zeros(max([*posts, int(post_column.max(initial=0))]) + 1, dtype=np.int64)
    np.add.at(totals, post_column, voting * np.clip(sum_column, -UNIT, UNIT))
    banned = np.minimum(weight, 0) * UNIT
    result = default + totals[np.asarray(posts, dtype=np.int64)] + banned[np.asarray(authors, dtype=np.int64)]
    return result.tolist()


def _python_scores(default, weights, table, posts, authors) -> list[int]:
    by_post: dict[int, dict[int, int]] = {}
    for post, voter, sum_ in table.rows():
        by_post.setdefault(post, {})[voter] = sum_
    return [score(default, weights, by_post.get(p, {}), weights.get(a)) for p, a in zip(posts, authors)]
