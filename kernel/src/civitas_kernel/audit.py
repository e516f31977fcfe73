"""Audit: take a record archive alone, check it, recompile its result from the events inside, compare."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.archive import EVENTS, SIGNATURE_PREFIX, ArchiveError, check_member, open_archive
from civitas_kernel.log import Progress
from civitas_kernel.recount import Where, compile_verified
from civitas_kernel.records import Compile
from civitas_kernel.segment import SegmentSummary


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
    origin: str | None = None  # whose events were recounted, when another site's (received over the site network)
    origin_key: str | None = None  # the key they were checked against, as the record names it

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def audit_archive(
    path: Path, compilers: dict[str, Compile], *, public_key: bytes | None = None, progress: Progress | None = None
) -> AuditReport:
    archive = open_archive(path, public_key=public_key, unchecked=frozenset({EVENTS}))
    try:
        manifest = archive.manifest
        kind = compiler = manifest.get("kind")
        if kind not in compilers and "origin" in manifest:  # KIND@ORIGIN: a KIND over another site's streams
            compiler = str(kind).partition("@")[0]
        if compiler not in compilers:
            raise ArchiveError(f"cannot recompile a {kind!r} record; this civitas knows {', '.join(sorted(compilers))}")
        site_key = bytes.fromhex(manifest["public_key"])
        # A record of another site's streams (received over the site network) carries that site's key for its events.
        events_key = bytes.fromhex(manifest["origin_key"]) if "origin" in manifest else site_key
        depends = {dep: _checked_dependency(archive, dep, site_key) for dep in manifest.get("depends", {})}
        stored = archive.read(manifest["result"])
        member = archive.tar.getmember(EVENTS)
        config = archive.read("config.json")
    finally:
        archive.close()
    # The events' hash in the manifest is checked in a thread beside the recount (hashing large blocks releases the
    # GIL); its verdict comes first, as if it had been checked before: a tampered events.seg is named as such.
    with ThreadPoolExecutor(max_workers=1) as pool:
        events_hash = pool.submit(check_member, path, manifest, member)
        try:
            recompiled, verified = compile_verified(
                compilers[compiler], Where(path, member.offset_data, member.size), config, depends,
                public_key=events_key,
                check=partial(_check_cut, manifest), range_check=partial(_check_head, manifest), progress=progress,
                refused=lambda e: e if isinstance(e, ArchiveError) else ArchiveError(str(e)))
        except Exception:
            events_hash.result()
            raise
        events_hash.result()
    return AuditReport(
        kind, manifest["id"], manifest["site"], manifest["public_key"], verified.events,
        recompiled == stored, hashlib.sha256(stored).hexdigest(),
        None if recompiled == stored else first_difference(stored, recompiled), manifest.get("origin"),
        manifest.get("origin_key"),
    )


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


def _check_cut(manifest: dict, summary: SegmentSummary) -> None:
    expected = [(c["stream"], 1, c["seq"]) for c in manifest["cut"] if c["seq"] > 0]
    if summary.ranges != expected or summary.site != manifest.get("origin", manifest["site"]):
        raise ArchiveError(f"tampered: the events cover {summary.ranges}, but the record's cut is {expected}")


def _check_head(manifest: dict, stream: str, signed_head: bytes) -> None:
    heads = {c["stream"]: c["head_hash"] for c in manifest["cut"]}
    if signed_head.hex() != heads[stream]:
        raise ArchiveError(f"tampered: {stream} does not end where the record's cut says")


def first_difference(stored: bytes, recompiled: bytes) -> str:
    old, new = stored.decode(errors="replace").split("\n"), recompiled.decode(errors="replace").split("\n")
    for number, (a, b) in enumerate(zip(old, new), start=1):
        if a != b:
            return f"line {number}: the archive says {a!r}, the recount gives {b!r}"
    return f"the archive has {len(old)} lines, the recount {len(new)}"
