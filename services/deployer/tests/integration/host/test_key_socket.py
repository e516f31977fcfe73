"""The key socket: a release's site signs its checkpoints and manifests through the supervisor, and nothing else."""

from __future__ import annotations

import pytest

from civitas_deployer.host import KeySocket
from civitas_kernel.key_socket import SignerUnavailable, socket_site_key
from civitas_kernel.signing import SiteKey, open_checkpoint


@pytest.fixture
def signer(tmp_path):
    key = SiteKey.generate()
    socket = KeySocket(tmp_path / "sock" / "signer.sock", key)
    socket.start()
    yield key, socket
    socket.stop()


def test_a_checkpoint_signed_through_the_socket_verifies_against_the_site_key(signer):
    key, socket = signer
    remote = socket_site_key(socket.path)

    signed = remote.sign_checkpoint("alpha.example.org", "registration", 3, b"\1" * 32, 1_000)

    assert remote.public_key == key.public_key
    assert open_checkpoint(signed, key.public_key).seq == 3


def test_anything_else_is_refused(signer):
    _, socket = signer
    remote = socket_site_key(socket.path)

    with pytest.raises(SignerUnavailable, match="only a log checkpoint"):
        remote.private_key.sign(b"SSHSIG\0namespace git")
