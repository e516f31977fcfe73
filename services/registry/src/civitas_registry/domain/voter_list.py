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
from dataclasses import asdict, dataclass
from itertools import repeat

import numpy as np

from civitas_kernel.collector import collector_paused
from civitas_kernel.cut import Columns, columns_of
from civitas_kernel.events import RecordedEvent, decode_body
from civitas_kernel.fields import BodyReader
from civitas_kernel.interning import intern
from civitas_kernel.voter_list import COLUMNS, HEADER

from civitas_registry.domain import register as r
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


@dataclass
class FoldedCut:
    """The register at a cut, in the shape the compiler needs: voters numbered in address order."""

    voters: list[str]  # every registrant (anyone any event names), sorted; a voter's id is its index here
    attributes: dict[str, list[str]]  # name, residence, link, note -> each voter's value ("" when none)
    primary: np.ndarray  # int32 per voter: primary edges from the registrar
    trust_src: np.ndarray  # standing trust edges, by voter id (int32)
    trust_dst: np.ndarray
    doubt_src: np.ndarray  # standing doubts (doubter, doubted), by voter id (int32)
    doubt_dst: np.ndarray


_CODES = {r.ATTRIBUTE_SET: 0, r.ATTRIBUTE_UNSET: 1, r.TRUST_EXTENDED: 2, r.TRUST_WITHDRAWN: 3,
          r.PRIMARY_EXTENDED: 4, r.PRIMARY_WITHDRAWN: 5, r.DOUBT_RAISED: 6, r.DOUBT_WITHDRAWN: 7}
_ATTRIBUTE_CODES = {name.encode(): code for code, name in enumerate(ATTRIBUTES)}


def fold_cut(events: Iterable[RecordedEvent] | Columns) -> FoldedCut:
    """Fold the register events of a cut: the order within each stream decides, nothing else."""
    with collector_paused():  # millions of objects, no cycles: collections would walk the cut again (a third of the time)
        return _fold(columns_of(events))


def _fold(cut: Columns) -> FoldedCut:
    lookup = np.fromiter((_CODES.get(t, -1) for t in cut.types), dtype=np.int8, count=len(cut.types))
    codes = lookup[cut.type_codes] if len(cut) else np.zeros(0, dtype=np.int8)
    primary_edges: dict[str, int] = {}  # the registrar's few events, folded one by one
    for i in np.flatnonzero((codes == 4) | (codes == 5)).tolist():
        m = decode_body(cut.type_of(i), cut.body(i))
        primary_edges[m.voter] = m.edges if codes[i] == 4 else 0
    reader = BodyReader(cut, list(primary_edges))

    trust = np.flatnonzero((codes == 2) | (codes == 3))
    (truster, trustee) = reader.fields(trust, ("truster", "trustee"))
    registration = np.flatnonzero((codes == 0) | (codes == 1))
    (voter, attribute, value) = reader.fields(registration, ("voter", "attribute", "value"))
    doubt = np.flatnonzero((codes == 6) | (codes == 7))
    (doubter, doubted, _) = reader.fields(doubt, ("doubter", "doubted", "reason"))

    data, words64 = reader.data()
    parts = [truster, trustee, voter, doubter, doubted, reader.text_spans]
    ids, voters = intern(data, words64, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    bounds = np.cumsum([0, *(len(p[0]) for p in parts)])
    t_src, t_dst, a_voter, d_src, d_dst, p_voter = (ids[bounds[k]:bounds[k + 1]] for k in range(len(parts)))
    n = len(voters)

    trust_src, trust_dst = _standing(t_src, t_dst, codes[trust] == 2, n)
    doubt_src, doubt_dst = _standing(d_src, d_dst, codes[doubt] == 6, n)
    primary = np.zeros(n, dtype=np.int32)
    primary[p_voter] = np.fromiter(primary_edges.values(), dtype=np.int64, count=len(primary_edges))

    names = [data[s:e] for s, e in zip(attribute[0].tolist(), attribute[1].tolist())]
    attribute_code = np.fromiter(map(_ATTRIBUTE_CODES.get, names, repeat(-1)), dtype=np.int32, count=len(names))
    known = attribute_code >= 0
    owner, field, is_set = a_voter[known], attribute_code[known], codes[registration][known] == 0
    keep = _last_of_each(owner.astype(np.int64) * len(ATTRIBUTES) + field, is_set, n * len(ATTRIBUTES))
    values = reader.text(value[0][known][keep], value[1][known][keep])
    attributes = {}
    for code, name in enumerate(ATTRIBUTES):
        column = np.full(n, "", dtype=object)
        mine = field[keep] == code
        column[owner[keep][mine]] = np.asarray(values, dtype=object)[mine] if values else []
        attributes[name] = column.tolist()
    return FoldedCut(voters, attributes, primary, trust_src, trust_dst, doubt_src, doubt_dst)


def _last_of_each(key: np.ndarray, extended: np.ndarray, keys: int) -> np.ndarray:
    """Positions of the rows that are the last of their key and extend (set, raise) rather than withdraw.

    key: int64 in 0..keys-1. When key and position fit one int64 together, a plain sort of the two
    packed (far faster than a stable argsort) finds the last of each key.
    """
    rows = len(key)
    if rows == 0:
        return np.zeros(0, dtype=np.int64)
    if keys * rows < 1 << 62:
        packed = np.sort(key * rows + np.arange(rows, dtype=np.int64))
        sorted_key, order = np.divmod(packed, rows)
    else:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    last = np.ones(rows, dtype=bool)
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=last[:-1])
    keep = order[last]
    return np.sort(keep[extended[keep]])


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
    n = len(cut.voters)
    codes, bars = (list(column) for column in zip(*map(code_and_bar, cut.attributes["residence"]))) if n else ([], [])
    barred = np.fromiter(map(bool, bars), dtype=bool, count=n)
    src, dst = edges_in_range(cut.trust_src, cut.trust_dst, codes, config.range_prefix)
    levels = trust_levels(n, cut.primary, src, dst, barred)
    doubts = doubt_counts(cut.doubt_src, cut.doubt_dst, barred, n)
    a = cut.attributes
    return encode_columns({"voter": cut.voters, "trust_level": levels, "bar": bars, "doubts": doubts,
                           "neighbourhood": codes, "name": a["name"], "residence": a["residence"],
                           "link": a["link"], "note": a["note"]})


_NUMBERS = {"trust_level", "doubts"}


def encode_columns(columns: dict[str, list]) -> bytes:
    """encode_voter_list's bytes from columns already in address order, without a VoterEntry per voter.

    Numbers are written as str() writes them, like VoterEntry.to_line; a unit test holds the two equal.
    """
    ordered = [columns[c] for c in COLUMNS]  # a KeyError here means the kernel's format grew a column
    ordered = [list(map(str, c.tolist() if isinstance(c, np.ndarray) else c)) if name in _NUMBERS else c
               for name, c in zip(COLUMNS, ordered)]
    return ("\n".join([HEADER, *map("\t".join, zip(*ordered))]) + "\n").encode()
