"""The anchor check on its own: an origin's signed checkpoint, checked against its pinned key and the declaration."""

from __future__ import annotations

import pytest

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.anchors import open_anchor
from civitas_kernel.errors import IntegrityError
from civitas_kernel.signing import SiteKey

ORIGIN, HASH = "town.example", bytes(range(32))


def signed(key: SiteKey, seq: int = 120, head_hash: bytes = HASH, site: str = ORIGIN, stream: str = "registration"):
    checkpoint = key.sign_checkpoint(site, stream, seq, head_hash, 1_700_000_000_000_000)
    return checkpoint.SerializeToString(deterministic=True)


def test_an_anchor_signed_by_the_origin_gives_its_position_and_hash():
    key = SiteKey.generate()
    anchor = open_anchor(signed(key), ORIGIN, "registration", key.public_key, seq=120, head_hash=HASH)
    assert (anchor.site, anchor.stream, anchor.seq, anchor.first) == (ORIGIN, "registration", 120, 121)
    assert anchor.hash == HASH
    assert anchor.signed == signed(key)


def test_an_anchor_signed_by_another_key_than_the_pinned_one_is_refused():
    pinned, other = SiteKey.generate(), SiteKey.generate()
    with pytest.raises(IntegrityError, match="anchor refused: forged: the checkpoint is signed by another key"):
        open_anchor(signed(other), ORIGIN, "registration", pinned.public_key)


def test_an_anchor_whose_signature_does_not_verify_is_refused():
    key = SiteKey.generate()
    message = envelope_pb2.SignedCheckpoint.FromString(signed(key))
    message.signature = bytes(64)
    with pytest.raises(IntegrityError, match="signature does not verify"):
        open_anchor(message, ORIGIN, "registration", key.public_key)


def test_an_unsigned_or_missing_anchor_is_refused():
    key = SiteKey.generate()
    stated = envelope_pb2.SignedCheckpoint.FromString(signed(key)).checkpoint
    unsigned = envelope_pb2.SignedCheckpoint(checkpoint=stated)
    with pytest.raises(IntegrityError, match="no signature"):
        open_anchor(unsigned, ORIGIN, "registration", key.public_key)
    with pytest.raises(IntegrityError, match="carries no signed checkpoint"):
        open_anchor(b"", ORIGIN, "registration", key.public_key)
    with pytest.raises(IntegrityError, match="does not decode"):
        open_anchor(b"\xff\xff not a checkpoint", ORIGIN, "registration", key.public_key)


def test_a_declaration_that_says_another_hash_or_position_than_is_signed_is_refused():
    key = SiteKey.generate()
    with pytest.raises(IntegrityError, match="declared hash .* is not the one the origin signed"):
        open_anchor(signed(key), ORIGIN, "registration", key.public_key, seq=120, head_hash=bytes(32))
    with pytest.raises(IntegrityError, match="declared position 119 is not the one the origin signed"):
        open_anchor(signed(key), ORIGIN, "registration", key.public_key, seq=119)


def test_an_anchor_of_another_stream_or_site_is_refused():
    key = SiteKey.generate()
    with pytest.raises(IntegrityError, match="its checkpoint is of town.example/trust"):
        open_anchor(signed(key, stream="trust"), ORIGIN, "registration", key.public_key)
    with pytest.raises(IntegrityError, match="its checkpoint is of other.example/registration"):
        open_anchor(signed(key, site="other.example"), ORIGIN, "registration", key.public_key)
