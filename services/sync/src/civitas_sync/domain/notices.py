"""What voters must be told on the pages that show lists and counts: where this site's network may leave voters out
of them. Only what this site receives counts here (its sub-sites and sources); a peer pulling from it behind it
changes nothing in this site's own lists and counts."""

from __future__ import annotations

KEY_MISMATCH = ("signed by another key", "pinned with another key")
LISTED = ("registration", "trust")  # an origin's voter list is compiled from these: held from an anchor, it is not


def counting_notices(site: str, peers: list[dict], evidence: list[dict]) -> list[str]:
    """Plain sentences, one per cause: a stream frozen after a split view, a sender whose key does not match, a
    sender that does not answer, has not been reached yet, or is behind."""
    found = []
    for e in sorted({(e["origin"], e["stream"], e["seq"]) for e in evidence if e["origin"] != site}):
        found.append(f"{e[0]} showed two different versions of its {e[1]} events (a split view): what it sent from "
                     f"position {e[2]} on is held back until the operators settle it, so voters it registered or "
                     "trusted since may be missing from the lists and counts here.")
    anchored = sorted({s["stream"].partition("/")[0] for p in peers if p["pulled"] for s in p["streams"]
                       if s.get("anchor") and s["stream"].partition("/")[2] in LISTED})
    for origin in anchored:
        found.append(f"{origin}'s registrations and trust are held here only from a later point of its history (an "
                     "anchor), not from its first voter, so its voters are not in the lists and counts here.")
    for p in (p for p in peers if p["pulled"]):
        errors = [p["error"] or ""] + [s["error"] or "" for s in p["streams"]]
        if any(m in e for e in errors for m in KEY_MISMATCH):
            found.append(f"{p['site']} answers with another key than the one this site pinned for it, so nothing "
                         f"from it is taken: its voters may be missing from the lists and counts here.")
        elif p["failures"] and p["last_contact"]:
            found.append(f"{p['site']} has not answered since {p['last_contact']}: lists and counts here may be "
                         "missing voters it registered, trusted or saw vote since.")
        elif p["failures"]:
            found.append(f"{p['site']} has not answered yet: its voters are not in the lists and counts here.")
        elif p["last_contact"] is None:
            found.append(f"{p['site']} has not been reached yet: its voters are not in the lists and counts here yet.")
        elif any(s.get("gap") for s in p["streams"]):
            found.append(f"{p['site']} no longer holds some earlier events this site still lacks ("
                         + ", ".join(s["stream"] for s in p["streams"] if s.get("gap")) + "): lists and counts here "
                         "may be missing voters until another site sends them.")
        elif p["lag"]:
            found.append(f"This site is {p['lag']} events behind {p['site']}: lists and counts here may be missing "
                         "its latest voters until they arrive.")
    return found
