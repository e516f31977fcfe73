"""Compiling a voter list from a cut of the register: pure, and byte-reproducible from the same cut.

The fold is the hot path (millions of trust events), so it does not go through RegisterState or
make a Python object per event: the cut comes in columns (civitas_kernel.cut), the bodies' fields are
read together (civitas_kernel.fields), every address becomes its rank in address order
(civitas_kernel.interning), and numpy settles which trust edges, doubts and attributes
stand at the end (the last change of each ordered pair, or of each voter's attribute, wins). Only
the order within a stream matters, and each of the three streams is folded independently, so any
interleaving of the streams in the cut gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from itertools import repeat

import numpy as np

from civitas_kernel.collector import collector_paused
from civitas_kernel.cut import Columns, columns_of, last_of_each
from civitas_kernel.events import RecordedEvent, decode_body
from civitas_kernel.fields import BodyReader
from civitas_kernel import native, tsv
from civitas_kernel.interning import Interned, intern_spans
from civitas_kernel.voter_list import COLUMNS, HEADER

from civitas_registry.domain import register as r
from civitas_registry.domain.lineage import VOTER_MOVED_IN, VOTER_MOVED_OUT
from civitas_registry.domain.moved import moved_bars
from civitas_registry.domain.neighbourhood import code_and_bar
from civitas_registry.domain.trust import doubt_counts, edges_in_range, trust_levels
from civitas_registry.domain.values import ATTRIBUTES


@dataclass(frozen=True)
class ListConfig:
    """The site's rules for compiling voter lists (recorded with every list, so audits use the same)."""

    pre_registration_min: int = 0  # trust level a voter needs to `set --alter` another's attributes
    range_prefix: int | None = None  # trust counts only between postal codes sharing this many leading characters

    def __post_init__(self) -> None:
        if isinstance(self.pre_registration_min, bool) or not isinstance(self.pre_registration_min, int):
            raise ValueError(f"pre_registration_min must be a whole number, not {self.pre_registration_min!r}")
        if self.range_prefix is not None and (
            isinstance(self.range_prefix, bool) or not isinstance(self.range_prefix, int) or self.range_prefix < 1
        ):
            raise ValueError(f"range_prefix must be a positive whole number or null, not {self.range_prefix!r}")

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> ListConfig:
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise ValueError("a list configuration is a JSON object")
        unknown = set(fields) - {"pre_registration_min", "range_prefix"}
        if unknown:
            raise ValueError(f"unknown list configuration fields: {', '.join(sorted(unknown))}")
        return cls(**fields)


def list_config_of(rules) -> ListConfig:
    """The voter lists' part of the site's rules in force (civitas_kernel.site_rules.SiteRules)."""
    return ListConfig(pre_registration_min=rules.pre_registration_min, range_prefix=rules.trust_range_prefix or None)


@dataclass
class FoldedCut:
    """The register at a cut, in the shape the compiler needs: voters numbered in address order."""

    registrants: Interned  # every registrant (anyone any event names), as spans in address order; ids index it
    values: dict[str, tuple[np.ndarray, np.ndarray]]  # name, residence, link, note -> each voter's value, as spans
    data: bytes  # what the spans point into
    primary: np.ndarray  # int32 per voter: primary edges from the registrar
    trust_src: np.ndarray  # standing trust edges, by voter id (int32)
    trust_dst: np.ndarray
    doubt_src: np.ndarray  # standing doubts (doubter, doubted), by voter id (int32)
    doubt_dst: np.ndarray
    moved: dict[str, str] = field(default_factory=dict)  # voter -> the site they moved to (counted there, not here)

    @property
    def voters(self) -> list[str]:
        """Every registrant, sorted; a voter's id is its index here."""
        return self.registrants.texts()

    def texts(self, attribute: str) -> list[str]:
        """Each voter's value of the attribute ("" when none)."""
        data = self.data
        return [data[s:e].decode() for s, e in zip(*(a.tolist() for a in self.values[attribute]))]

    @property
    def attributes(self) -> dict[str, list[str]]:
        return {name: self.texts(name) for name in ATTRIBUTES}


_CODES = {r.ATTRIBUTE_SET: 0, r.ATTRIBUTE_UNSET: 1, r.TRUST_EXTENDED: 2, r.TRUST_WITHDRAWN: 3,
          r.PRIMARY_EXTENDED: 4, r.PRIMARY_WITHDRAWN: 5, r.DOUBT_RAISED: 6, r.DOUBT_WITHDRAWN: 7,
          VOTER_MOVED_OUT: 8, VOTER_MOVED_IN: 9}
_ATTRIBUTE_CODES = {name.encode(): code for code, name in enumerate(ATTRIBUTES)}


def fold_cut(events: Iterable[RecordedEvent] | Columns) -> FoldedCut:
    """Fold the register events of a cut: the order within each stream decides, nothing else."""
    with collector_paused():  # millions of objects, no cycles: collections would walk the cut again (a third of the time)
        return _fold(columns_of(events))


def _fold(cut: Columns) -> FoldedCut:
    lookup = np.fromiter((_CODES.get(t, -1) for t in cut.types), dtype=np.int8, count=len(cut.types))
    codes = lookup[cut.type_codes] if len(cut) else np.zeros(0, dtype=np.int8)
    primary_edges: dict[str, int] = {}  # the registrar's few events, folded one by one
    primary_at: dict[str, int] = {}  # and the event that last set each
    for i in np.flatnonzero((codes == 4) | (codes == 5)).tolist():
        m = decode_body(cut.type_of(i), cut.body(i))
        primary_edges[m.voter] = m.edges if codes[i] == 4 else 0
        primary_at[m.voter] = i
    moved: dict[str, str] = {}  # the few moves, folded one by one: the last of each voter's stands
    for i in np.flatnonzero((codes == 8) | (codes == 9)).tolist():
        m = decode_body(cut.type_of(i), cut.body(i))
        moved[m.voter] = m.to_site if codes[i] == 8 else ""
    # Each such voter's address as a span of the bodies: its event holds it verbatim, as protobuf writes every string
    # (so the bodies are not copied to append a few addresses after them).
    found = np.array([cut.data.find(v.encode(), int(cut.starts[i]), int(cut.ends[i])) for v, i in primary_at.items()],
                     dtype=np.int64)
    lengths = np.fromiter((len(v.encode()) for v in primary_at), dtype=np.int64, count=len(primary_at))
    primary_spans = (found, found + lengths)
    reader = BodyReader(cut)

    trust = np.flatnonzero((codes == 2) | (codes == 3))
    (truster, trustee) = reader.fields(trust, ("truster", "trustee"))
    registration = np.flatnonzero((codes == 0) | (codes == 1))
    (voter, attribute, value) = reader.fields(registration, ("voter", "attribute", "value"))
    doubt = np.flatnonzero((codes == 6) | (codes == 7))
    (doubter, doubted, _) = reader.fields(doubt, ("doubter", "doubted", "reason"))

    data, words64 = reader.data()
    parts = [truster, trustee, voter, doubter, doubted, primary_spans]
    registrants = intern_spans(data, words64, np.concatenate([p[0] for p in parts]),
                               np.concatenate([p[1] for p in parts]))
    ids = registrants.ids
    bounds = np.cumsum([0, *(len(p[0]) for p in parts)])
    t_src, t_dst, a_voter, d_src, d_dst, p_voter = (ids[bounds[k]:bounds[k + 1]] for k in range(len(parts)))
    n = len(registrants)

    trust_src, trust_dst = _standing(t_src, t_dst, codes[trust] == 2, n)
    doubt_src, doubt_dst = _standing(d_src, d_dst, codes[doubt] == 6, n)
    primary = np.zeros(n, dtype=np.int32)
    primary[p_voter] = np.fromiter(primary_edges.values(), dtype=np.int64, count=len(primary_edges))

    attribute_code = _attribute_codes(data, attribute)
    known = attribute_code >= 0
    owner, field, is_set = a_voter[known], attribute_code[known], codes[registration][known] == 0
    keep = _last_of_each(owner.astype(np.int64) * len(ATTRIBUTES) + field, is_set, n * len(ATTRIBUTES))
    value_start, value_end = value[0][known][keep], value[1][known][keep]
    values = {}
    for code, name in enumerate(ATTRIBUTES):
        starts, ends = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)  # empty: no value
        mine = field[keep] == code
        starts[owner[keep][mine]], ends[owner[keep][mine]] = value_start[mine], value_end[mine]
        values[name] = (starts, ends)
    return FoldedCut(registrants, values, data, primary, trust_src, trust_dst, doubt_src, doubt_dst,
                     {voter: to for voter, to in moved.items() if to})


def _attribute_codes(data: bytes, spans: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per span, the code of the attribute it names (-1: none known): compared in C a name at a time, where built."""
    codes = np.full(len(spans[0]), -1, dtype=np.int32)
    for name, code in _ATTRIBUTE_CODES.items():
        same = native.spans_are(data, *spans, name)
        if same is None:  # plain Python: each name looked up
            names = [data[s:e] for s, e in zip(spans[0].tolist(), spans[1].tolist())]
            return np.fromiter(map(_ATTRIBUTE_CODES.get, names, repeat(-1)), dtype=np.int32, count=len(names))
        codes[same] = code
    return codes


def _last_of_each(key: np.ndarray, extended: np.ndarray, keys: int) -> np.ndarray:
    """Positions of the rows that are the last of their key and extend (set, raise) rather than withdraw."""
    keep = last_of_each(key, keys)
    return keep[extended[keep]]


def _standing(src: np.ndarray, dst: np.ndarray, extended: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs among n voters whose last change extended them."""
    keep = _last_of_each(src.astype(np.int64) * n + dst, extended, n * n)
    return src[keep], dst[keep]


def compile_voter_list(events: Iterable[RecordedEvent] | Columns, config: ListConfig) -> bytes:
    """The voter list of a cut: every registrant in address order with trust level, bar and doubts.

    events: the cut's events one by one, or a cut that reads itself in columns (civitas_kernel.cut.Cut).
    """
    with collector_paused():
        return _compile(_fold(columns_of(events)), config)


def _compile(cut: FoldedCut, config: ListConfig) -> bytes:
    n = len(cut.registrants)
    codes, bars = neighbourhoods(cut.texts("residence"))
    if cut.moved:
        moved_bars(cut.voters, cut.moved, bars)
    barred = np.fromiter(map(bool, bars), dtype=bool, count=n)
    src, dst = edges_in_range(cut.trust_src, cut.trust_dst, codes, config.range_prefix)
    levels = trust_levels(n, cut.primary, src, dst, barred)
    doubts = doubt_counts(cut.doubt_src, cut.doubt_dst, barred, n)
    for name in ("name", "link", "note"):  # written as they are: first checked to be text, as reading them was
        _check_text(cut.data, cut.values[name])
    columns = {"voter": tsv.text(cut.data, cut.registrants.starts, cut.registrants.ends),
               "trust_level": tsv.numbers(levels), "bar": tsv.strings(bars), "doubts": tsv.numbers(doubts),
               "neighbourhood": tsv.strings(codes),
               **{name: tsv.text(cut.data, *cut.values[name]) for name in ATTRIBUTES}}
    return tsv.rows([columns[c] for c in COLUMNS], header=(HEADER + "\n").encode())


def neighbourhoods(residences: list[str]) -> tuple[list[str], list[str]]:
    """code_and_bar of each residence, decided once for each way a residence ends (its last two words).

    The rule reads the last words first: when they settle it, every residence ending alike has the same answer.
    """
    known: dict[tuple[str, ...], tuple[str, str] | None] = {}
    codes, bars = [], []
    for residence in residences:
        tail = tuple(residence.replace(",", " ").rsplit(None, 2)[-2:]) if residence else ()
        answer = known.get(tail, False)
        if answer is False:
            answer = known[tail] = _settled_by(tail)
        code, bar = answer if answer is not None else code_and_bar(residence)
        codes.append(code)
        bars.append(bar)
    return codes, bars


def _settled_by(tail: tuple[str, ...]) -> tuple[str, str] | None:
    """What code_and_bar gives for any residence ending in these words, or None when earlier words may decide."""
    if not tail:
        return code_and_bar("")
    answer = code_and_bar(" ".join(tail))
    if answer[0] or len(tail) < 2:  # a code in the last words (or the residence is only these words)
        return answer
    return None


def _check_text(data: bytes, spans: tuple[np.ndarray, np.ndarray]) -> None:
    present = np.flatnonzero(spans[1] > spans[0])
    if len(present):
        b"\n".join(data[s:e] for s, e in zip(spans[0][present].tolist(), spans[1][present].tolist())).decode()


_NUMBERS = {"trust_level", "doubts"}


def encode_columns(columns: dict[str, list]) -> bytes:
    """encode_voter_list's bytes from columns already in address order, without a VoterEntry per voter.

    Numbers are written as str() writes them, like VoterEntry.to_line; a unit test holds the two equal.
    """
    ordered = [columns[c] for c in COLUMNS]  # a KeyError here means the kernel's format grew a column
    ordered = [list(map(str, c.tolist() if isinstance(c, np.ndarray) else c)) if name in _NUMBERS else c
               for name, c in zip(COLUMNS, ordered)]
    return ("\n".join([HEADER, *map("\t".join, zip(*ordered))]) + "\n").encode()
