"""A voter list spanning the site network: a voter registers once and is eligible at every level.

A site that receives other sites' registration and trust (a super-site from its sub-sites, a peripheral site from
its source) compiles one record `list@ORIGIN` per origin from that origin's streams as received, signed there and
checked against its key, with the origin's own list rules (signed by it, carried in the record's configuration),
its trust network traced from that origin's own registrar. Its `list` record is its own registrants' list merged
with those, each a dependency, so `civitas audit` recounts every part and the merge. Listed once by this rule: the
entry with the highest trust level; on a tie this site's own, then the origin first in name order.

An origin whose registration or trust this site holds from an anchor (not from position 1) gets no list@ORIGIN:
the voters it registered or trusted before the anchor are not here, so a list from what is held would leave them
out or give them the wrong trust level. That origin's voters are left out of `list` whole, and the site says so
(`civitas sync status`, the network page and the voters' pages), until its streams are held from position 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from civitas_kernel.canonical import canonical_json
from civitas_kernel.list_rules import check_list_rules
from civitas_kernel.log import EventLog
from civitas_kernel.voter_list import HEADER
from civitas_registry import ListConfig

ORIGIN_STREAMS = ("registration", "trust")  # what travels up the tree and out to peripheral sites (never doubt)
RulesOf = Callable[[str], dict | None]  # an origin's signed list-rules statement, if this site holds one


def origin_kind(origin: str) -> str:
    return f"list@{origin}"


def origins_held(log: EventLog) -> list[str]:
    """The other sites whose registrations this log holds, in name order."""
    return sorted({site for site, stream, _ in log.streams() if site != log.site and stream == "registration"})


def anchored_streams(log: EventLog, origin: str) -> list[str]:
    """The streams a list@ORIGIN is compiled from that this log holds from an anchor (then it is not compiled)."""
    return [s for s in ORIGIN_STREAMS if log.anchor(s, site=origin) is not None]


def origin_config(origin: str, key: bytes, statement: dict | None) -> bytes:
    """The configuration of a list@ORIGIN record: the origin's rules as it signed them, with their version (the
    defaults, unsigned, when none was received yet: the record says so)."""
    if statement is not None and statement.get("site") == origin:
        check_list_rules(statement, key)
        versioned = {"version": statement["version"]} if statement.get("version") is not None else {}
        return canonical_json({"site": origin, "site_key": key.hex(), "rules": statement["rules"],
                               "signature": statement["signature"]} | versioned)
    return canonical_json({"site": origin, "site_key": key.hex(), "rules": json.loads(ListConfig().to_json()),
                           "signature": None})


def list_config_of(config: bytes) -> ListConfig:
    """The rules a list record is compiled by: this site's, or an origin's, checked against its signature."""
    fields = json.loads(config)
    if isinstance(fields, dict) and "site_key" in fields:
        if fields.get("signature") is not None:
            check_list_rules({k: fields[k] for k in ("site", "rules", "signature", "version") if k in fields},
                             bytes.fromhex(fields["site_key"]))
        return ListConfig.from_json(canonical_json(fields["rules"]))
    return ListConfig.from_json(config)


def _rows(data: bytes) -> dict[str, tuple[int, bytes]]:
    lines = data.split(b"\n")
    rows = {}
    for line in lines[1:]:
        if line:
            voter, level, _ = line.split(b"\t", 2)
            rows[voter.decode()] = (int(level), line)
    return rows


def merge_lists(own: bytes, others: dict[str, bytes]) -> bytes:
    """One list of this site's and the origins' lists: each voter once, by the module's rule, in address order."""
    best: dict[str, tuple[int, bytes]] = _rows(own)
    for origin in sorted(others):
        for voter, (level, line) in _rows(others[origin]).items():
            if voter not in best or level > best[voter][0]:
                best[voter] = (level, line)
    return b"\n".join([HEADER.encode(), *(best[v][1] for v in sorted(best))]) + b"\n"
