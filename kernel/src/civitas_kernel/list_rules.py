"""A site's voter-list rules, signed by the site: how they travel with its streams, so whoever compiles a list
of that site's registrants (a super-site, a peripheral site, an auditor) uses the site's own rules, provably.

Each statement carries a version, signed with the rules: strictly increasing with each change of the site's rules,
so a receiver keeps the highest it has seen and a relay cannot pass off an older set as the current one. A statement
signed before versions (no `version`) reads as version 0, below every versioned one."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.canonical import canonical_json
from civitas_kernel.signing import SiteKey

HELD = Path("sync") / "rules"  # CIVITAS_HOME/sync/rules/ORIGIN.json: the origins' statements a site keeps
_ORIGIN = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")  # a site name, so never a path elsewhere
PREFIX = b"civitas/list-rules/v1\n"  # unversioned statements, still read (an archive may carry one)
VERSIONED = b"civitas/list-rules/v2\n"


def _signed_bytes(site: str, rules: dict, version: int | None) -> bytes:
    if version is None:
        return PREFIX + canonical_json({"rules": rules, "site": site})
    return VERSIONED + canonical_json({"rules": rules, "site": site, "version": version})


def sign_list_rules(key: SiteKey, site: str, rules: dict, version: int) -> dict:
    """The statement `site` publishes of its list rules: {"site", "rules", "version", "signature"} (Ed25519,
    deterministic); `version` a positive integer, higher for every later set of rules."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("a list-rules version is a positive integer")
    return {"site": site, "rules": rules, "version": version,
            "signature": key.private_key.sign(_signed_bytes(site, rules, version)).hex()}


def rules_version(statement: dict) -> int:
    """The version a statement says it is (0: signed before versions); checked by check_list_rules."""
    version = statement.get("version")
    return 0 if version is None else version


def check_list_rules(statement: dict, public_key: bytes) -> dict:
    """The rules of a statement signed with `public_key`; ValueError saying why if it is not such a statement."""
    try:
        site, rules, signature = str(statement["site"]), statement["rules"], bytes.fromhex(statement["signature"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("a list-rules statement has a site, rules and a signature in hex") from None
    if not isinstance(rules, dict):
        raise ValueError(f"{site}: list rules are a JSON object")
    version = statement.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise ValueError(f"{site}: a list-rules version is a positive integer")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_bytes(site, rules, version))
    except (InvalidSignature, ValueError):
        raise ValueError(f"forged: the list rules said to be {site}'s are not signed with its key") from None
    return rules


def held_list_rules(home: Path) -> Callable[[str], dict | None]:
    """What a list compiler asks: the signed statement of an origin's rules the site keeps (written by the sync
    worker as they arrive), if any; checked again by whoever compiles with it."""
    def rules_of(origin: str) -> dict | None:
        if not _ORIGIN.fullmatch(origin) or ".." in origin:
            return None
        try:
            data = json.loads((home / HELD / f"{origin}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # none yet, or damaged: the next pull writes it again
        return data if isinstance(data, dict) else None
    return rules_of
