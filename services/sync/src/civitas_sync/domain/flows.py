"""What flows where, and what identifies an event wherever it travels."""

from __future__ import annotations

from dataclasses import dataclass

UPWARD = ("registration", "trust")  # up the core tree: a site's own and its sub-sites'
PUBLIC = ("registration", "trust", "poll", "vote", "change")  # out to peripheral sites
NEVER = ("doubt",)  # never leaves the site it was cast on
# Kept home for now: the draft stream holds private groups' posts, which reach only their members; it travels
# once a sender can leave those out.
KEPT_HOME = ("draft",)


@dataclass(frozen=True, order=True)
class EventId:
    """An event anywhere in the network: loops are harmless, since the same event is the same everywhere."""

    origin: str
    stream: str
    position: int
    hash: bytes


def served(stream: str) -> bool:
    """Whether a site offers a stream to anyone: everything it holds but doubt and what is kept home."""
    return stream not in NEVER and stream not in KEPT_HOME


def pulled(role: str, own_site: str, origin: str, stream: str) -> bool:
    """Whether this site takes `origin`'s `stream` from a peer in `role`.

    Never its own events (only the origin seals them), never doubt; from a sub-site registration and trust;
    from a source the public voter input.
    """
    if origin == own_site or stream in NEVER:
        return False
    if role == "sub":
        return stream in UPWARD
    if role == "source":
        return stream in PUBLIC
    return False


def refusal(role: str, own_site: str, origin: str, stream: str) -> str | None:
    """Why a page of `origin`'s `stream` offered by a peer in `role` is refused, or None if it is taken."""
    if stream in NEVER:
        return f"{origin}/{stream}: doubt never leaves the site it was cast on"
    if origin == own_site:
        return f"{origin}/{stream}: only this site seals its own streams"
    if not pulled(role, own_site, origin, stream):
        return f"{origin}/{stream}: a {role} peer does not send this stream"
    return None
