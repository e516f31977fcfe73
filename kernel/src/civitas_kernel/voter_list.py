"""The voter list record format: what the registry compiles and what counts are compiled against.

Canonical bytes: UTF-8, one line per registrant sorted by address, tab-separated columns as in
COLUMNS, after a header line naming them. Values never hold tabs or newlines (the register
refuses control characters), so no escaping is needed and the bytes are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class VoterList:
    entries: list[VoterEntry] = field(default_factory=list)
    _by_voter: dict[str, VoterEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_voter = {e.voter: e for e in self.entries}

    def get(self, voter: str) -> VoterEntry | None:
        return self._by_voter.get(voter)

    def __len__(self) -> int:
        return len(self.entries)


def encode_voter_list(entries: list[VoterEntry]) -> bytes:
    ordered = sorted(entries, key=lambda e: e.voter)
    return ("\n".join([HEADER, *(e.to_line() for e in ordered)]) + "\n").encode()


def decode_voter_list(data: bytes) -> VoterList:
    lines = data.decode().split("\n")
    if not lines or lines[0] != HEADER:
        raise ValueError("not a civitas voter list (its header line is missing or different)")
    entries = []
    for line in lines[1:]:
        if not line:
            continue
        v, level, bar, doubts, hood, name, residence, link, note = line.split("\t")
        entries.append(VoterEntry(v, int(level), bar, int(doubts), hood, name, residence, link, note))
    return VoterList(entries)
