"""Ed25519 site keys and signed checkpoints over a prefix of a site-stream."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError

CHECKPOINT_PREFIX = b"civitas/checkpoint/v1\n"


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class SiteKey:
    """The private key a site signs its checkpoints with."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SiteKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> SiteKey:
        """Read the site's key from a PEM file, creating it (readable by the owner only) on first use."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} holds no Ed25519 private key; move it away to let civitas create one")
            return cls(key)
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
        return key

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self.private_key.public_key())

    def sign_checkpoint(
        self, site: str, stream: str, seq: int, head_hash: bytes, signed_at_us: int
    ) -> envelope_pb2.SignedCheckpoint:
        checkpoint = envelope_pb2.Checkpoint(
            site=site, stream=stream, seq=seq, head_hash=head_hash, signed_at_us=signed_at_us, public_key=self.public_key
        ).SerializeToString(deterministic=True)
        return envelope_pb2.SignedCheckpoint(checkpoint=checkpoint, signature=self.private_key.sign(CHECKPOINT_PREFIX + checkpoint))


def open_checkpoint(signed: envelope_pb2.SignedCheckpoint, public_key: bytes | None = None) -> envelope_pb2.Checkpoint:
    """Check a checkpoint's signature (against public_key when given) and return what it states."""
    checkpoint = envelope_pb2.Checkpoint()
    checkpoint.ParseFromString(signed.checkpoint)
    where = (checkpoint.site or "?", checkpoint.stream or "?", checkpoint.seq or None)
    if public_key is not None and checkpoint.public_key != public_key:
        raise IntegrityError(*where, "forged: the checkpoint is signed by another key than the site's")
    try:
        Ed25519PublicKey.from_public_bytes(checkpoint.public_key).verify(signed.signature, CHECKPOINT_PREFIX + signed.checkpoint)
    except (InvalidSignature, ValueError):
        raise IntegrityError(*where, "forged: the checkpoint's signature does not verify") from None
    return checkpoint
