"""Portable segments: export, verify and import; every kind of damage is named and nothing is applied."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from civitas_kernel.errors import IntegrityError, SegmentError
from civitas_kernel.segment import MAGIC, StreamSelection, export_segment, import_segment, verify_segment
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.events import trust, votes
from civitas_schema.v1 import envelope_pb2, segment_pb2


@pytest.fixture
def alpha(make_log):
    log = make_log(site="alpha.example.org")
    log.append("vote", votes(6))
    log.append("trust", [trust("a@example.org", "b@example.org")])
    return log


def frames(path: Path) -> list[bytes]:
    data = path.read_bytes()[len(MAGIC):]
    out, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        out.append(data[offset : offset + 4 + length])
        offset += 4 + length
    return out


def rewrite(path: Path, parts: list[bytes]) -> None:
    path.write_bytes(MAGIC + b"".join(parts))


def test_export_verify_import_round_trip(alpha, make_log, tmp_path):
    path = tmp_path / "alpha.seg"
    summary = export_segment(alpha, path)
    assert summary.ranges == [("trust", 1, 1), ("vote", 1, 6)] and summary.events == 7
    assert verify_segment(path, public_key=alpha.key.public_key).events == 7
    beta = make_log(site="beta.example.org")
    _, added = import_segment(beta, path)
    assert added == 7
    assert [e.raw for e in beta.read("vote", site="alpha.example.org")] == [e.raw for e in alpha.read("vote")]
    assert beta.verify(site="alpha.example.org").events == 7
    assert beta.public_key_of("alpha.example.org") == alpha.key.public_key
    _, again = import_segment(beta, path)
    assert again == 0  # importing twice is harmless


def test_ranges_continue_one_another_and_a_gap_is_refused(alpha, make_log, tmp_path):
    export_segment(alpha, tmp_path / "a.seg", [StreamSelection("vote", 1, 2)])
    export_segment(alpha, tmp_path / "b.seg", [StreamSelection("vote", 3, 4)])
    export_segment(alpha, tmp_path / "c.seg", [StreamSelection.parse("vote:5-")])
    beta = make_log(site="beta.example.org")
    with pytest.raises(IntegrityError, match=r"alpha.example.org/vote at position 3: gap: this log holds positions up to 0"):
        import_segment(beta, tmp_path / "b.seg")
    assert beta.head("vote", site="alpha.example.org").seq == 0
    for name in "abc":
        import_segment(beta, tmp_path / f"{name}.seg")
    assert beta.verify().events == 6
    # A site can pass on what it holds of another, closed by that site's own signatures.
    export_segment(beta, tmp_path / "relay.seg", site="alpha.example.org")
    assert verify_segment(tmp_path / "relay.seg", public_key=alpha.key.public_key).ranges == [("vote", 1, 6)]


def test_export_refuses_a_range_the_log_does_not_hold(alpha, tmp_path):
    with pytest.raises(SegmentError, match="holds positions 1..6; 4..9 is not within them"):
        export_segment(alpha, tmp_path / "x.seg", [StreamSelection("vote", 4, 9)])
    with pytest.raises(SegmentError, match="has no stream 'poll'"):
        export_segment(alpha, tmp_path / "x.seg", [StreamSelection("poll")])
    assert not list(tmp_path.glob("x.seg*"))


def _exported(alpha, tmp_path) -> Path:
    path = tmp_path / "alpha.seg"
    export_segment(alpha, path, [StreamSelection("vote")])
    return path


def _event_frame(seq: int) -> int:
    return seq  # frame 0 is the header, so event n of a single range is frame n


def assert_import_applies_nothing(make_log, path, match):
    beta = make_log(site="beta.example.org")
    with pytest.raises((IntegrityError, SegmentError), match=match):
        import_segment(beta, path)
    assert beta.streams() == []


def test_a_tampered_event_is_named(alpha, make_log, tmp_path):
    path = _exported(alpha, tmp_path)
    parts = frames(path)
    parts[_event_frame(4)] = parts[_event_frame(4)].replace(b"v3@example.org", b"v9@example.org")
    rewrite(path, parts)
    with pytest.raises(IntegrityError, match=r"alpha.example.org/vote at position 4: tampered"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "position 4: tampered")


def test_reordered_events_are_named(alpha, make_log, tmp_path):
    path = _exported(alpha, tmp_path)
    parts = frames(path)
    parts[2], parts[3] = parts[3], parts[2]
    rewrite(path, parts)
    with pytest.raises(IntegrityError, match=r"position 2: gap: positions 2..2 are missing"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "position 2")


def test_a_duplicated_event_is_named(alpha, make_log, tmp_path):
    path = _exported(alpha, tmp_path)
    parts = frames(path)
    parts.insert(3, parts[2])
    rewrite(path, parts)
    with pytest.raises(IntegrityError, match=r"position 3: duplicated or reordered: position 2 comes again"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "duplicated")


def test_a_truncated_file_is_named(alpha, make_log, tmp_path):
    path = _exported(alpha, tmp_path)
    data = path.read_bytes()
    cut = frames(path)
    path.write_bytes(data[: len(MAGIC) + sum(map(len, cut[:4])) + 10])
    with pytest.raises(IntegrityError, match=r"position 4: truncated: the file ends inside event 4 of vote"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "truncated")
    rewrite(path, cut[:-1])  # everything but the trailer
    with pytest.raises(SegmentError, match="truncated: the file ends where the trailer should be"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "truncated")


def test_a_forged_checkpoint_is_named(alpha, make_log, tmp_path):
    path = _exported(alpha, tmp_path)
    parts = frames(path)
    # A forger re-signs the checkpoint with its own key while claiming the site's public key.
    signed = envelope_pb2.SignedCheckpoint.FromString(parts[7][4:])
    forged = SiteKey.generate().private_key.sign(b"civitas/checkpoint/v1\n" + signed.checkpoint)
    data = envelope_pb2.SignedCheckpoint(checkpoint=signed.checkpoint, signature=forged).SerializeToString()
    parts[7] = struct.pack(">I", len(data)) + data
    rewrite(path, parts)
    with pytest.raises(IntegrityError, match=r"forged: the checkpoint's signature does not verify"):
        verify_segment(path)
    assert_import_applies_nothing(make_log, path, "forged")


def test_a_whole_segment_forged_under_another_key_is_refused_where_the_site_is_known(alpha, make_log, tmp_path):
    # An impostor exports its own "alpha" log; a receiver that knows alpha's key refuses it.
    impostor = make_log(site="alpha.example.org")
    impostor.append("vote", votes(2))
    path = tmp_path / "impostor.seg"
    export_segment(impostor, path)
    with pytest.raises(SegmentError, match="signed by key"):
        verify_segment(path, public_key=alpha.key.public_key)
    beta = make_log(site="beta.example.org")
    export_segment(alpha, tmp_path / "real.seg")
    import_segment(beta, tmp_path / "real.seg")
    with pytest.raises(IntegrityError, match="another key"):
        import_segment(beta, path)
    assert beta.head("vote", site="alpha.example.org").seq == 6


def test_not_a_segment_and_trailing_data_are_named(alpha, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello")
    with pytest.raises(SegmentError, match="not a civitas log segment"):
        verify_segment(junk)
    path = _exported(alpha, tmp_path)
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(SegmentError, match="data follows the trailer"):
        verify_segment(path)


def test_a_tampered_header_is_caught_by_the_digest(alpha, tmp_path):
    path = _exported(alpha, tmp_path)
    parts = frames(path)
    header = segment_pb2.SegmentHeader.FromString(parts[0][4:])
    header.exported_at_us += 1
    data = header.SerializeToString()
    parts[0] = struct.pack(">I", len(data)) + data
    rewrite(path, parts)
    with pytest.raises(SegmentError, match="tampered: the file's digest does not match"):
        verify_segment(path)


def test_pages_end_anywhere_in_a_range_and_the_segment_is_the_same(alpha, tmp_path, monkeypatch):
    from civitas_kernel import export_pages

    alpha.append("vote", votes(25, start=6))
    export_segment(alpha, tmp_path / "whole.seg")
    monkeypatch.setattr(export_pages, "EXPORT_PAGE", 4)
    progress = []
    summary = export_segment(alpha, tmp_path / "pages.seg", progress=progress.append)
    assert verify_segment(tmp_path / "pages.seg", public_key=alpha.key.public_key).events == summary.events == 32
    assert sum(progress) == 32
    whole, pages = frames(tmp_path / "whole.seg"), frames(tmp_path / "pages.seg")
    assert pages[1] == whole[1] and pages[3:-2] == whole[3:-2]  # every event's frame (checkpoints are signed anew)
