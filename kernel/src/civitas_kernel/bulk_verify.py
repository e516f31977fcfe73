"""Verifying a whole segment a block at a time: the checks of SegmentReader, over arrays instead of one event each.

Each envelope is still hashed on its own (in C, native.py, where the kernel was built with it), but everything
else, that the hash is the one stated, that each event names the right site, stream and position and links to the
hash before it, is compared over whole blocks with numpy, reading the fields by slicing (frames.py). Whenever
anything is not as a plain segment has it, or fails, the segment is read again from the start by SegmentReader:
its verdict, and its words, are the answer. So this never accepts what SegmentReader refuses, and refuses with the
same error.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from civitas_schema.v1 import envelope_pb2, segment_pb2

from civitas_kernel.archive import ArchiveError
from civitas_kernel.events import EVENT_HASH_PREFIX
from civitas_kernel.cut import ColumnReader, Columns, read_columns
from civitas_kernel.digests import BackgroundDigest
from civitas_kernel.frames import HASH, ascii_spans, envelopes, frame_blocks, hash_words, spans_equal
from civitas_kernel.log import Progress
from civitas_kernel.native import chain_holds, hash_spans
from civitas_kernel.segment import FORMAT, MAGIC, MAX_FRAME, SegmentReader, SegmentSummary
from civitas_kernel.signing import open_checkpoint


@dataclass
class VerifiedSegment:
    summary: SegmentSummary
    header: segment_pb2.SegmentHeader
    heads: dict[str, bytes] = field(default_factory=dict)  # stream -> the head hash its checkpoint signs
    columns: Columns | None = None  # the events in columns, when asked for: read in the same pass


class _Doubt(Exception):
    """Something the fast path does not vouch for: let the plain reader judge."""


def verify_segment_bulk(open_segment: Callable[[], BinaryIO], *, public_key: bytes | None = None,
                        progress: Progress | None = None, before: Callable[[SegmentSummary], None] | None = None,
                        after_range: Callable[[str, bytes], None] | None = None,
                        columns: bool = False) -> VerifiedSegment:
    """Verify the segment `open_segment()` reads; raises SegmentError or IntegrityError as SegmentReader does.

    before: called with the header's site and ranges before any event is verified (it may raise to refuse them);
    after_range: called with each range's stream and signed head hash once the range is verified (likewise);
    columns: also read the events in columns (cut.Columns), from the very bytes verified, in the same pass.
    """
    try:
        with closing(open_segment()) as stream:
            return _Verifier(stream, public_key, progress, before, after_range, columns).run()
    except _Doubt:
        with closing(open_segment()) as stream:
            verified = _verify_plainly(stream, public_key, before, after_range, progress)
        if columns:  # whole after all, in a shape the fast path does not read: its columns, the slow way
            with closing(open_segment()) as stream:
                verified.columns = read_columns(stream)
        return verified


def _verify_plainly(stream: BinaryIO, public_key: bytes | None, before, after_range,
                    progress: Progress | None = None) -> VerifiedSegment:
    reader = SegmentReader(stream, public_key=public_key, progress=progress)
    if before:
        before(reader.summary())
    heads = {}
    for r in reader.ranges():
        for _ in r.iter_events(decode=False):
            pass
        heads[r.stream] = envelope_pb2.Checkpoint.FromString(r.checkpoint.checkpoint).head_hash
        if after_range:
            after_range(r.stream, heads[r.stream])
    return VerifiedSegment(reader.summary(), reader.header, heads)


class _Verifier:
    def __init__(self, stream: BinaryIO, public_key: bytes | None, progress: Progress | None, before,
                 after_range, columns: bool = False) -> None:
        self.stream, self.public_key, self.progress = stream, public_key, progress
        self.before, self.after_range = before, after_range
        self.columns = ColumnReader() if columns else None
        self.digest: BackgroundDigest | None = None

    def run(self) -> VerifiedSegment:
        if self.stream.read(len(MAGIC)) != MAGIC:
            raise _Doubt
        try:
            return self._frames(frame_blocks(self.stream, MAX_FRAME))
        except (_Doubt, ArchiveError):  # a caller's refusal (ArchiveError) stands as it is
            raise
        except Exception:  # truncated, undecodable, forged: the plain reader names it
            raise _Doubt from None
        finally:
            if self.digest is not None:
                self.digest.close()

    def _frames(self, blocks) -> VerifiedSegment:
        first = next(blocks)
        header_frame = first.data[first.starts[0]:first.ends[0]]
        header = segment_pb2.SegmentHeader.FromString(header_frame)
        self._check_header(header)
        summary = SegmentSummary(header.site, header.public_key,
                                 [(r.stream, r.first_seq, r.last_seq) for r in header.ranges])
        if self.before:
            self.before(summary)  # its refusal stands: the plain reader would reach it with this header too
        site = header.site.encode()
        # Runs of frames in order: the header, then each range's events and its checkpoint, then the trailer.
        runs = [("header", None, 1)]
        for r in header.ranges:
            runs += [("events", r, r.last_seq - r.first_seq + 1), ("checkpoint", r, 1)]
        runs.append(("trailer", None, 1))
        digest = self.digest = BackgroundDigest(MAGIC)  # the whole file's, on another core as blocks are read
        heads: dict[str, bytes] = {}
        state: dict[str, tuple[int, bytes]] = {r.stream: (r.first_seq - 1, r.anchor_hash) for r in header.ranges}
        events = 0
        run, used = 0, 0  # the run being read and how many of its frames are read
        block, k = first, 0  # the block being read, and its next frame
        done = False
        while True:
            while k < len(block) and not done:
                kind, r, length = runs[run]
                take = min(length - used, len(block) - k)
                if kind == "events":
                    state[r.stream] = self._events(block, k, k + take, site, r, state[r.stream])
                    events += take
                elif kind == "checkpoint":
                    heads[r.stream] = self._checkpoint(block, k, header, r, state[r.stream])
                    if self.after_range:
                        self.after_range(r.stream, heads[r.stream])
                elif kind == "trailer":
                    begin = int(block.starts[k]) - 4
                    digest.update(memoryview(block.data)[:begin])
                    trailer = segment_pb2.SegmentTrailer.FromString(block.data[block.starts[k]:block.ends[k]])
                    if trailer.event_count != events or trailer.digest != digest.digest():
                        raise _Doubt
                    if k + 1 != len(block):
                        raise _Doubt  # data after the trailer
                    done = True
                k += take
                used += take
                if used == length:
                    run, used = run + 1, 0
            if not done:
                digest.update(memoryview(block.data)[:block.size])
            block, k = next(blocks, None), 0
            if block is None:
                break
            if done:
                raise _Doubt  # data after the trailer
        if not done:
            raise _Doubt
        return VerifiedSegment(summary, header, heads, self.columns.columns() if self.columns else None)

    def _check_header(self, h: segment_pb2.SegmentHeader) -> None:
        streams = [r.stream for r in h.ranges]
        if (h.format != FORMAT or (self.public_key is not None and h.public_key != self.public_key)
                or len(set(streams)) != len(streams)
                or any(not 1 <= r.first_seq <= r.last_seq or len(r.anchor_hash) != 32 for r in h.ranges)):
            raise _Doubt

    def _events(self, block, a: int, b: int, site: bytes, r, state: tuple[int, bytes]) -> tuple[int, bytes]:
        """Check frames a..b-1 of the block as the next events of range r; the range's new (seq, head hash)."""
        seq, head = state
        data, count = block.data, b - a
        found = envelopes(block, block.starts[a:b], block.ends[a:b])
        if not found.ok.all():
            raise _Doubt
        digests = hash_spans(data, found.envelope[0], found.envelope[1], EVENT_HASH_PREFIX)
        if not (_linked(block, digests, found, head)
                and spans_equal(block, found.site, site).all()
                and spans_equal(block, found.stream, r.stream.encode()).all()
                and np.array_equal(found.seq, np.arange(seq + 1, seq + 1 + count, dtype=np.uint64))):
            raise _Doubt
        self._texts_decode(data, block.size, (found.event_id, found.type, found.actor))
        if self.columns is not None:
            self.columns.add(block, np.arange(a, b), found)
        if self.progress:
            self.progress(count)
        return seq + count, digests[-HASH:]

    @staticmethod
    def _texts_decode(data: bytes, size: int, spans) -> None:
        """The envelopes' text fields are UTF-8, as protobuf insists (ASCII ones are, without looking further)."""
        for start, stop in spans:
            for i in np.flatnonzero(~ascii_spans(data, size, (start, stop))).tolist():
                try:
                    data[start[i]:stop[i]].decode()
                except UnicodeDecodeError:
                    raise _Doubt from None

    def _checkpoint(self, block, k: int, header, r, state: tuple[int, bytes]) -> bytes:
        signed = envelope_pb2.SignedCheckpoint.FromString(block.data[block.starts[k]:block.ends[k]])
        checkpoint = open_checkpoint(signed, header.public_key)
        seq, head = state
        place = (checkpoint.site, checkpoint.stream, checkpoint.seq)
        if place != (header.site, r.stream, r.last_seq) or seq != r.last_seq:
            raise _Doubt
        if checkpoint.head_hash != head:
            raise _Doubt
        return checkpoint.head_hash


def _linked(block, digests: bytes, found, head: bytes) -> bool:
    """Whether each event's stated hash is the digest of its envelope and its prev_hash the hash before it."""
    holds = chain_holds(block.data, digests, found.hash_at, *found.prev_hash, head)
    if holds is not None:
        return holds
    computed = np.frombuffer(digests, dtype="<u8").reshape(len(found.hash_at), HASH // 8)
    stated = hash_words(block, found.hash_at)
    prev_start, prev_stop = found.prev_hash
    linked = np.empty_like(stated)
    linked[0] = np.frombuffer(head, dtype="<u8")
    linked[1:] = stated[:-1]
    return (np.array_equal(computed, stated) and bool((prev_stop - prev_start == HASH).all())
            and np.array_equal(hash_words(block, prev_start), linked))
