"""Whose archive is it: the keys an auditor holds for the sites it knows, and the signer an archive names.

An archive proves only that whoever holds its key made it. Which key belongs to which site is something the
auditor must know already: their own site's key, a key they were given, or the sites they pinned.
"""

from __future__ import annotations

import json
import re
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from civitas_kernel.archive import MANIFEST, ArchiveError
from civitas_kernel.signing import public_key_bytes

KNOWN_SITES = "known-sites.toml"
HEX_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Signer:
    """The site and key an archive says signed it (not yet checked against anything)."""

    site: str
    public_key: bytes


def named_signer(path: Path) -> Signer:
    """Read who an archive says signed it, from its manifest alone (open_archive checks the signature itself)."""
    try:
        with tarfile.open(path, "r:") as tar:
            manifest = json.loads(tar.extractfile(MANIFEST).read())
        return Signer(str(manifest["site"]), bytes.fromhex(manifest["public_key"]))
    except (tarfile.TarError, OSError, KeyError, ValueError, AttributeError, TypeError) as e:
        raise ArchiveError(f"{path} is not a civitas archive: its manifest names no site and key ({e})") from None


def key_from_file(path: Path) -> bytes:
    """A site's public key from a file: its PEM private key (a site's own key file), a PEM public key, or 64 hex
    digits (what `civitas site` prints)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read the key file {path}: {e.strerror}") from None
    text = data.decode("ascii", errors="replace").strip().lower()
    if HEX_KEY.fullmatch(text):
        return bytes.fromhex(text)
    for load in (lambda d: serialization.load_pem_private_key(d, password=None), serialization.load_pem_public_key):
        try:
            key = load(data)
        except (ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PrivateKey):
            return public_key_bytes(key.public_key())
        if isinstance(key, Ed25519PublicKey):
            return public_key_bytes(key)
    raise ValueError(f"{path} holds no Ed25519 key: give a PEM key file, or the 64 hex digits `civitas site` prints")


def read_known_sites(path: Path) -> dict[str, bytes]:
    """The sites pinned in known-sites.toml: `[sites]` with `"name" = "64 hex digits"`; none if there is no file."""
    if not path.exists():
        return {}
    try:
        sites = tomllib.loads(path.read_text(encoding="utf-8")).get("sites", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid TOML ({e}); fix or remove it") from None
    if not isinstance(sites, dict):
        raise ValueError(f"{path}: [sites] must be a table of site = \"public key\"")
    known = {}
    for site, key in sites.items():
        if not isinstance(key, str) or not HEX_KEY.fullmatch(key.lower()):
            raise ValueError(f"{path}: the key of {site!r} must be 64 hex digits (what `civitas site` prints there)")
        known[site] = bytes.fromhex(key)
    return known


def write_known_sites(path: Path, known: dict[str, bytes]) -> None:
    """Write the pinned sites, sorted, atomically."""
    lines = ["# Sites whose archives `civitas audit` checks the signer of: name = its public key.", "[sites]"]
    lines += [f"{json.dumps(site)} = \"{key.hex()}\"" for site, key in sorted(known.items())]
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
