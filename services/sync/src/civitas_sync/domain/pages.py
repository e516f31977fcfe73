"""Pages: a stream cut at fixed positions, so a sealed page is the same bytes' worth of events forever."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_EVENTS = 10_000


@dataclass(frozen=True)
class Fetch:
    """One request for a stream: page `page`, its events after `after` up to `last`; `whole` if it is sealed
    and asked from its start, so the answer may come from any cache."""

    page: int
    after: int
    last: int
    whole: bool


def page_of(position: int, page_events: int = PAGE_EVENTS) -> int:
    """The page holding `position` (pages count from 1)."""
    return (position - 1) // page_events + 1


def page_span(page: int, page_events: int = PAGE_EVENTS) -> tuple[int, int]:
    """The first and last positions of `page`."""
    return (page - 1) * page_events + 1, page * page_events


def plan(cursor: int, remote_head: int, page_events: int = PAGE_EVENTS) -> list[Fetch]:
    """The fetches that carry a receiver at `cursor` to a sender's signed `remote_head`, in order."""
    fetches = []
    position = cursor
    while position < remote_head:
        page = page_of(position + 1, page_events)
        first, last = page_span(page, page_events)
        end = min(last, remote_head)
        fetches.append(Fetch(page, position, end, whole=position == first - 1 and end == last))
        position = end
    return fetches
