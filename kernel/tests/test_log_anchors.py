"""Another origin's stream held from a signed anchor instead of position 1, on every backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError
from civitas_kernel.segment import SegmentReader, StreamSelection, write_segment
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.events import votes

ORIGIN, RECEIVER = "town.example", "county.example"


def origin_with_three_appends(make_log):
    """The origin's vote stream: 1..5, 6..9 and 10..12, each append closed by its signed checkpoint."""
    origin = make_log(ORIGIN)
    for n, start in ((5, 0), (4, 5), (3, 9)):
        origin.append("vote", votes(n, start=start))
    return origin


def signed_at(log, seq: int) -> bytes:
    for c in log.checkpoints("vote"):
        if envelope_pb2.Checkpoint.FromString(c.checkpoint).seq == seq:
            return c.SerializeToString(deterministic=True)
    raise AssertionError(f"no checkpoint at {seq}")


def pages(log, first: int, last: int, site: str = ORIGIN):
    out = io.BytesIO()
    write_segment(log, out, [StreamSelection("vote", first, last)], site=site)
    return SegmentReader(io.BytesIO(out.getvalue()))


def ingest(log, origin, first: int, last: int, anchor: bytes | None, site: str = ORIGIN) -> int:
    reader = pages(origin, first, last, site)
    return log.ingest(ORIGIN, reader.public_key, reader.ranges(), anchors={"vote": anchor} if anchor else None)


def holds_nothing(log) -> bool:
    return log.head("vote", site=ORIGIN).seq == 0 and log.anchor("vote", site=ORIGIN) is None and not [
        s for s in log.streams() if s[0] == ORIGIN]


def test_a_stream_held_from_an_anchor_continues_from_it_and_verifies_from_it(make_log):
    origin = origin_with_three_appends(make_log)
    receiver = make_log(RECEIVER)
    assert ingest(receiver, origin, 6, 9, signed_at(origin, 5)) == 4
    assert ingest(receiver, origin, 10, 12, signed_at(origin, 5)) == 3  # declared again each page: the same anchor
    assert [e.seq for e in receiver.read("vote", site=ORIGIN)] == list(range(6, 13))
    assert [e.hash for e in receiver.read("vote", site=ORIGIN)] == [e.hash for e in origin.read("vote", after=5)]
    anchor = receiver.anchor("vote", site=ORIGIN)
    assert (anchor.seq, anchor.first) == (5, 6)
    assert anchor.hash == next(iter(origin.read("vote", after=4, until=5))).hash
    assert receiver.head("vote", site=ORIGIN) == origin.head("vote")
    report = receiver.verify(site=ORIGIN)
    assert [(r.stream, r.events, r.anchor) for r in report.streams] == [("vote", 7, 5)]
    assert receiver.anchor("vote") is None and origin.verify().streams[0].anchor == 0  # own streams: from 1


def test_an_anchored_stream_travels_on_from_its_anchor_and_never_before_it(make_log):
    origin = origin_with_three_appends(make_log)
    relay, further = make_log(RECEIVER), make_log("p.example")
    ingest(relay, origin, 6, 12, signed_at(origin, 5))
    reader = pages(relay, 6, 12)  # the relay serves what it holds, from its anchor, closed by the origin's signature
    assert further.ingest(ORIGIN, reader.public_key, reader.ranges(), anchors={"vote": signed_at(origin, 5)}) == 7
    assert further.verify(site=ORIGIN).streams[0].anchor == 5
    out = io.BytesIO()
    summary = write_segment(relay, out, site=ORIGIN)  # the whole stream as held: from the anchor
    assert summary.ranges == [("vote", 6, 12)]
    with pytest.raises(Exception, match=r"holds positions 6..12 \(from the origin's signed anchor at 5\)"):
        write_segment(relay, io.BytesIO(), [StreamSelection("vote", 1, 12)], site=ORIGIN)


def test_a_forged_anchor_is_refused_and_nothing_is_written(make_log):
    origin = origin_with_three_appends(make_log)
    receiver = make_log(RECEIVER)
    forger = SiteKey.generate()
    forged = forger.sign_checkpoint(ORIGIN, "vote", 5, next(iter(origin.read("vote", after=4, until=5))).hash, 1)
    with pytest.raises(IntegrityError, match="anchor refused: forged"):
        ingest(receiver, origin, 6, 12, forged.SerializeToString(deterministic=True))
    assert holds_nothing(receiver)
    unsigned = envelope_pb2.SignedCheckpoint(checkpoint=envelope_pb2.SignedCheckpoint.FromString(
        signed_at(origin, 5)).checkpoint).SerializeToString(deterministic=True)
    with pytest.raises(IntegrityError, match="anchor refused: .*no signature"):
        ingest(receiver, origin, 6, 12, unsigned)
    assert holds_nothing(receiver)


def test_only_a_run_that_continues_from_the_anchors_position_and_hash_is_taken(make_log):
    origin = origin_with_three_appends(make_log)
    receiver = make_log(RECEIVER)
    with pytest.raises(IntegrityError, match="gap: this log holds positions up to 5"):
        ingest(receiver, origin, 10, 12, signed_at(origin, 5))  # starts past the anchor
    assert holds_nothing(receiver)
    # signed by the origin's own key, but over a hash that is not its event at 5: the run does not link to it
    other = origin.key.sign_checkpoint(ORIGIN, "vote", 5, bytes(32), 1).SerializeToString(deterministic=True)
    with pytest.raises(IntegrityError, match="chain broken"):
        ingest(receiver, origin, 6, 12, other)
    assert holds_nothing(receiver)
    with pytest.raises(IntegrityError, match="before the anchor: .* from its anchor at 9"):
        ingest(receiver, origin, 1, 12, signed_at(origin, 9))  # what precedes the anchor is not taken
    assert holds_nothing(receiver)


def test_an_anchor_declared_over_what_is_held_must_agree_with_it(make_log):
    origin = origin_with_three_appends(make_log)
    from_one, anchored = make_log(RECEIVER), make_log("p.example")
    ingest(from_one, origin, 1, 9, None)
    assert ingest(from_one, origin, 10, 12, signed_at(origin, 5)) == 3  # agrees with the event held at 5
    assert from_one.anchor("vote", site=ORIGIN) is None  # still held from position 1
    liar = origin.key.sign_checkpoint(ORIGIN, "vote", 5, bytes(32), 1).SerializeToString(deterministic=True)
    with pytest.raises(IntegrityError, match="anchor refused: the declared anchor's hash differs"):
        from_one.ingest(ORIGIN, origin.key.public_key, [], anchors={"vote": liar})
    ingest(anchored, origin, 10, 12, signed_at(origin, 9))
    with pytest.raises(IntegrityError, match="from its anchor at 9, so an anchor at 5 cannot be checked"):
        anchored.ingest(ORIGIN, origin.key.public_key, [], anchors={"vote": signed_at(origin, 5)})
    assert anchored.anchor("vote", site=ORIGIN).seq == 9


def test_an_anchor_alone_holds_the_stream_at_its_position(make_log):
    origin = origin_with_three_appends(make_log)
    receiver = make_log(RECEIVER)
    assert receiver.ingest(ORIGIN, origin.key.public_key, [], anchors={"vote": signed_at(origin, 12)}) == 0
    assert receiver.head("vote", site=ORIGIN) == origin.head("vote")
    assert list(receiver.read("vote", site=ORIGIN)) == []
    assert [(r.events, r.anchor) for r in receiver.verify(site=ORIGIN).streams] == [(0, 12)]
    with pytest.raises(IntegrityError, match="this site's own streams are held from position 1"):
        receiver.ingest(RECEIVER, receiver.key.public_key, [], anchors={"vote": signed_at(origin, 12)})


def test_verify_names_an_altered_anchor(make_log):
    origin = origin_with_three_appends(make_log)
    receiver = make_log(RECEIVER)
    ingest(receiver, origin, 6, 12, signed_at(origin, 5))
    with receiver.engine.begin() as conn:
        conn.execute(text("UPDATE anchors SET hash = :h"), {"h": bytes(32)})
    with pytest.raises(IntegrityError, match="anchor refused: the declared hash"):
        receiver.verify(site=ORIGIN)
