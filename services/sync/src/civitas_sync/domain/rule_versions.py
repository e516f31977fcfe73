"""Which list rules a site signs under which version, and which statement of an origin's rules a receiver keeps.

A site's version is the time (µs) it first signed that set of rules, or one past the last if its clock is behind:
strictly increasing with every change, and still so if the site lost what it had issued (restored from a backup
without it), as long as its clock moves on. A receiver keeps the highest version it has seen of each origin."""

from __future__ import annotations

TAKE, SAME, OLDER, CONFLICT = "take", "same", "older", "conflict"


def issue(issued: dict | None, digest: str, now_us: int) -> dict:
    """{"digest", "version"}: the version the rules of `digest` are signed with (the one issued, if they are the
    rules issued last)."""
    if issued and issued.get("digest") == digest:
        return issued
    last = int(issued["version"]) if issued else 0
    return {"digest": digest, "version": max(last + 1, now_us)}


def judge(held: tuple[int, dict] | None, offered: tuple[int, dict]) -> str:
    """(version, rules) offered against those held: take them, the same again, older ones, or another set of rules
    signed under the version held (the origin signed two: both its own, so neither is a relay's doing)."""
    if held is None or offered[0] > held[0]:
        return TAKE
    if offered[0] < held[0]:
        return OLDER
    return SAME if offered[1] == held[1] else CONFLICT
