"""Audit: take a record archive alone, check it, recompile its result from the events inside, compare."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.archive import EVENTS, SIGNATURE_PREFIX, ArchiveError, open_archive
from civitas_kernel.errors import LogError
from civitas_kernel.log import Progress
from civitas_kernel.records import Compile
from civitas_kernel.segment import SegmentReader, read_envelopes_unchecked


@dataclass
class AuditReport:
    kind: str
    id: int
    site: str
    public_key: str
    events: int
    matches: bool
    result_sha256: str
    difference: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def audit_archive(
    path: Path, compilers: dict[str, Compile], *, public_key: bytes | None = None, progress: Progress | None = None
) -> AuditReport:
    archive = open_archive(path, public_key=public_key)
    try:
        manifest = archive.manifest
        kind = manifest.get("kind")
        if kind not in compilers:
            raise ArchiveError(f"cannot recompile a {kind!r} record; this civitas knows {', '.join(sorted(compilers))}")
        site_key = bytes.fromhex(manifest["public_key"])
        depends = {dep: _checked_dependency(archive, dep, site_key) for dep in manifest.get("depends", {})}
        stored = archive.read(manifest["result"])
        # Two cores, two jobs: another process verifies every event while this one recounts.
        with ProcessPoolExecutor(max_workers=1) as pool:
            verification = pool.submit(verify_cut, str(path), site_key, manifest)
            try:
                recompiled, failure = compilers[kind](
                    _counted(read_envelopes_unchecked(archive.open_events()), progress), archive.read("config.json"), depends
                ), None
            except Exception as e:  # on a damaged segment, verification names the problem better
                recompiled, failure = b"", e
            problem, events = verification.result()
        if problem is not None:
            raise ArchiveError(problem)  # nothing recounted from unverified events is reported
        if failure is not None:
            raise failure
        return AuditReport(
            kind, manifest["id"], manifest["site"], manifest["public_key"], events,
            recompiled == stored, hashlib.sha256(stored).hexdigest(),
            None if recompiled == stored else first_difference(stored, recompiled),
        )
    finally:
        archive.close()


def _counted(envelopes: Iterator[envelope_pb2.Envelope], progress: Progress | None) -> Iterator[envelope_pb2.Envelope]:
    if progress is None:
        yield from envelopes
        return
    for count, envelope in enumerate(envelopes, start=1):
        if count % 10_000 == 0:
            progress(10_000)
        yield envelope


def verify_cut(path: str, site_key: bytes, manifest: dict) -> tuple[str | None, int]:
    """Verify every event of an archive's cut (in a worker process): (the problem found or None, events read)."""
    try:
        with tarfile.open(path, "r:") as tar:
            reader = SegmentReader(tar.extractfile(EVENTS), public_key=site_key)
            _check_cut(reader, manifest)
            for _ in _events_of_cut(reader, manifest):
                pass
            return None, reader.events_read
    except LogError as e:  # sent back as text: these errors do not survive pickling with their fields
        return str(e), 0


def _checked_dependency(archive, dep: str, site_key: bytes) -> bytes:
    """A result this record was compiled against, checked against that record's own signed manifest."""
    base = f"depends/{dep}/"
    manifest_bytes = archive.read(base + "manifest.json")
    signature = json.loads(archive.read(base + "signature.json"))
    try:
        Ed25519PublicKey.from_public_bytes(site_key).verify(bytes.fromhex(signature["signature"]), SIGNATURE_PREFIX + manifest_bytes)
    except (InvalidSignature, ValueError):
        raise ArchiveError(f"forged: the {dep} record this depends on is not signed by the site") from None
    dep_manifest = json.loads(manifest_bytes)
    result = archive.read(base + dep_manifest["result"])
    if hashlib.sha256(result).hexdigest() != dep_manifest["files"][dep_manifest["result"]]:
        raise ArchiveError(f"tampered: the {dep} result differs from the one its record signed")
    return result


def _check_cut(reader: SegmentReader, manifest: dict) -> None:
    expected = [(c["stream"], 1, c["seq"]) for c in manifest["cut"] if c["seq"] > 0]
    held = [(r.stream, r.first_seq, r.last_seq) for r in reader.header.ranges]
    if held != expected or reader.site != manifest["site"]:
        raise ArchiveError(f"tampered: the events cover {held}, but the record's cut is {expected}")


def _events_of_cut(reader: SegmentReader, manifest: dict) -> Iterator[envelope_pb2.Envelope]:
    heads = {c["stream"]: c["head_hash"] for c in manifest["cut"]}
    for stream_range in reader.ranges():
        yield from stream_range.envelopes
        signed_head = envelope_pb2.Checkpoint.FromString(stream_range.checkpoint.checkpoint).head_hash
        if signed_head.hex() != heads[stream_range.stream]:
            raise ArchiveError(f"tampered: {stream_range.stream} does not end where the record's cut says")


def first_difference(stored: bytes, recompiled: bytes) -> str:
    old, new = stored.decode(errors="replace").split("\n"), recompiled.decode(errors="replace").split("\n")
    for number, (a, b) in enumerate(zip(old, new), start=1):
        if a != b:
            return f"line {number}: the archive says {a!r}, the recount gives {b!r}"
    return f"the archive has {len(old)} lines, the recount {len(new)}"
