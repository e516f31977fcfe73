"""The public port with real releases: each visitor has a rate limit of their own through the proxy, a forwarded
header a visitor makes up counts for nothing, a kept-alive connection follows a switch, and a flood of a candidate's
own port does not fail it."""

from __future__ import annotations

import socket
import time

import h11
import httpx
import pytest

from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host.health import smoke

from .conftest import WINDOW_S

LIMIT = 15  # requests per address in 10 minutes: a flood spends it in a moment


@pytest.fixture
def limited(host):
    host.runner.environ["CIVITAS_RATE_ADDRESS"] = f"{LIMIT}/10min"
    return host


def visitor(host, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any of 127.0.0.0/8 reaches the loopback)."""
    return httpx.Client(base_url=f"http://127.0.0.1:{host.proxy.port}", timeout=10,
                        transport=httpx.HTTPTransport(local_address=address))


def flood(client: httpx.Client, url: str = "/health", **headers) -> list[int]:
    return [client.get(url, headers=headers).status_code for _ in range(LIMIT + 5)]


def test_a_flooding_visitor_spends_their_own_limit_and_a_forged_header_changes_nothing(limited, sources):
    limited.deploy(sources.good)
    with visitor(limited, "127.0.0.2") as attacker, visitor(limited, "127.0.0.3") as voter:
        codes = flood(attacker)
        assert codes[-1] == 429 and codes.count(200) <= LIMIT  # one address's bucket is spent
        # Made-up forwarding headers, the pass guessed: still the attacker's own address.
        forged = flood(attacker, "/health", **{"X-Forwarded-For": "198.51.100.7", "Civitas-Supervisor": "guess"})
        assert set(forged) == {429}
        assert voter.get("/").status_code == 200  # another visitor is not locked out
        assert voter.get("/health").status_code == 200


def exchange(sock: socket.socket, conn: h11.Connection) -> h11.Response:
    """GET / on an open connection; the answer's head (its body read to the end)."""
    sock.sendall(conn.send(h11.Request(method="GET", target="/", headers=[("Host", "site")])) +
                 conn.send(h11.EndOfMessage()))
    response = None
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.EndOfMessage):
            conn.start_next_cycle()
            return response
        elif isinstance(event, h11.ConnectionClosed):
            raise AssertionError("the connection was closed")


def test_a_kept_alive_connection_is_answered_by_the_new_release_after_a_switch(host, sources):
    first = host.deploy(sources.good)
    with socket.create_connection(("127.0.0.1", host.proxy.port), timeout=10) as sock:
        conn = h11.Connection(h11.CLIENT)
        before = exchange(sock, conn)
        host.deploy(sources.variants["probe"])  # the first release is stopped once the new one serves
        after = exchange(sock, conn)  # the same connection, its next request
    assert not first.details["child"].alive()
    assert before.status_code == after.status_code == 200
    assert dict(before.headers)[b"civitas-release"] == sources.good.encode()
    assert dict(after.headers)[b"civitas-release"] == sources.variants["probe"].encode()


def test_a_flood_of_the_candidates_port_does_not_fail_a_good_release(limited, sources):
    limited.deploy(sources.good)
    commit = sources.variants["probe"]
    limited.runner.prepare(commit, limited.export(commit))
    candidate = limited.runner.start(commit)
    child = candidate.details["child"]
    with httpx.Client(base_url=f"http://127.0.0.1:{child.port}", timeout=10) as local:
        for _ in range(200):  # until the candidate is up, then past its limit for this address
            try:
                if local.get("/health").status_code == 429:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert set(flood(local, "/")) == {429}
    with pytest.raises(ReleaseFailed, match="answered 429"):  # the same smoke request without the pass fails it
        smoke(child, limited.runner.limits)
    limited.runner.check(candidate, WINDOW_S)  # with the supervisor's pass: uncounted, so it passes
    limited.runner.switch(candidate)
    assert limited.get().headers["Civitas-Release"] == commit
