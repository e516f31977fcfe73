"""The score rule, exactly.

The score of post X in group G is G's current default score plus, over the members m of G whose current
weight is above 0, weight(m) x clamp(sum of m's votes on X in G, -1, +1). A member whose current weight is
negative is banned: their votes count for nothing, and a post they wrote scores their weight in addition.
X is shown in G if its score is above 0. Votes on a paragraph count toward that paragraph's score only.

Votes are summed per member as exact integers (millionths of a vote), so no order of votes changes a score;
weights and the default are read when a score is asked for, so a change applies at once to every post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from civitas_drafts.domain.numbers import UNIT

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


def scores(
    default: int,
    weights: Mapping[str, int],
    votes: Mapping[str, Sums],
    authors: Mapping[str, str],
    posts: Iterable[str],
) -> dict[str, int]:
    """The score of each post in a group at once: votes by post, authors by post; linear in the votes."""
    voting = {voter: weight for voter, weight in weights.items() if weight > 0}
    banned = {voter: weight * UNIT for voter, weight in weights.items() if weight < 0}
    result = {}
    for post in posts:
        total = default
        sums = votes.get(post)
        if sums:
            for voter, sum_ in sums.items():
                weight = voting.get(voter)
                if weight:
                    total += weight * (UNIT if sum_ > UNIT else -UNIT if sum_ < -UNIT else sum_)
        result[post] = total + banned.get(authors.get(post, ""), 0)
    return result
