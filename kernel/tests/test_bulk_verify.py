"""Verifying a segment in bulk gives SegmentReader's verdict, in its words, on whole and damaged segments alike."""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import pytest

from civitas_kernel import bulk_verify, frames, native
from civitas_kernel.bulk_verify import verify_segment_bulk
from civitas_kernel.events import NewEvent, event_hash
from civitas_kernel.segment import MAGIC, SegmentReader, export_segment
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.events import trust, votes
from civitas_schema.v1 import envelope_pb2, segment_pb2, vote_pb2


@pytest.fixture
def segment(make_log, tmp_path) -> tuple[Path, bytes]:
    log = make_log(site="alpha.example.org")
    log.append("vote", votes(40))
    log.append("trust", [trust("a@example.org", "b@example.org"), trust("zoë@exämple.org", "a@example.org")])
    log.append("vote", [NewEvent.of(vote_pb2.VoteCast(poll="p", voter="ü@x.org", candidate="c" * 300), "ü@x.org")])
    path = tmp_path / "alpha.seg"
    export_segment(log, path)
    return path, log.key.public_key


def plainly(path: Path, public_key=None):
    with open(path, "rb") as f:
        reader = SegmentReader(f, public_key=public_key)
        return reader.verify().ranges


def in_bulk(path: Path, public_key=None):
    return verify_segment_bulk(lambda: open(path, "rb"), public_key=public_key).summary.ranges


def verdict(read, path: Path, public_key=None):
    try:
        return "whole", read(path, public_key)
    except Exception as e:  # noqa: BLE001 - whatever it is, both must say the same
        return type(e).__name__, str(e)


def test_a_whole_segment_passes_without_the_plain_reader(segment, monkeypatch):
    path, key = segment
    monkeypatch.setattr(bulk_verify, "_verify_plainly", lambda *a: pytest.fail("the plain reader was needed"))
    assert in_bulk(path, key) == [("trust", 1, 2), ("vote", 1, 41)] == plainly(path, key)


@pytest.mark.parametrize("block", [64, 1000, 1 << 20])
def test_blocks_of_any_size_give_the_same_verdict(segment, monkeypatch, block):
    path, key = segment
    monkeypatch.setattr(frames, "BLOCK", block)
    monkeypatch.setattr(bulk_verify, "_verify_plainly", lambda *a: pytest.fail("the plain reader was needed"))
    assert in_bulk(path, key) == plainly(path, key)


@pytest.mark.parametrize("loops", ["native", "plain"])
def test_every_flipped_byte_gets_the_plain_readers_verdict(segment, tmp_path, monkeypatch, loops):
    path, key = segment
    if loops == "plain":  # the kernel as installed without its C extension
        monkeypatch.setattr(native, "_native", None)
    data = path.read_bytes()
    rng = random.Random(5)
    damaged = tmp_path / "damaged.seg"
    for at in [*range(0, 200), *rng.sample(range(len(data)), 300), *range(len(data) - 120, len(data))]:
        changed = bytearray(data)
        changed[at] ^= 1 << rng.randrange(8)
        damaged.write_bytes(bytes(changed))
        assert verdict(in_bulk, damaged, key) == verdict(plainly, damaged, key), at


@pytest.mark.parametrize("loops", ["native", "plain"])
def test_cut_moved_and_dropped_frames_get_the_plain_readers_verdict(segment, tmp_path, monkeypatch, loops):
    path, key = segment
    if loops == "plain":
        monkeypatch.setattr(native, "_native", None)
    data = path.read_bytes()
    parts, offset = [], len(MAGIC)
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        parts.append(data[offset:offset + 4 + length])
        offset += 4 + length
    damaged = tmp_path / "damaged.seg"
    cases = [parts[:k] for k in range(len(parts))]  # truncated after each frame
    cases += [parts[:k] + parts[k + 1:] for k in range(len(parts))]  # each frame left out
    cases += [parts[:k] + [parts[k + 1], parts[k]] + parts[k + 2:] for k in range(len(parts) - 1)]  # swapped
    cases += [parts + [parts[-1]], parts + [b"\0"]]  # something after the trailer
    for case in cases:
        for tail in (b"", b"\x00\x00"):
            damaged.write_bytes(MAGIC + b"".join(case) + tail)
            assert verdict(in_bulk, damaged, key) == verdict(plainly, damaged, key)
    other = SiteKey.generate().public_key
    assert verdict(in_bulk, path, other) == verdict(plainly, path, other)


def test_an_envelope_that_is_not_utf8_is_refused_even_with_a_true_hash(make_log, tmp_path):
    # A site may seal what protobuf cannot read; the bulk reader must not accept what the plain one refuses.
    log = make_log(site="alpha.example.org")
    log.append("vote", votes(3))
    path = tmp_path / "alpha.seg"
    export_segment(log, path)
    data = path.read_bytes()
    parts, offset = [], len(MAGIC)
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        parts.append(data[offset:offset + 4 + length])
        offset += 4 + length
    sealed = envelope_pb2.SealedEvent.FromString(parts[3][4:])
    bad = sealed.envelope.replace(b"v2@example.org", b"v2@exampl\xff.org")
    assert bad != sealed.envelope
    frame = envelope_pb2.SealedEvent(envelope=bad, hash=event_hash(bad)).SerializeToString()
    parts[3] = struct.pack(">I", len(frame)) + frame
    checkpoint = envelope_pb2.Checkpoint.FromString(envelope_pb2.SignedCheckpoint.FromString(parts[4][4:]).checkpoint)
    signed = log.key.sign_checkpoint(checkpoint.site, checkpoint.stream, 3, event_hash(bad), 0).SerializeToString()
    parts[4] = struct.pack(">I", len(signed)) + signed
    body = MAGIC + b"".join(parts[:-1])
    trailer = segment_pb2.SegmentTrailer(event_count=3, digest=hashlib.sha256(body).digest()).SerializeToString()
    path.write_bytes(body + struct.pack(">I", len(trailer)) + trailer)
    expected = verdict(plainly, path)
    assert expected[0] == "IntegrityError" and "malformed" in expected[1]
    assert verdict(in_bulk, path) == expected
