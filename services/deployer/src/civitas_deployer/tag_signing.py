"""A release's tag signed with the site's Ed25519 key by git's own SSH signing, and the line that lets anyone check it.

git signs a tag with `ssh-keygen -Y sign` (gpg.format=ssh) given a private key file; the site's key is written
in OpenSSH form to a file readable by the owner only, inside a directory of its own, for that one call, and
removed at once. A verifier runs `git verify-tag` with an allowed_signers file holding `allowed_signers_line`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.signing import SiteKey

from civitas_deployer.git import Git, GitError


def ssh_public_key(public_key: bytes) -> str:
    """The site's raw Ed25519 public key as OpenSSH writes it: `ssh-ed25519 AAAA…`."""
    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def allowed_signers_line(site: str, public_key: bytes) -> str:
    """One line of an allowed_signers file (ssh-keygen(1)) trusting the site's key for git's signatures."""
    return f'{site} namespaces="git" {ssh_public_key(public_key)}'


@contextmanager
def private_key_file(key: SiteKey) -> Iterator[Path]:
    """The site's private key in OpenSSH form, in a 0600 file in a 0700 directory, for as long as the block runs."""
    folder = Path(tempfile.mkdtemp(prefix="civitas-sign-"))
    try:
        path = folder / "site-key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                    serialization.NoEncryption()))
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tag_target(git: Git, tag: str) -> str | None:
    """The commit tag `tag` points at, or None when there is no such tag."""
    done = git.run("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}", check=False)
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


def sign_tag(git: Git, key: SiteKey, tag: str, commit: str, message: str, *, site: str, at_us: int) -> None:
    """Make annotated tag `tag` on `commit`, signed with the site's key; a tag already on `commit` is kept as it is."""
    found = tag_target(git, tag)
    if found == commit:
        return
    if found is not None:
        raise GitError(("tag", tag), 1, f"tag {tag} already names {found}, not {commit}")
    date = f"@{at_us // 1_000_000} +0000"
    env = {"GIT_COMMITTER_NAME": site, "GIT_COMMITTER_EMAIL": f"civitas@{site}", "GIT_COMMITTER_DATE": date}
    with private_key_file(key) as key_path:
        git.run("-c", "gpg.format=ssh", "-c", f"user.signingkey={key_path}", "-c", "gpg.ssh.program=ssh-keygen",
                "tag", "-s", "-m", message, tag, commit, env=env)


def verify_tag(git: Git, tag: str, allowed_signers: Path) -> bool:
    """Whether `tag` is signed by a key of the allowed_signers file (what `git verify-tag` says)."""
    done = git.run("-c", f"gpg.ssh.allowedSignersFile={allowed_signers}", "verify-tag", tag, check=False)
    return done.returncode == 0
