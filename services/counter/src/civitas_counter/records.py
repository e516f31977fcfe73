"""The records the counter keeps: voter lists and counts, each compiled from a cut of a log by the same functions
on the site and in `civitas audit`; on a site that receives other sites' registrations, lists spanning them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from civitas_kernel.canonical import canonical_json
from civitas_kernel.log import EventLog
from civitas_kernel.records import Record, RecordKind, RecordStore
from civitas_kernel.voter_list import decode_voter_list
from civitas_polls import POLL_STREAMS
from civitas_registry import REGISTER_STREAMS, ListConfig, compile_voter_list

from civitas_counter.domain.count import compile_count
from civitas_counter.network_lists import (ORIGIN_STREAMS, RulesOf, anchored_streams, list_config_of, merge_lists,
                                           origin_config, origin_kind, origins_held)


def _compile_list(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    own = compile_voter_list(events, list_config_of(config))
    others = {kind.partition("@")[2]: result for kind, result in depends.items() if kind.startswith("list@")}
    return merge_lists(own, others) if others else own


def _compile_count(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    return compile_count(events, decode_voter_list(depends["list"]))


# How each kind of record is recompiled: used by `ready` on the site and by `audit` anywhere (list@ORIGIN as list).
COMPILERS = {"list": _compile_list, "count": _compile_count}
STREAMS_OF_KIND = {"list": REGISTER_STREAMS, "count": POLL_STREAMS}


@dataclass
class NetworkRecords(RecordStore):
    """A RecordStore whose `list` also spans the origins whose registrations the log holds (list@ORIGIN records,
    recompiled only when that origin's streams moved or its rules changed)."""

    rules_of: RulesOf | None = None
    leaves_out: Callable[[], set[str]] | None = None  # origins held for another reason: a fork's parent

    def __post_init__(self) -> None:
        self._origin_kinds()

    def _origin_kinds(self) -> list[str]:
        names = []
        left_out = self.leaves_out() if self.leaves_out else set()
        for origin in (o for o in origins_held(self.log) if o not in left_out):
            key = self.log.public_key_of(origin)
            if key is None or anchored_streams(self.log, origin):
                continue  # held from an anchor: the voters before it are missing, so no list of that origin
            statement = self.rules_of(origin) if self.rules_of else None
            config = origin_config(origin, key, statement)
            self.kinds[origin_kind(origin)] = RecordKind(origin_kind(origin), ORIGIN_STREAMS, "result.tsv",
                                                         _compile_list, lambda c=config: c, origin=origin)
            names.append(origin_kind(origin))
        return names

    def _current(self, kind: str) -> bool:
        """Whether the reported record of `kind` was cut where the origin stands now, by the rules in force."""
        reported, spec = self.reported_id(kind), self.kinds[kind]
        if reported is None:
            return False
        snap = self.get(kind, reported).snap
        heads = [self.log.head(s, site=spec.origin).seq for s in spec.streams]
        return [c["seq"] for c in snap["cut"]] == heads and canonical_json(snap["config"]) == spec.config()

    def snap(self, kind: str) -> Record:
        if kind == "list":
            origins = self._origin_kinds()
            for name in origins:
                if not self._current(name):
                    self.run(name)
            self.kinds["list"] = replace(self.kinds["list"], depends_on=tuple(origins))
        return super().snap(kind)


def record_store(home: Path, log: EventLog, list_config: ListConfig | Callable[[], ListConfig],
                 clock: Callable[[], int], rules_of: RulesOf | None = None,
                 leaves_out: Callable[[], set[str]] | None = None) -> RecordStore:
    """The voter lists and counts of `log`, kept under home/records; `list_config` may be the rules in force, asked
    at each snap (each list records the configuration it was compiled by, so an audit uses the same); rules_of:
    the origins' signed list rules."""
    config = list_config if callable(list_config) else (lambda: list_config)
    kinds = {
        "list": RecordKind("list", REGISTER_STREAMS, "result.tsv", _compile_list, lambda: config().to_json()),
        "count": RecordKind("count", POLL_STREAMS, "result.tsv", _compile_count, lambda: canonical_json({}), ("list",)),
    }
    return NetworkRecords(home / "records", log, kinds, clock=clock, rules_of=rules_of, leaves_out=leaves_out)
