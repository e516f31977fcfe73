"""A site's voter-list rules, signed by the site: how they travel with its streams, so whoever compiles a list
of that site's registrants (a super-site, a peripheral site, an auditor) uses the site's own rules, provably."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.canonical import canonical_json
from civitas_kernel.signing import SiteKey

PREFIX = b"civitas/list-rules/v1\n"


def _signed_bytes(site: str, rules: dict) -> bytes:
    return PREFIX + canonical_json({"rules": rules, "site": site})


def sign_list_rules(key: SiteKey, site: str, rules: dict) -> dict:
    """The statement `site` publishes of its list rules: {"site", "rules", "signature"} (Ed25519, deterministic)."""
    return {"site": site, "rules": rules, "signature": key.private_key.sign(_signed_bytes(site, rules)).hex()}


def check_list_rules(statement: dict, public_key: bytes) -> dict:
    """The rules of a statement signed with `public_key`; ValueError saying why if it is not such a statement."""
    try:
        site, rules, signature = str(statement["site"]), statement["rules"], bytes.fromhex(statement["signature"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("a list-rules statement has a site, rules and a signature in hex") from None
    if not isinstance(rules, dict):
        raise ValueError(f"{site}: list rules are a JSON object")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_bytes(site, rules))
    except (InvalidSignature, ValueError):
        raise ValueError(f"forged: the list rules said to be {site}'s are not signed with its key") from None
    return rules
