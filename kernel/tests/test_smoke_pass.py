"""The smoke pass: one the site issued admits until it expires; a forged, stale, far-future or malformed one never."""

from __future__ import annotations

from civitas_kernel.signing import SiteKey
from civitas_kernel.smoke_pass import MAX_TTL_S, SMOKE_HEADER, SmokePass


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def scope(value: str | None, method: str = "GET", path: str = "/") -> dict:
    headers = [(SMOKE_HEADER.encode(), value.encode())] if value is not None else []
    return {"type": "http", "method": method, "path": path, "headers": headers}


def test_a_pass_admits_until_it_expires_and_only_for_the_front_page():
    clock = Clock()
    key = SiteKey.generate().private_key
    issuer, checker = SmokePass.of_key(key, clock), SmokePass.of_key(key, clock)  # the deployer's and the gateway's
    value = issuer.issue(30)
    assert checker.admits(value) and checker.exempts(scope(value)) and checker.exempts(scope(value, "HEAD"))
    assert not checker.exempts(scope(value, "POST")) and not checker.exempts(scope(value, path="/api/polls"))
    assert not checker.exempts(scope(None))
    clock.now += 32
    assert not checker.admits(value)  # stale


def test_forged_passes_are_refused():
    clock = Clock()
    checker = SmokePass.of_key(SiteKey.generate().private_key, clock)
    other = SmokePass.of_key(SiteKey.generate().private_key, clock).issue(30)  # another site key's
    expires, _, mac = checker.issue(30).partition(".")
    for forged in (other, f"{int(expires) + 1}.{mac}", f"{expires}.{'0' * 64}", f"{expires}.", mac, "", "x" * 500,
                   f"-{expires}.{mac}", f"{expires}0000000000.{mac}"):
        assert not checker.admits(forged), forged
    assert SmokePass.of_key(SiteKey.generate().private_key, clock).issue(10 * MAX_TTL_S).split(".")[0] == str(
        int(clock.now + MAX_TTL_S) + 1)  # never longer than MAX_TTL_S


def test_a_pass_too_far_ahead_is_refused_even_with_the_right_mac():
    clock = Clock()
    key = SiteKey.generate().private_key
    later = Clock()
    later.now = clock.now + 10 * MAX_TTL_S
    value = SmokePass.of_key(key, later).issue(MAX_TTL_S)  # made by a clock far ahead: claims a far expiry
    assert not SmokePass.of_key(key, clock).admits(value)


def test_a_key_that_signs_through_a_socket_gives_no_pass(tmp_path):
    class Signer:  # as key_socket's: it signs, it holds no key bytes
        def sign(self, data: bytes) -> bytes:
            return b""

    assert SmokePass.of_site_key(SiteKey(Signer())) is None
    assert SmokePass.of_site_key(SiteKey.generate()) is not None
