"""A site's signed ask "would you take this voter from me now?": whether a voter accepted a move from a site is theirs
to tell that site alone, so the ask is answered only when signed with the asking site's pinned key, addressed to the
site asked, naming the voter, and fresh (within FRESH_US of the asked site's clock)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.commands import CommandError
from civitas_kernel.signing import SiteKey

PREFIX = b"civitas/move-ready/v1\n"
FRESH_US = 120_000_000  # clocks may differ a little; an ask older (or further ahead) than this is refused


class AskRefused(CommandError):
    """An ask for a voter's move that does not prove which site asks: nothing about the voter is told."""

    status = 403


def _signed(from_site: str, to_site: str, voter: str, at_us: int) -> bytes:
    return PREFIX + f"{from_site}\n{to_site}\n{voter}\n{at_us}".encode()


def signed_ask(key: SiteKey, from_site: str, to_site: str, voter: str, at_us: int) -> dict:
    """The query parameters of GET /moves/v1/ready that `from_site` sends `to_site`."""
    signature = key.private_key.sign(_signed(from_site, to_site, voter, at_us)).hex()
    return {"voter": voter, "from": from_site, "at": at_us, "signature": signature}


def check_ask(key: bytes | None, from_site: str, here: str, voter: str, at_us: int, signature: str,
              now_us: int) -> None:
    """Refuse an ask not signed with `from_site`'s pinned key for this site and voter, or not fresh. The reasons say
    nothing of the voter: an ask that fails learns only that it failed."""
    if key is None:
        raise AskRefused(f"{here} holds no key for {from_site!r}: only a site its operator named may ask")
    if abs(now_us - at_us) > FRESH_US:
        raise AskRefused(f"the ask is stamped {abs(now_us - at_us) / 1e6:.0f} s from {here}'s clock (at most "
                         f"{FRESH_US / 1e6:g} s): check both clocks")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(bytes.fromhex(signature),
                                                       _signed(from_site, here, voter, at_us))
    except (InvalidSignature, ValueError):
        raise AskRefused(f"the ask is not signed with the key {here} pinned for {from_site}") from None
