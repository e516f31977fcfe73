"""The records the counter keeps: voter lists and counts, each compiled from a cut of a log by the same functions
on the site and in `civitas audit`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from civitas_kernel.canonical import canonical_json
from civitas_kernel.log import EventLog
from civitas_kernel.records import RecordKind, RecordStore
from civitas_kernel.voter_list import decode_voter_list
from civitas_polls import POLL_STREAMS
from civitas_registry import REGISTER_STREAMS, ListConfig, compile_voter_list

from civitas_counter.domain.count import compile_count


def _compile_list(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    return compile_voter_list(events, ListConfig.from_json(config))


def _compile_count(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    return compile_count(events, decode_voter_list(depends["list"]))


# How each kind of record is recompiled: used by `ready` on the site and by `audit` anywhere.
COMPILERS = {"list": _compile_list, "count": _compile_count}
STREAMS_OF_KIND = {"list": REGISTER_STREAMS, "count": POLL_STREAMS}


def record_store(home: Path, log: EventLog, list_config: ListConfig | Callable[[], ListConfig],
                 clock: Callable[[], int]) -> RecordStore:
    """The voter lists and counts of `log`, kept under home/records; `list_config` may be the rules in force, asked
    at each snap (each list records the configuration it was compiled by, so an audit uses the same)."""
    config = list_config if callable(list_config) else (lambda: list_config)
    kinds = {
        "list": RecordKind("list", REGISTER_STREAMS, "result.tsv", _compile_list, lambda: config().to_json()),
        "count": RecordKind("count", POLL_STREAMS, "result.tsv", _compile_count, lambda: canonical_json({}), ("list",)),
    }
    return RecordStore(home / "records", log, kinds, clock=clock)
