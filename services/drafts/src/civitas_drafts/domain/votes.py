"""Each member's sum of votes on each post of one group, kept in columns so a group is scored at once."""

from __future__ import annotations

from array import array

import numpy as np

KEY_SHIFT = 32  # a row's key: post number << 32 | voter number


class VoteTable:
    """Rows of (post number, voter number, sum of that voter's votes on that post, in millionths)."""

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}
        self._by_post: dict[int, list[int]] = {}
        self._by_voter: dict[int, list[int]] = {}
        self.posts, self.voters, self.sums = array("q"), array("q"), array("q")

    def __len__(self) -> int:
        return len(self.sums)

    def add(self, post: int, voter: int, value: int) -> None:
        key = post << KEY_SHIFT | voter
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = len(self.sums)
            self._by_post.setdefault(post, []).append(len(self.sums))
            self._by_voter.setdefault(voter, []).append(len(self.sums))
            self.posts.append(post)
            self.voters.append(voter)
            self.sums.append(value)
        else:
            self.sums[row] += value

    def sum_of(self, post: int, voter: int) -> int:
        row = self._rows.get(post << KEY_SHIFT | voter)
        return 0 if row is None else self.sums[row]

    def of_post(self, post: int) -> dict[int, int]:
        """voter number -> sum, for one post."""
        return {self.voters[row]: self.sums[row] for row in self._by_post.get(post, ())}

    def posts_of(self, voter: int) -> list[int]:
        """The post numbers a voter voted on."""
        return [self.posts[row] for row in self._by_voter.get(voter, ())]

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the three columns, as int64 arrays."""
        return (np.array(self.posts, dtype=np.int64), np.array(self.voters, dtype=np.int64),
                np.array(self.sums, dtype=np.int64))

    def rows(self):
        return zip(self.posts, self.voters, self.sums)
