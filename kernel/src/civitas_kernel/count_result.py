"""The count record format, shared by the counter (writes it) and polls and the gateway (read it back): rankings,
nodes and the trace of one vote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

SECTION = "# poll "  # a poll's section starts with this line, then its name
NODE_HEADER = "node\treceive\thold\tcarry\tcast\tcandidate\tbar\tcycler"


class Reach(NamedTuple):
    """A vote that reaches a node: whose it is, the node it was cast for, and how many steps it took to arrive."""

    voter: str
    candidate: str
    steps: int


class Node(NamedTuple):
    node: str
    receive: int
    hold: int
    carry: int
    cast: bool
    candidate: str
    bar: str
    cycler: bool


@dataclass
class PollCount:
    name: str
    turnout: int
    nodes: list[Node] = field(default_factory=list)
    _by_node: dict[str, Node] = field(default_factory=dict, repr=False)
    _cast_for: dict[str, list[Node]] | None = field(default=None, repr=False)  # candidate -> its voters, on first use

    def __post_init__(self) -> None:
        self._by_node = {n.node: n for n in self.nodes}
        self._cast_for = None

    def node(self, name: str) -> Node | None:
        return self._by_node.get(name)

    @property
    def ranking(self) -> list[tuple[int, str, int]]:
        """(rank, candidate, receive count) of every node holding votes; equal counts share a rank."""
        holders = sorted((n for n in self.nodes if n.hold > 0), key=lambda n: (-n.receive, n.node))
        ranked, rank = [], 0
        for position, n in enumerate(holders, start=1):
            if position == 1 or n.receive != holders[position - 2].receive:
                rank = position
            ranked.append((rank, n.node, n.receive))
        return ranked

    def trace(self, voter: str) -> list[str]:
        """The path of a voter's vote, ending at the node that holds it; empty when the vote is not cast."""
        node = self.node(voter)
        if node is None or not node.cast:
            return []
        path, seen = [voter], {voter}
        while node is not None and node.cast and node.candidate not in seen:
            path.append(node.candidate)
            seen.add(node.candidate)
            node = self.node(node.candidate)
        return path


    def voters_for(self, candidate: str) -> list[str]:
        """Who casts a vote directly for `candidate`, by address."""
        return [n.node for n in self._votes_for(candidate) if n.cast]

    def uncast_for(self, candidate: str) -> list[tuple[str, str]]:
        """Who votes directly for `candidate` without the vote being cast, and why (the bar), by address."""
        return [(n.node, n.bar) for n in self._votes_for(candidate) if not n.cast]

    def _votes_for(self, candidate: str) -> list[Node]:
        if self._cast_for is None:
            votes_for: dict[str, list[Node]] = {}
            for n in self.nodes:  # nodes are in address order, so each list is too
                if n.candidate:
                    votes_for.setdefault(n.candidate, []).append(n)
            self._cast_for = votes_for
        return self._cast_for.get(candidate, [])

    def reaching(self, voter: str) -> list[Reach]:
        """Every cast vote that reaches `voter` (its own excluded), nearest first: the votes it receives.

        A vote reaches every node on its path up to the one holding it, so these are the voters whose cast
        links lead to `voter`; there are exactly as many as the node's receive count.
        """
        found, seen, frontier, steps = [], {voter}, [voter], 0
        while frontier:
            steps += 1
            following = []
            for node in frontier:
                for origin in self.voters_for(node):
                    if origin not in seen:
                        seen.add(origin)
                        found.append(Reach(origin, node, steps))
                        following.append(origin)
            frontier = following
        return found


@dataclass
class CountResult:
    polls: dict[str, PollCount] = field(default_factory=dict)


def parse_count(data: bytes) -> CountResult:
    result = CountResult()
    current: PollCount | None = None
    for line in data.decode().split("\n"):
        if not line or line == NODE_HEADER:
            continue
        if line.startswith(SECTION):
            current = PollCount(line[len(SECTION):], 0)
            result.polls[current.name] = current
        elif current is None:
            raise ValueError("not a civitas count (it does not start with a poll section)")
        elif line.startswith("turnout\t"):
            current.turnout = int(line.split("\t")[1])
        else:
            node, r, h, ca, c, candidate, bar, y = line.split("\t")
            current.nodes.append(Node(node, int(r), int(h), int(ca), c == "1", candidate, bar, y == "1"))
    for poll in result.polls.values():
        poll.__post_init__()
    return result
