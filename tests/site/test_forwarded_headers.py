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


def test_behind_the_supervisors_proxy_its_pass_names_the_visitor_and_nothing_else_does(make_site_app, tmp_path):
    pass_file = tmp_path / "supervisor-pass"
    pass_file.write_text("the-supervisors-pass-0123456789")
    _, app = make_site_app(RATE_ADDRESS="3/10min", SUPERVISOR_PASS_FILE=pass_file)
    proxied = {"Civitas-Supervisor": "the-supervisors-pass-0123456789"}
    with ServerThread().serving(app) as base:
        def codes(headers: dict, count: int = 4) -> list[int]:
            return [httpx.get(base + "/health", headers=headers).status_code for _ in range(count)]

        assert codes(proxied | {"X-Forwarded-For": "203.0.113.1"}) == [200, 200, 200, 429]  # one visitor's bucket
        assert codes(proxied | {"X-Forwarded-For": "203.0.113.2"}, 1) == [200]  # another visitor's own
        # Without the pass (a wrong one, or none) the header names nobody: the sender's own address counts.
        assert codes({"Civitas-Supervisor": "guess", "X-Forwarded-For": "203.0.113.3"}) == [200, 200, 200, 429]
        assert codes({"X-Forwarded-For": "203.0.113.4"}, 1) == [429]
        assert codes(proxied, 5) == [200] * 5  # the supervisor's own health checks: uncounted


def test_the_public_proxy_believes_only_the_front_proxies_the_site_names(make_site_app, tmp_path):
    from civitas_deployer.host import PublicProxy

    proxy = PublicProxy("127.0.0.1", 0, forwarded_allow_ips="127.0.0.2")  # say, an nginx in front of host mode
    pass_file = tmp_path / "supervisor-pass"
    pass_file.write_text(proxy.supervisor_pass)
    _, app = make_site_app(RATE_CODE_ADDRESS="3/10min", SUPERVISOR_PASS_FILE=pass_file)
    proxy.start()
    try:
        with ServerThread().serving(app) as base:
            proxy.switch(int(base.rsplit(":", 1)[1]))
            public = f"http://127.0.0.1:{proxy.port}"
            for source, expected in (("127.0.0.2", [202] * 5), ("127.0.0.3", [202, 202, 202, 429, 429])):
                with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
                    codes = [client.post(public + "/api/auth/code", json={"email": f"v{i}@example.org"},
                                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                             for i in range(5)]
                assert codes == expected, source  # five visitors behind the named proxy; one client rotating
    finally:
        proxy.stop()
