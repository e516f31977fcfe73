"""Portable log segments: export ranges of a site's streams to a self-verifying file, verify, import.

The layout is documented in proto/civitas_schema/v1/segment.proto. Reading verifies as it goes,
so an import that meets a bad event fails inside its transaction and applies nothing.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from google.protobuf.message import DecodeError

from civitas_schema.v1 import envelope_pb2, segment_pb2

from civitas_kernel.chain import ChainVerifier
from civitas_kernel.digests import BackgroundDigest
from civitas_kernel.errors import SegmentError
from civitas_kernel.events import ZERO_HASH, RecordedEvent
from civitas_kernel.export_pages import write_range
from civitas_kernel.log import EventLog, IngestRange, Progress
from civitas_kernel.signing import open_checkpoint

envelope_from = envelope_pb2.Envelope.FromString
MAGIC = b"CIVSEG1\n"
FORMAT = "civitas-segment/1"
_LENGTH = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
PROGRESS_STEP = 10_000


@dataclass(frozen=True)
class StreamSelection:
    """A stream to export, optionally a range of it (positions inclusive)."""

    stream: str
    first: int = 1
    last: int | None = None

    @classmethod
    def parse(cls, text: str) -> StreamSelection:
        """'vote' or 'vote:100-200' or 'vote:100-'."""
        stream, _, span = text.partition(":")
        if not span:
            return cls(stream)
        first, sep, last = span.partition("-")
        try:
            return cls(stream, int(first), int(last) if last else None) if sep else cls(stream, int(first), int(first))
        except ValueError:
            raise ValueError(f"range {text!r} is not valid: write STREAM, STREAM:FIRST-LAST or STREAM:FIRST-") from None


@dataclass
class SegmentSummary:
    site: str
    public_key: bytes
    ranges: list[tuple[str, int, int]] = field(default_factory=list)
    sha256: str | None = None  # of the whole segment, when it was just written
    size: int | None = None  # its bytes, likewise


    @property
    def events(self) -> int:
        return sum(last - first + 1 for _, first, last in self.ranges)


class _FrameWriter:
    def __init__(self, out: BinaryIO) -> None:
        self.out, self.digest, self.size = out, BackgroundDigest(), 0

    def write(self, message) -> None:
        data = message.SerializeToString(deterministic=True)
        self.write_bytes(_LENGTH.pack(len(data)) + data)

    def write_bytes(self, frames: bytes) -> None:
        self.out.write(frames)
        self.digest.update(frames)
        self.size += len(frames)


def export_segment(
    log: EventLog,
    path: Path,
    selections: Sequence[StreamSelection] | None = None,
    *,
    site: str | None = None,
    progress: Progress | None = None,
) -> SegmentSummary:
    """Write ranges of one site's streams to `path` (atomically: a partial file never appears)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as out:
            summary = write_segment(log, out, selections, site=site, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def write_segment(
    log: EventLog,
    out: BinaryIO,
    selections: Sequence[StreamSelection] | None = None,
    *,
    site: str | None = None,
    progress: Progress | None = None,
) -> SegmentSummary:
    """Write ranges of one site's streams as a segment to `out`, from where it stands (an archive places it so)."""
    site = site or log.site
    own = site == log.site
    public_key = log.key.public_key if own else log.public_key_of(site)
    if public_key is None:
        raise SegmentError(f"this log holds nothing of site {site!r}")
    held = {stream: head for s, stream, head in log.streams() if s == site}
    if selections is None:  # each stream as held: from its anchor where it is held from one
        firsts = {stream: _first_held(log, site, stream) for stream in held}
        selections = [StreamSelection(stream, firsts[stream]) for stream in sorted(held)
                      if firsts[stream] <= held[stream].seq]
    ranges = [_plan_range(log, site, own, held, sel) for sel in selections]
    summary = SegmentSummary(site, public_key, [(r.stream, r.first_seq, r.last_seq) for r, _ in ranges])
    header = segment_pb2.SegmentHeader(
        format=FORMAT, site=site, public_key=public_key, ranges=[r for r, _ in ranges],
        exported_at_us=log._clock() if hasattr(log, "_clock") else 0,
    )
    out.write(MAGIC)
    frames = _FrameWriter(out)
    with frames.digest:
        frames.digest.update(MAGIC)
        frames.size = len(MAGIC)
        frames.write(header)
        for stream_range, checkpoint in ranges:
            write_range(log, site, stream_range.stream, stream_range.first_seq, stream_range.last_seq,
                        frames.write_bytes, progress=progress)
            frames.write(checkpoint)
        frames.write(segment_pb2.SegmentTrailer(event_count=summary.events, digest=frames.digest.digest()))
        summary.sha256 = frames.digest.hexdigest()  # the trailer went through the digest too: the whole file's
    summary.size = frames.size
    return summary


def _plan_range(log: EventLog, site: str, own: bool, held: dict, sel: StreamSelection):
    if sel.stream not in held:
        raise SegmentError(f"site {site} has no stream {sel.stream!r}; streams held: {', '.join(sorted(held)) or 'none'}")
    head, anchor = held[sel.stream], (None if own else log.anchor(sel.stream, site=site))
    first_held = anchor.first if anchor else 1
    last = head.seq if sel.last is None else sel.last
    if not first_held <= sel.first <= last <= head.seq:
        raise SegmentError(f"{site}/{sel.stream} holds positions {first_held}..{head.seq}"
                           + (f" (from the origin's signed anchor at {anchor.seq})" if anchor else "")
                           + f"; {sel.first}..{last} is not within them")
    if own:
        end_hash = head.hash if last == head.seq else _hash_at(log, site, sel.stream, last)
        checkpoint = log.key.sign_checkpoint(site, sel.stream, last, end_hash, log._clock())
    else:
        # Another site's events travel on only with that site's own signature at their end.
        signed = {envelope_pb2.Checkpoint.FromString(c.checkpoint).seq: c for c in log.checkpoints(sel.stream, site=site)}
        usable = [seq for seq in signed if sel.first <= seq <= last]
        if not usable:
            raise SegmentError(f"{site}/{sel.stream}: no checkpoint of that site within {sel.first}..{last}")
        last = max(usable)
        checkpoint = signed[last]
    if sel.first == 1:
        before = ZERO_HASH
    elif anchor is not None and sel.first == anchor.first:
        before = anchor.hash  # the range continues from the origin's signed anchor
    else:
        before = _hash_at(log, site, sel.stream, sel.first - 1)
    stream_range = segment_pb2.StreamRange(stream=sel.stream, first_seq=sel.first, last_seq=last, anchor_hash=before)
    return stream_range, checkpoint


def _first_held(log: EventLog, site: str, stream: str) -> int:
    anchor = None if site == log.site else log.anchor(stream, site=site)
    return anchor.first if anchor else 1


def _hash_at(log: EventLog, site: str, stream: str, seq: int) -> bytes:
    return next(iter(log.read(stream, site=site, after=seq - 1, until=seq))).hash


class _Truncated(Exception):
    """The file ends before the frame does; `started` says whether any of the frame was there."""

    def __init__(self, started: bool) -> None:
        self.started = started


class _FrameSource:
    """Frames read from large blocks (few system calls), with a running digest of what was consumed."""

    BLOCK = 8 * 1024 * 1024

    def __init__(self, stream: BinaryIO) -> None:
        self._in, self.digest = stream, hashlib.sha256()
        self._buf, self._pos, self._digested = b"", 0, 0

    def _fill(self, need: int) -> bool:
        self.digest_consumed()
        self._buf = self._buf[self._pos :] + self._in.read(max(self.BLOCK, need))
        self._pos = self._digested = 0
        return len(self._buf) >= need

    def digest_consumed(self) -> None:
        self.digest.update(memoryview(self._buf)[self._digested : self._pos])
        self._digested = self._pos

    def read(self, n: int) -> bytes:
        if len(self._buf) - self._pos < n and not self._fill(n):
            raise _Truncated(self._pos < len(self._buf))
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def frame(self) -> bytes:
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 4:
            if not self._fill(4):
                raise _Truncated(len(self._buf) > 0)
            buf, pos = self._buf, 0
        (length,) = _LENGTH.unpack_from(buf, pos)
        if length > MAX_FRAME:
            raise ValueError(f"claims {length} bytes")
        end = pos + 4 + length
        if end > len(buf):
            if not self._fill(4 + length):
                raise _Truncated(True)
            buf, pos, end = self._buf, 0, 4 + length
        self._pos = end
        return buf[pos + 4 : end]

    def at_end(self) -> bool:
        return self._pos == len(self._buf) and not self._fill(1)


class SegmentReader:
    """Reads a segment, verifying every frame; any problem raises SegmentError or IntegrityError."""

    def __init__(self, stream: BinaryIO, *, public_key: bytes | None = None, progress: Progress | None = None) -> None:
        self._frames, self._progress = _FrameSource(stream), progress
        try:
            magic = self._frames.read(len(MAGIC))
        except _Truncated:
            magic = b""
        if magic != MAGIC:
            raise SegmentError("not a civitas log segment (the file does not start with the segment marker)")
        self.header = self._message(segment_pb2.SegmentHeader, "the header")
        self._check_header(public_key)
        self.site, self.public_key = self.header.site, self.header.public_key
        self.events_read = 0

    def _check_header(self, public_key: bytes | None) -> None:
        h = self.header
        if h.format != FORMAT:
            raise SegmentError(f"segment format {h.format!r} is not {FORMAT!r}; use a civitas that reads it")
        if public_key is not None and h.public_key != public_key:
            raise SegmentError(f"the segment is signed by key {h.public_key.hex()}, not the expected {public_key.hex()}")
        streams = [r.stream for r in h.ranges]
        if len(set(streams)) != len(streams):
            raise SegmentError("the header names a stream twice")
        for r in h.ranges:
            if not 1 <= r.first_seq <= r.last_seq or len(r.anchor_hash) != 32:
                raise SegmentError(f"the header's range for {r.stream} ({r.first_seq}..{r.last_seq}) is not valid")

    def _frame(self, what: str) -> bytes:
        try:
            return self._frames.frame()
        except _Truncated as e:
            raise SegmentError(f"truncated: the file ends {'inside' if e.started else 'where'} {what}"
                               + ("" if e.started else " should be")) from None
        except ValueError as e:
            raise SegmentError(f"malformed: {what} {e}") from None

    def _message(self, cls, what: str):
        data = self._frame(what)
        try:
            return cls.FromString(data)
        except Exception:
            raise SegmentError(f"malformed: {what} does not decode") from None

    def ranges(self) -> Iterator[IngestRange]:
        """Each range in turn; consume its events before asking for the next. Ends by checking the trailer."""
        for r in self.header.ranges:
            holder = _RangeEvents(self, r)
            yield holder
            holder.finish()
        self._check_trailer()

    def verify(self) -> SegmentSummary:
        """Read the whole segment, checking everything."""
        for r in self.ranges():
            for _ in r.iter_events(decode=False):
                pass
        return self.summary()

    def summary(self) -> SegmentSummary:
        return SegmentSummary(self.site, self.public_key, [(r.stream, r.first_seq, r.last_seq) for r in self.header.ranges])

    def _check_trailer(self) -> None:
        self._frames.digest_consumed()
        expected_digest = self._frames.digest.digest()
        trailer = self._message(segment_pb2.SegmentTrailer, "the trailer")
        if trailer.event_count != self.events_read:
            raise SegmentError(f"the trailer counts {trailer.event_count} events, the file holds {self.events_read}")
        if trailer.digest != expected_digest:
            raise SegmentError("tampered: the file's digest does not match its trailer")
        if not self._frames.at_end():
            raise SegmentError("malformed: data follows the trailer")


class _RangeEvents:
    """One range of a segment, verified while read; its checkpoint is known once its events are."""

    def __init__(self, reader: SegmentReader, r: segment_pb2.StreamRange) -> None:
        self.stream = r.stream
        self._reader, self._range = reader, r
        self._verifier = ChainVerifier(reader.site, r.stream, r.first_seq - 1, r.anchor_hash)
        self._checkpoint: envelope_pb2.SignedCheckpoint | None = None

    @property
    def events(self) -> Iterator[RecordedEvent]:
        return self.iter_events(decode=True)

    @property
    def checkpoint(self) -> envelope_pb2.SignedCheckpoint:
        self.finish()
        return self._checkpoint

    @property
    def envelopes(self) -> Iterator[envelope_pb2.Envelope]:
        """The range's envelopes, verified: enough for compilers (type, actor, body), cheaper than events."""
        return self.iter_events(decode=False, envelopes=True)

    def iter_events(self, decode: bool, envelopes: bool = False) -> Iterator[RecordedEvent]:
        reader, r, verifier = self._reader, self._range, self._verifier
        progress, sealed, frames = reader._progress, envelope_pb2.SealedEvent(), reader._frames
        while verifier.seq < r.last_seq:
            try:
                data = frames.frame()
            except (_Truncated, ValueError):
                raise verifier.fail(verifier.seq + 1, f"truncated: the file ends inside event {verifier.seq + 1} of {r.stream}") from None
            try:
                sealed.ParseFromString(data)
            except Exception:
                raise verifier.fail(verifier.seq + 1, "malformed: the frame does not decode as a sealed event") from None
            envelope = verifier.check(sealed.envelope, sealed.hash)
            reader.events_read += 1
            if progress and reader.events_read % PROGRESS_STEP == 0:
                progress(PROGRESS_STEP)
            if decode:
                yield RecordedEvent.from_envelope(envelope, sealed.envelope, sealed.hash)
            elif envelopes:
                yield envelope_from(sealed.envelope)

    def finish(self) -> None:
        if self._checkpoint is not None:
            return
        for _ in self.iter_events(decode=False):
            pass
        reader, r, verifier = self._reader, self._range, self._verifier
        signed = reader._message(envelope_pb2.SignedCheckpoint, f"the checkpoint of {r.stream}")
        try:
            checkpoint = open_checkpoint(signed, reader.public_key)
        except DecodeError:
            raise verifier.fail(r.last_seq, "malformed: the closing checkpoint does not decode") from None
        if (checkpoint.site, checkpoint.stream, checkpoint.seq) != (reader.site, r.stream, r.last_seq):
            raise verifier.fail(r.last_seq, "forged: the closing checkpoint is for another place")
        if checkpoint.head_hash != verifier.head_hash:
            raise verifier.fail(r.last_seq, "tampered: the events do not end in the hash the site signed")
        self._checkpoint = signed


def verify_segment(path: Path, *, public_key: bytes | None = None, progress: Progress | None = None) -> SegmentSummary:
    """Check a whole segment file: its verdict and words are SegmentReader's (found faster, see bulk_verify)."""
    from civitas_kernel.bulk_verify import verify_segment_bulk

    return verify_segment_bulk(lambda: open(path, "rb"), public_key=public_key, progress=progress).summary


def import_segment(
    log: EventLog, path: Path, *, public_key: bytes | None = None, progress: Progress | None = None
) -> tuple[SegmentSummary, int]:
    """Import a segment into the log: all of it if it verifies and continues what the log holds, else nothing."""
    with open(path, "rb", buffering=1 << 20) as f:
        reader = SegmentReader(f, public_key=public_key, progress=progress)
        added = log.ingest(reader.site, reader.public_key, reader.ranges())
        return reader.summary(), added



def read_envelopes_unchecked(stream: BinaryIO) -> Iterator[envelope_pb2.Envelope]:
    """A segment's envelopes in order WITHOUT verifying them: only for a caller that verifies the same bytes
    in parallel (the audit does, in a second process) and trusts nothing until that verification passes."""
    frames = _FrameSource(stream)
    try:
        if frames.read(len(MAGIC)) != MAGIC:
            raise SegmentError("not a civitas log segment (the file does not start with the segment marker)")
        header = segment_pb2.SegmentHeader.FromString(frames.frame())
        sealed_from = envelope_pb2.SealedEvent.FromString
        for stream_range in header.ranges:
            for _ in range(stream_range.last_seq - stream_range.first_seq + 1):
                yield envelope_from(sealed_from(frames.frame()).envelope)
            frames.frame()  # the range's checkpoint
    except (_Truncated, ValueError) as e:
        raise SegmentError(f"the segment cannot be read: {e!r}") from None
