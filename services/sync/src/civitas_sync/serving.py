"""What a site serves to its peers: the signed head of every (site, stream) it holds, and pages of sealed events
in the segment format. A sealed page is written once to CIVITAS_HOME/sync/pages and served from there forever."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.log import STREAM_NAME, EventLog
from civitas_kernel.segment import StreamSelection, write_segment

from civitas_sync.domain.flows import served
from civitas_sync.domain.pages import PAGE_EVENTS, page_span
from civitas_sync.domain.peers import SITE_NAME

SEGMENT_MEDIA_TYPE = "application/vnd.civitas.segment"


class NotServed(LookupError):
    """A page or stream this site does not serve; the message says why."""


class Gone(NotServed):
    """Positions this site does not hold: it holds the stream only from `first` (from an anchor)."""

    def __init__(self, message: str, first: int) -> None:
        super().__init__(message)
        self.first = first


def signed_at(log: EventLog, origin: str, stream: str, seq: int) -> bytes | None:
    """The origin's signed checkpoint at `seq`, serialised, if this log holds one."""
    return log.checkpoints_between(stream, site=origin, after=seq - 1, until=seq).get(seq)


def latest_signed(log: EventLog, origin: str, stream: str, head: int,
                  window: int = PAGE_EVENTS) -> tuple[int, bytes] | None:
    """The last position of a stream that its origin signed, and that checkpoint: where a peer may be brought."""
    at_head = signed_at(log, origin, stream, head)
    if at_head is not None:
        return head, at_head
    below = log.checkpoints_between(stream, site=origin, after=max(0, head - window), until=head)
    if not below:
        return None
    seq = max(below)
    return seq, below[seq]


def heads(log: EventLog, page_events: int = PAGE_EVENTS) -> dict:
    """Every (site, stream) this log holds and serves, with the latest checkpoint its origin signed."""
    streams = []
    for origin, stream, head in log.streams():
        if not served(stream):
            continue  # doubt never leaves its site
        signed = latest_signed(log, origin, stream, head.seq, page_events)
        if signed is None:
            continue
        checkpoint = envelope_pb2.Checkpoint.FromString(envelope_pb2.SignedCheckpoint.FromString(signed[1]).checkpoint)
        row = {"origin": origin, "stream": stream, "seq": signed[0], "hash": checkpoint.head_hash.hex(),
               "checkpoint": base64.b64encode(signed[1]).decode()}
        anchor = log.anchor(stream, site=origin) if origin != log.site else None
        if anchor is not None:  # held here from an anchor: what came before it must come from elsewhere
            row |= {"first": anchor.first, "anchor": anchor.seq}
        streams.append(row)
    return {"site": log.site, "page_events": page_events, "streams": streams}


class Pages:
    """Pages of the streams a log holds; sealed ones cached on disk under `cache`."""

    def __init__(self, log: EventLog, cache: Path, page_events: int = PAGE_EVENTS) -> None:
        self.log, self.cache, self.page_events = log, cache, page_events

    def page(self, origin: str, stream: str, page: int, after: int | None = None) -> tuple[bytes, bool]:
        """Page `page` of origin/stream (from `after` + 1 when given): its segment bytes, and whether it is sealed
        (the whole page, the same forever)."""
        if not SITE_NAME.fullmatch(origin) or not STREAM_NAME.fullmatch(stream):
            raise NotServed(f"{origin}/{stream} is not a site and stream name")  # nor, so, a path under the cache
        if not served(stream):
            raise NotServed(f"{stream} is never served: doubt never leaves the site it was cast on")
        if page < 1:
            raise NotServed(f"pages count from 1, not {page}")
        first, last = page_span(page, self.page_events)
        head = self.log.head(stream, site=origin).seq
        if head < first:
            raise NotServed(f"{origin}/{stream} holds positions up to {head}; page {page} starts at {first}")
        start = first if after is None else after + 1
        anchor = self.log.anchor(stream, site=origin) if origin != self.log.site else None
        if anchor is not None and start <= anchor.seq:
            raise Gone(f"{origin}/{stream} is held here only from position {anchor.first} (from its origin's signed "
                       f"anchor at {anchor.seq}); ask its origin, or a site that holds it, for what comes before",
                       anchor.first)
        if not first <= start <= min(last, head):
            raise NotServed(f"after={after} is not within page {page} ({first - 1}..{min(last, head) - 1})")
        whole = start == first and head >= last and (origin == self.log.site or signed_at(self.log, origin, stream, last))
        if whole:
            return self._sealed(origin, stream, page, first, last), True
        end = min(last, head)
        if origin != self.log.site:
            signed = latest_signed(self.log, origin, stream, end, self.page_events)
            if signed is None or signed[0] < start:
                raise NotServed(f"{origin}/{stream}: nothing from {start} that its origin signed is held here yet")
            end = signed[0]
        return self._write(origin, stream, start, end), False

    def _sealed(self, origin: str, stream: str, page: int, first: int, last: int) -> bytes:
        path = self.cache / f"{self.page_events}" / origin / stream / f"{page:08d}.seg"
        if path.exists():
            return path.read_bytes()
        data = self._write(origin, stream, first, last)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
        return data

    def _write(self, origin: str, stream: str, first: int, last: int) -> bytes:
        out = io.BytesIO()
        write_segment(self.log, out, [StreamSelection(stream, first, last)], site=origin)
        return out.getvalue()
