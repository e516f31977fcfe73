"""The voter list record format: what the registry compiles and what counts are compiled against.

Canonical bytes: UTF-8, one line per registrant sorted by address, tab-separated columns as in
COLUMNS, after a header line naming them. Values never hold tabs or newlines (the register
refuses control characters), so no escaping is needed and the bytes are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """A compiled voter list, read lazily: a line is parsed only when its registrant is asked for."""

    def __init__(self, entries: list[VoterEntry] | None = None, *, lines: dict[str, str] | None = None) -> None:
        # lines: voter -> the rest of that voter's line (every column after the address)
        self._lines = lines if lines is not None else {e.voter: e.to_line().split("\t", 1)[1] for e in entries or []}

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
    text = data.decode()
    header, _, body = text.partition("\n")
    if header != HEADER:
        raise ValueError("not a civitas voter list (its header line is missing or different)")
    return VoterList(lines=dict(line.split("\t", 1) for line in body.split("\n") if line))
