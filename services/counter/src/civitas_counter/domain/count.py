"""Compiling a count: every poll's votes in a cut, cast or barred by the voter list, traced through the cascade.

The result's canonical bytes (UTF-8 text) hold one section per poll, in name order:

    # poll NAME
    turnout<TAB>N
    node<TAB>receive<TAB>hold<TAB>carry<TAB>cast<TAB>candidate<TAB>bar<TAB>cycler
    one line per node (every voter who votes and every candidate), sorted by node

`cast` and `cycler` are 0 or 1; `candidate` and `bar` are empty when there is none.

A million votes are compiled in columns, without a Python object per vote: the cut's bodies are read in bulk
(civitas_kernel.fields), every ballot's address is numbered once in address order (civitas_kernel.interning)
and found in the voter list, which is in address order too, by one merge; the last ballot of each voter in each
poll is found by sorting, bars are settled over arrays, and the lines are laid out by civitas_kernel.tsv.
`count_plainly` (plain.py) is the same rule one vote at a time, kept as the reference the tests hold this to.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from civitas_kernel import native, tsv
from civitas_kernel.count_result import NODE_HEADER, SECTION
from civitas_kernel.cut import Columns, columns_of, distinct, last_of_each
from civitas_kernel.events import RecordedEvent, decode_body
from civitas_kernel.fields import BodyReader
from civitas_kernel.interning import holds_byte, intern_spans
from civitas_kernel.voter_list import ListColumns, VoterList
from civitas_schema.v1 import poll_pb2, vote_pb2

from civitas_counter.domain.cascade import count_cascade

POLL_CONFIGURED = poll_pb2.PollConfigured.DESCRIPTOR.full_name
VOTE_CAST = vote_pb2.VoteCast.DESCRIPTOR.full_name
VOTE_WITHDRAWN = vote_pb2.VoteWithdrawn.DESCRIPTOR.full_name
NOT_LISTED = "not on the voter list"

# Why a node's vote is not cast, as a code per node: the words of each, or (LISTED_BAR) the list's own words.
PROPOSAL, ABSENT, LISTED_BAR, BELOW, OUTSIDE, CAST = range(6)


def compile_count(events: Iterable[RecordedEvent] | Columns, voter_list: VoterList) -> bytes:
    """Every poll of the cut, counted against the voter list: canonical bytes (see the module's doc).

    events: the cut's events one by one, or a cut that reads itself in columns (civitas_kernel.cut.Cut).
    """
    cut = columns_of(events)
    polls = configured_polls(cut)
    if not polls:
        return b""
    ballots = _Ballots(cut, voter_list.columns(), list(polls.values()))
    return b"".join(ballots.section(polls[name]) for name in sorted(polls))


def configured_polls(cut: Columns) -> dict[str, poll_pb2.PollConfigured]:
    """The polls in force at the end of the cut (each one's last configuration), decoded one by one: they are few."""
    polls: dict[str, poll_pb2.PollConfigured] = {}
    for i in cut.where(POLL_CONFIGURED).tolist():
        m = decode_body(POLL_CONFIGURED, cut.body(i))
        polls[m.name] = m
    return polls


class _Ballots:
    """The standing votes of every poll, by number: each voter's last ballot in a poll decides (a withdrawal: none)."""

    def __init__(self, cut: Columns, listing: ListColumns, polls: list[poll_pb2.PollConfigured]) -> None:
        rows = cut.where(VOTE_CAST, VOTE_WITHDRAWN)
        reader = BodyReader(cut)
        (poll_start, poll_end), voter, candidate = reader.fields(rows, ("poll", "voter", "candidate"))
        cast = cut.is_type(rows, VOTE_CAST)
        data, words = reader.data()
        named_polls = intern_spans(data, words, poll_start, poll_end)
        self.poll_names = {name: i for i, name in enumerate(named_polls.texts())}
        self.words = _Words(polls, distinct(listing.trust_level))
        voted_for = np.flatnonzero(cast)
        # The ballots' addresses numbered in address order; each one then found in the list (also in address order).
        self.addresses = intern_spans(data, words, np.concatenate([voter[0], candidate[0][voted_for]]),
                                      np.concatenate([voter[1], candidate[1][voted_for]]))
        a = self.addresses
        self.row = native.rows_in_sorted(data, a.starts, a.ends, listing.data, *listing.voter)  # -1: not listed
        n, b = len(self.addresses), len(rows)
        voter_id = self.addresses.ids[:b].astype(np.int64)
        chosen = np.full(b, -1, dtype=np.int64)
        chosen[voted_for] = self.addresses.ids[b:]
        poll_id = named_polls.ids.astype(np.int64)
        last = last_of_each(poll_id * max(n, 1) + voter_id, max(n, 1) * max(len(named_polls), 1))
        standing = last[cast[last]]
        self.poll_of, self.voter, self.chosen = poll_id[standing], voter_id[standing], chosen[standing]
        self.listing = listing
        self.is_voter = holds_byte(words, a.starts, a.ends, ord("@"))  # a voter's address, not a proposal's name
        self.buffer = np.frombuffer(data, dtype=np.uint8)
        self.position = np.full(n, -1, dtype=np.int64)  # each address's node in the poll being laid out

    def section(self, poll: poll_pb2.PollConfigured) -> bytes:
        mine = self.poll_of == self.poll_names[poll.name] if poll.name in self.poll_names else np.zeros(0, bool)
        voters, chosen = self.voter[mine], self.chosen[mine]
        nodes = distinct(np.concatenate([voters, chosen]))
        self.position[nodes] = np.arange(len(nodes))
        at_voter, at_chosen = self.position[voters], self.position[chosen]
        why, level = self._bars(nodes, poll)
        candidate = np.full(len(nodes), -1, dtype=np.int64)
        candidate[at_voter] = at_chosen
        cast = np.zeros(len(nodes), dtype=bool)
        cast[at_voter] = (why[at_voter] == CAST) | (why[at_voter] == PROPOSAL)
        cascade = count_cascade(len(nodes), candidate, cast)
        a, u = self.addresses, self.buffer
        named = nodes[np.maximum(candidate, 0)]
        head = f"{SECTION}{poll.name}\nturnout\t{cascade.turnout}\n{NODE_HEADER}\n".encode()
        return tsv.rows([
            tsv.Spans(u, a.starts[nodes], a.ends[nodes]),
            tsv.numbers(cascade.receive), tsv.numbers(cascade.hold), tsv.numbers(cascade.carry),
            self._flags(cast),
            tsv.Spans(u, np.where(candidate >= 0, a.starts[named], 0), np.where(candidate >= 0, a.ends[named], 0)),
            self._bar_column(why, level, nodes, poll),
            self._flags(cascade.cycler),
        ], header=head)

    def _flags(self, flags: np.ndarray) -> tsv.Spans:
        """0 or 1 per row (spans of the words' buffer)."""
        spans = np.array([self.words.at("0"), self.words.at("1")], dtype=np.int64)
        codes = flags.astype(np.int64)
        return tsv.Spans(self.words.buffer, spans[codes, 0], spans[codes, 1])

    def _bars(self, nodes: np.ndarray, poll: poll_pb2.PollConfigured) -> tuple[np.ndarray, np.ndarray]:
        """Why each node's vote is not cast in this poll (a code above), and its trust level where listed."""
        listing, row = self.listing, self.row[nodes]
        listed = row >= 0
        why = np.full(len(nodes), CAST, dtype=np.int64)
        level = np.zeros(len(nodes), dtype=np.int64)
        if len(listing):
            at = np.maximum(row, 0)
            level = np.where(listed, listing.trust_level[at], 0)
            if poll.district:
                hood = (listing.neighbourhood[0][at], listing.neighbourhood[1][at])
                inside = _starts_with(np.frombuffer(listing.data, dtype=np.uint8), hood, poll.district.encode())
                why[~inside] = OUTSIDE
            why[level < poll.min_trust] = BELOW
            why[listing.bar[1][at] > listing.bar[0][at]] = LISTED_BAR
        why[~listed] = ABSENT
        why[~self.is_voter[nodes]] = PROPOSAL
        return why, level

    def _bar_column(self, why: np.ndarray, level: np.ndarray, nodes: np.ndarray, poll) -> tsv.Spans:
        """The bar column: fixed words, or the list's own words."""
        words = self.words
        starts, ends = np.full(len(nodes), words.at("")[0]), np.full(len(nodes), words.at("")[1])
        for kind, text in ((ABSENT, NOT_LISTED), (OUTSIDE, words.outside(poll))):
            starts[why == kind], ends[why == kind] = words.at(text)
        below = why == BELOW
        for lv in distinct(level[below]).tolist():
            starts[below & (level == lv)], ends[below & (level == lv)] = words.at(words.below(poll, lv))
        own = why == LISTED_BAR
        at = self.row[nodes][own]
        # The list's own words of the few barred: gathered after the fixed words, so the column is one small buffer.
        bar_starts, bar_ends = self.listing.bar[0][at], self.listing.bar[1][at]
        lengths = bar_ends - bar_starts
        ends[own] = len(words.data) + np.cumsum(lengths)
        starts[own] = ends[own] - lengths
        buffer = words.data + native.gather_spans(self.listing.data, bar_starts, bar_ends)
        return tsv.Spans(np.frombuffer(buffer, dtype=np.uint8), starts, ends)


class _Words:
    """The few words bars and flags are written with, in a buffer of their own."""

    def __init__(self, polls: list[poll_pb2.PollConfigured], levels: np.ndarray) -> None:
        texts = {"", "0", "1", NOT_LISTED}
        for poll in polls:
            texts.add(self.outside(poll))
            texts.update(self.below(poll, lv) for lv in levels.tolist() if lv < poll.min_trust)
        self.spans: dict[str, tuple[int, int]] = {}
        parts, at = [], 0
        for text in sorted(texts):
            encoded = text.encode()
            self.spans[text] = (at, at + len(encoded))
            parts.append(encoded)
            at += len(encoded)
        self.data = b"".join(parts)
        self.buffer = np.frombuffer(self.data, dtype=np.uint8)

    @staticmethod
    def outside(poll) -> str:
        return f"residence outside the district {poll.district}"

    @staticmethod
    def below(poll, level: int) -> str:
        return f"trust level {level} below the poll's minimum {poll.min_trust}"

    def at(self, text: str) -> tuple[int, int]:
        return self.spans[text]


def _starts_with(u: np.ndarray, spans: tuple[np.ndarray, np.ndarray], prefix: bytes) -> np.ndarray:
    """Per span: does it start with prefix? (For UTF-8, a byte prefix that is whole text is a text prefix.)"""
    start, stop = spans
    ok = stop - start >= len(prefix)
    if prefix:
        window = u[np.minimum(start[:, None] + np.arange(len(prefix)), u.size - 1)]
        ok &= (window == np.frombuffer(prefix, dtype=np.uint8)).all(axis=1)
    return ok
