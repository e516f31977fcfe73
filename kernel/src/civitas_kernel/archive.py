"""Record archives: one deterministic tar file holding everything needed to recompile a result.

Members: `manifest.json` (what the record is, its cut, and the SHA-256 of every other member),
`signature.json` (the site's Ed25519 signature over the manifest), `events.seg` (the cut as a
verifiable log segment), `config.json`, the result, and any results it depends on (under
`depends/`). Same inputs, same bytes: members are sorted and carry no times or owners.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.canonical import canonical_json
from civitas_kernel.errors import SegmentError
from civitas_kernel.signing import SiteKey

FORMAT = "civitas-archive/1"
MANIFEST, SIGNATURE, EVENTS = "manifest.json", "signature.json", "events.seg"
SIGNATURE_PREFIX = b"civitas/archive/v1\n"


class ArchiveError(SegmentError):
    """An archive that is not whole, not signed by its site, or not an archive at all."""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = size, 0, 0o644, 0, 0, "", ""
    return info


def _add(tar: tarfile.TarFile, name: str, data: BinaryIO, size: int) -> None:
    tar.addfile(_info(name, size), data)


COPY_BUFFER = 4 << 20  # the cut is copied into the archive in large blocks


def write_archive(path: Path, manifest: dict, members: dict[str, bytes], events: Path, key: SiteKey,
                  *, events_sha256: str | None = None) -> dict:
    """Write the archive atomically; returns the manifest as written (with file hashes).

    events_sha256: the events file's SHA-256, when its writer computed it as it wrote (else it is read here).
    """
    files = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    files[EVENTS] = events_sha256 or _sha256_file(events)
    manifest = {**manifest, "format": FORMAT, "files": dict(sorted(files.items())), "public_key": key.public_key.hex()}
    manifest_bytes = canonical_json(manifest)
    signature = canonical_json({"public_key": key.public_key.hex(),
                                "signature": key.private_key.sign(SIGNATURE_PREFIX + manifest_bytes).hex()})
    partial = path.with_name(path.name + ".partial")
    try:
        with tarfile.open(partial, "w", format=tarfile.USTAR_FORMAT, copybufsize=COPY_BUFFER) as tar:
            _add(tar, MANIFEST, io.BytesIO(manifest_bytes), len(manifest_bytes))
            _add(tar, SIGNATURE, io.BytesIO(signature), len(signature))
            with open(events, "rb") as f:
                _add(tar, EVENTS, f, events.stat().st_size)
            for name in sorted(members):
                _add(tar, name, io.BytesIO(members[name]), len(members[name]))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


class ArchiveInPlace:
    """An archive whose events are written straight into it, where write_archive would copy them to: the same bytes.

    The manifest and signature come first, but their lengths are known before the events are written (hashes
    and signatures have fixed lengths), so the events go at their final offset and the rest is filled in after.
    Use: open the events with `events()`, write the segment there, then `finish`; or `discard`.
    """

    def __init__(self, path: Path, manifest: dict, names: list[str], key: SiteKey) -> None:
        self.path, self.key, self._manifest, self._names = path, key, manifest, sorted(names)
        self.partial = path.with_name(path.name + ".partial")
        self._manifest_size = len(self._manifest_bytes({name: "0" * 64 for name in [*names, EVENTS]}))
        self._signature_size = len(self._signature(b""))
        self.events_offset = (3 * tarfile.BLOCKSIZE + _padded(self._manifest_size) + _padded(self._signature_size))
        self._file = open(self.partial, "wb")
        self._file.seek(self.events_offset)

    def events(self) -> BinaryIO:
        """Where the segment is to be written (positioned at its offset)."""
        return self._file

    def _manifest_bytes(self, files: dict[str, str]) -> bytes:
        return canonical_json({**self._manifest, "format": FORMAT, "files": dict(sorted(files.items())),
                               "public_key": self.key.public_key.hex()})

    def _signature(self, manifest_bytes: bytes) -> bytes:
        return canonical_json({"public_key": self.key.public_key.hex(),
                               "signature": self.key.private_key.sign(SIGNATURE_PREFIX + manifest_bytes).hex()})

    def finish(self, events_size: int, events_sha256: str, members: dict[str, bytes]) -> dict:
        """Write the rest and put the archive in place; returns the manifest as written."""
        if sorted(members) != self._names:
            raise ValueError(f"the archive was laid out for members {self._names}, not {sorted(members)}")
        files = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
        files[EVENTS] = events_sha256
        manifest_bytes = self._manifest_bytes(files)
        signature = self._signature(manifest_bytes)
        assert (len(manifest_bytes), len(signature)) == (self._manifest_size, self._signature_size)
        out = self._file
        out.write(bytes(-events_size % tarfile.BLOCKSIZE))
        for name in self._names:
            data = members[name]
            out.write(_header(name, len(data)) + data + bytes(-len(data) % tarfile.BLOCKSIZE))
        end = out.tell() + 2 * tarfile.BLOCKSIZE
        out.write(bytes(2 * tarfile.BLOCKSIZE + -end % tarfile.RECORDSIZE))  # as tarfile closes an archive
        out.seek(0)
        for name, data in ((MANIFEST, manifest_bytes), (SIGNATURE, signature)):
            out.write(_header(name, len(data)) + data + bytes(-len(data) % tarfile.BLOCKSIZE))
        out.write(_header(EVENTS, events_size))
        out.close()
        os.replace(self.partial, self.path)
        return json.loads(manifest_bytes)

    def discard(self) -> None:
        self._file.close()
        self.partial.unlink(missing_ok=True)


def _padded(size: int) -> int:
    return size + -size % tarfile.BLOCKSIZE


def _header(name: str, size: int) -> bytes:
    return _info(name, size).tobuf(tarfile.USTAR_FORMAT, tarfile.ENCODING, "surrogateescape")


@dataclass
class OpenArchive:
    """An archive whose manifest signature and member hashes have been checked."""

    path: Path
    manifest: dict
    tar: tarfile.TarFile

    def read(self, name: str) -> bytes:
        return self.tar.extractfile(name).read()

    def open_events(self) -> BinaryIO:
        return self.tar.extractfile(EVENTS)

    def close(self) -> None:
        self.tar.close()


def member_sha256(path: Path, member: tarfile.TarInfo) -> str:
    """The SHA-256 of a member's bytes, read from the file directly in large blocks (not through tarfile's reader)."""
    digest, left = hashlib.sha256(), member.size
    buffer = memoryview(bytearray(min(left, HASH_BLOCK) or 1))
    with open(path, "rb", buffering=0) as f:
        f.seek(member.offset_data)
        while left:
            got = f.readinto(buffer[:min(left, HASH_BLOCK)])
            if not got:
                raise ArchiveError(f"{path} is damaged: {member.name} ends early")
            digest.update(buffer[:got])  # large updates release the GIL: a check in a thread runs beside the recount
            left -= got
    return digest.hexdigest()


HASH_BLOCK = 4 << 20


def check_member(path: Path, manifest: dict, member: tarfile.TarInfo) -> None:
    """Raise ArchiveError unless the member's bytes hash to what the manifest says."""
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.sparse is not None:
        raise ArchiveError(f"tampered: {member.name} is not a plain file")
    if member_sha256(path, member) != manifest["files"][member.name]:
        raise ArchiveError(f"tampered: {member.name} does not match the hash in the manifest")


def open_archive(path: Path, *, public_key: bytes | None = None,
                 unchecked: frozenset[str] = frozenset()) -> OpenArchive:
    """Open and check an archive: its signature, then every member against the manifest.

    unchecked: members whose hashes the caller checks itself (check_member), e.g. beside the recount.
    """
    try:
        tar = tarfile.open(path, "r:")
    except (tarfile.TarError, OSError) as e:
        raise ArchiveError(f"{path} is not a civitas archive ({e})") from None
    try:
        names = _member_names(tar)
        if MANIFEST not in names or SIGNATURE not in names:
            raise ArchiveError(f"{path} is not a civitas archive: it has no manifest or no signature")
        manifest_bytes = tar.extractfile(MANIFEST).read()
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            raise ArchiveError(f"archive format {manifest.get('format')!r} is not {FORMAT!r}")
        _check_signature(manifest_bytes, json.loads(tar.extractfile(SIGNATURE).read()), manifest, public_key)
        listed = set(manifest["files"])
        present = set(names) - {MANIFEST, SIGNATURE}
        if listed - present:
            raise ArchiveError(f"tampered: {', '.join(sorted(listed - present))} missing, which the manifest lists")
        if present - listed:
            raise ArchiveError(f"tampered: {', '.join(sorted(present - listed))} in the archive, which the manifest "
                               "does not list")
        for name in sorted(listed - unchecked):
            check_member(path, manifest, tar.getmember(name))
        return OpenArchive(path, manifest, tar)
    except ArchiveError:
        tar.close()
        raise
    except (KeyError, ValueError, tarfile.TarError) as e:
        tar.close()
        raise ArchiveError(f"{path} is damaged: {e}") from None


def _member_names(tar: tarfile.TarFile) -> list[str]:
    """Every member's name, refusing what tar tools and this reader could see differently: a name twice (tar
    extracts the last, a reader may take the first), or anything but a plain file."""
    names, seen = [], set()
    for member in tar.getmembers():
        if member.name in seen:
            raise ArchiveError(f"tampered: the archive holds {member.name} twice; a civitas archive holds each member "
                               "once, so nobody can read a different one than was checked")
        if not member.isreg():
            raise ArchiveError(f"tampered: {member.name} is not a plain file; a civitas archive holds only files")
        seen.add(member.name)
        names.append(member.name)
    return names


def _check_signature(manifest_bytes: bytes, signature: dict, manifest: dict, public_key: bytes | None) -> None:
    key = bytes.fromhex(signature["public_key"])
    if key.hex() != manifest.get("public_key"):
        raise ArchiveError("forged: the signature's key is not the key the manifest names")
    if public_key is not None and key != public_key:
        raise ArchiveError(f"the archive is signed by key {key.hex()}, not the expected {public_key.hex()}")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(bytes.fromhex(signature["signature"]), SIGNATURE_PREFIX + manifest_bytes)
    except (InvalidSignature, ValueError):
        raise ArchiveError("forged: the manifest's signature does not verify") from None
