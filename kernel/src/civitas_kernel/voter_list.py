"""The voter list record format: what the registry compiles and what counts are compiled against.

Canonical bytes: UTF-8, one line per registrant sorted by address, tab-separated columns as in
COLUMNS, after a header line naming them. Values never hold tabs or newlines (the register
refuses control characters), so no escaping is needed and the bytes are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civitas_kernel import native

COLUMNS = ("voter", "trust_level", "bar", "doubts", "neighbourhood", "name", "residence", "link", "note")
HEADER = "\t".join(COLUMNS)


@dataclass(frozen=True, slots=True)
class VoterEntry:
    voter: str
    trust_level: int
    bar: str = ""  # why the registrant is barred, in words; empty when not barred
    doubts: int = 0  # doubt signals from unbarred voters
    neighbourhood: str = ""  # e.g. the postal code; empty when the residence does not parse
    name: str = ""
    residence: str = ""
    link: str = ""
    note: str = ""

    def to_line(self) -> str:
        return "\t".join(str(getattr(self, c)) for c in COLUMNS)


class VoterList:
    """A compiled voter list, read lazily: a line is parsed only when its registrant is asked for.

    From its bytes (decode_voter_list), nothing is split until asked: a count reads the list in columns instead.
    """

    def __init__(self, entries: list[VoterEntry] | None = None, *, lines: dict[str, str] | None = None,
                 data: bytes | None = None) -> None:
        # lines: voter -> the rest of that voter's line (every column after the address)
        self._data = data
        self._by_voter = lines if lines is not None or data is not None else {
            e.voter: e.to_line().split("\t", 1)[1] for e in entries or []}

    @property
    def _lines(self) -> dict[str, str]:
        if self._by_voter is None:
            _, _, body = self._data.decode().partition("\n")
            self._by_voter = dict(line.split("\t", 1) for line in body.split("\n") if line)
        return self._by_voter

    def to_bytes(self) -> bytes:
        """The list's canonical bytes."""
        if self._data is None:
            lines = (f"{voter}\t{rest}" for voter, rest in sorted(self._lines.items()))
            self._data = ("\n".join([HEADER, *lines]) + "\n").encode()
        return self._data

    def columns(self) -> ListColumns:
        """Who is listed and their standing, in columns (see ListColumns)."""
        return ListColumns.of(self.to_bytes())

    def get(self, voter: str) -> VoterEntry | None:
        rest = self._lines.get(voter)
        return None if rest is None else _entry(voter, rest)

    def standing(self, voter: str) -> tuple[int, str, str] | None:
        """(trust level, bar, neighbourhood) alone: what deciding who may vote needs, without a whole entry."""
        rest = self._lines.get(voter)
        if rest is None:
            return None
        level, bar, _doubts, hood, _ = rest.split("\t", 4)
        return int(level), bar, hood

    @property
    def entries(self) -> list[VoterEntry]:
        return [_entry(voter, rest) for voter, rest in sorted(self._lines.items())]

    def __len__(self) -> int:
        return len(self._lines)


def _entry(voter: str, rest: str) -> VoterEntry:
    level, bar, doubts, hood, name, residence, link, note = rest.split("\t")
    return VoterEntry(voter, int(level), bar, int(doubts), hood, name, residence, link, note)


def encode_voter_list(entries: list[VoterEntry]) -> bytes:
    ordered = sorted(entries, key=lambda e: e.voter)
    return ("\n".join([HEADER, *(e.to_line() for e in ordered)]) + "\n").encode()


def decode_voter_list(data: bytes) -> VoterList:
    header = HEADER.encode()
    if not (data.startswith(header + b"\n") or data == header):  # not partition: it would copy the whole rest
        raise ValueError("not a civitas voter list (its header line is missing or different)")
    return VoterList(data=data)


@dataclass(frozen=True, eq=False)
class ListColumns:
    """A voter list's lines as spans of its bytes: each registrant's address, bar and neighbourhood, and levels.

    data is the list's bytes as they are (not copied); rows are in the list's (address) order.
    """

    data: bytes
    voter: tuple[np.ndarray, np.ndarray]
    trust_level: np.ndarray  # int64
    bar: tuple[np.ndarray, np.ndarray]
    neighbourhood: tuple[np.ndarray, np.ndarray]

    def __len__(self) -> int:
        return len(self.trust_level)

    @classmethod
    def of(cls, data: bytes) -> ListColumns:
        body = len(HEADER) + 1
        wanted = tuple(COLUMNS.index(name) for name in _READ)
        found = native.tsv_columns(data, body, len(COLUMNS), wanted) if len(data) >= body else None
        if found is None:
            raise ValueError(f"not a civitas voter list (a line without its {len(COLUMNS)} columns)")
        at = dict(zip(_READ, found))
        return cls(data, at["voter"], _whole_numbers(data, *at["trust_level"]), at["bar"], at["neighbourhood"])


_READ = ("voter", "trust_level", "bar", "neighbourhood")  # the columns a count reads


def _whole_numbers(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The decimal numbers in the spans, as int() reads them (which also says what is wrong with one that is not)."""
    u = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    width = int(lengths.max()) if len(lengths) else 0
    if len(lengths) and lengths.min() >= 1 and width <= 9:
        values = np.zeros(len(starts), dtype=np.int64)
        plain = np.ones(len(starts), dtype=bool)
        for k in range(width):
            inside = k < lengths
            digit = u[np.minimum(starts + k, len(u) - 1)].astype(np.int64) - 48
            plain &= ~inside | ((digit >= 0) & (digit <= 9))
            values = np.where(inside, values * 10 + digit, values)
        if plain.all():
            return values
    return np.array([int(data[s:e]) for s, e in zip(starts.tolist(), ends.tolist())], dtype=np.int64)
