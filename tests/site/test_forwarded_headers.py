"""Who the client is, over real HTTP as civitas serves it: X-Forwarded-For counts only from a proxy the site names
(CIVITAS_FORWARDED_ALLOW_IPS), so a client that makes up the header is limited like any other."""

from __future__ import annotations

import httpx

from civitas_kernel.testing.serving import ServerThread


def ask_codes(base: str, count: int) -> list[int]:
    return [httpx.post(base + "/api/auth/code", json={"email": f"v{i}@example.org"},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(count)]


def test_a_client_rotating_x_forwarded_for_is_still_limited(make_site_app):
    _, app = make_site_app(RATE_CODE_ADDRESS="3/10min")
    with ServerThread().serving(app) as base:
        assert ask_codes(base, 5) == [202, 202, 202, 429, 429]


def test_a_named_proxy_says_who_its_clients_are(make_site_app):
    _, app = make_site_app(RATE_CODE_ADDRESS="3/10min", FORWARDED_ALLOW_IPS="127.0.0.1")
    with ServerThread().serving(app) as base:
        assert ask_codes(base, 5) == [202] * 5  # five clients behind the proxy, each with its own limit
