"""Where this site stands in the network, for its network page: each peer with its role, last contact, backoff and
errors, and per (site, stream) the head held here against the peer's, the lag, frozen streams and the evidence;
and the warnings an operator should see (a peer behind, a stream frozen, a key that does not match)."""

from __future__ import annotations

import time
from pathlib import Path

from civitas_kernel.log import EventLog

from civitas_sync.config import read_network
from civitas_sync.domain.notices import KEY_MISMATCH, LISTED, counting_notices
from civitas_sync.domain.picture import network_svg, state_of
from civitas_sync.state import load_state


def _when(t: float | None) -> str | None:
    return None if not t else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def network_overview(log: EventLog, home: Path, now: float | None = None) -> dict:
    """The JSON the network page draws (and `GET /sync/v1/network` answers)."""
    now = time.time() if now is None else now
    network, state = read_network(home, log.site), load_state(home)
    evidence = [{"seen_at": site, "origin": e["origin"], "stream": e["stream"], "seq": e["seq"],
                 "held_hash": e.get("held_hash"), "theirs": e.get("theirs"), "ours": e.get("ours")}
                for site, entry in sorted(state.peers.items()) for e in entry.evidence]
    frozen = {f"{e['origin']}/{e['stream']}" for e in evidence}
    peers, warnings = [], []
    for p in network.peers:
        entry = state.of(p.site)
        streams = []
        for name, remote in sorted(entry.remote.items()):
            origin, _, stream = name.partition("/")
            here = log.head(stream, site=origin).seq
            lag = max(0, remote["seq"] - here if p.pulled else here - remote["seq"])
            gap = remote.get("gap") if p.pulled and (remote.get("gap") or 0) > here + 1 else None
            anchor = log.anchor(stream, site=origin) if origin != log.site else None
            streams.append({"stream": name, "here": here, "there": remote["seq"], "lag": lag,
                            "frozen": name in frozen, "error": remote.get("error"), "gap": gap,
                            "anchor": anchor.seq if anchor else None})
        row = {"site": p.site, "role": p.role, "url": p.url, "pulled": p.pulled, "key": p.public_key.hex(),
               "last_contact": _when(entry.last_contact), "failures": entry.failures,
               "next_attempt": _when(entry.next_attempt) if entry.next_attempt > now else None,
               "error": entry.last_error, "refused_rules": list(entry.refused_rules), "streams": streams,
               "lag": max((s["lag"] for s in streams), default=0)}
        row["state"] = state_of(row)  # ok, behind or down, as the picture colours it
        peers.append(row)
        warnings += _warnings(row)
    for e in evidence:
        warnings.append(f"split view: {e['origin']}/{e['stream']} differs at position {e['seq']} as {e['seen_at']} "
                        "serves it; both signed checkpoints are kept and the stream is frozen at what was agreed")
    return {"site": log.site, "peers": peers, "evidence": evidence, "warnings": warnings,
            "counting": counting_notices(log.site, peers, evidence)}


def network_view(log: EventLog, home: Path, picture: bool = False) -> dict:
    """The overview, and with picture its SVG (`picture`), as the site's network page and voters' pages read it."""
    overview = network_overview(log, home)
    return overview | ({"picture": network_svg(overview)} if picture else {})


def gap_warning(site: str, s: dict) -> str:
    origin = s["stream"].partition("/")[0]
    return (f"gap: {site} holds {s['stream']} only from position {s['gap']} (it pruned what came before), and this "
            f"site holds it up to {s['here']}, so positions {s['here'] + 1}..{s['gap'] - 1} must come from elsewhere; "
            f"nothing past the gap is taken. Attach a site that holds them ({origin} itself, or one that received "
            "them) with `civitas sync attach`; a peer that already serves them fills the gap on its next pull")


def anchor_warning(site: str, s: dict) -> str:
    origin, _, stream = s["stream"].partition("/")
    said = (f"{s['stream']} starts here at an anchor: it is held from its origin's signed head at position "
            f"{s['anchor']} (declared on the link to {site}), so "
            + (f"positions 1..{s['anchor']} are" if s["anchor"] > 1 else "position 1 is") + " not held here")
    if stream in LISTED:
        said += f"; {origin}'s voters are not in this site's voter list (a list from part of its stream would be wrong)"
    return said


def _warnings(peer: dict) -> list[str]:
    found, site = [], peer["site"]
    errors = [peer["error"] or ""] + [s["error"] or "" for s in peer["streams"]]
    if any(m in e for e in errors for m in KEY_MISMATCH):
        found.append(f"key mismatch: {site} serves heads signed by another key than the one pinned for it")
    if peer["failures"]:
        found.append(f"{site} does not answer ({peer['failures']} failures in a row; next try "
                     f"{peer['next_attempt'] or 'now'}): {peer['error']}")
    for refused in peer["refused_rules"]:
        found.append(f"list rules served by {site} refused: {refused}")
    if peer["last_contact"] is None and not peer["failures"]:
        found.append(f"{site} has not been reached yet")
    for s in (s for s in peer["streams"] if s["gap"]):
        found.append(gap_warning(site, s))
    behind = [s for s in peer["streams"] if s["lag"]]
    if behind:
        who = f"this site is behind {site}" if peer["pulled"] else f"{site} is behind this site"
        listed = ", ".join(f"{s['stream']} {s['lag']}" for s in behind[:4]) + ("…" if len(behind) > 4 else "")
        found.append(f"{who} by {max(s['lag'] for s in behind)} events ({listed})")
    for s in (s for s in peer["streams"] if s.get("anchor")):
        found.append(anchor_warning(site, s))
    for s in peer["streams"]:
        if s["frozen"]:
            found.append(f"{s['stream']} is frozen after a split view")
    return found
