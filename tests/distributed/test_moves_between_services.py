"""A voter's move between two sites run as services: each site's `civitas serve registry` in a process of its own, on
a PostgreSQL log of record of its own, naming the other in its sync.toml; commands as the gateway sends them. Then
the same through each site's public address: its gateway (`civitas serve gateway`) in front of its registry, which
forwards a move's calls to the registry and draws the voter's moves and the site's lineage from it."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from civitas.testing import serving_process
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.ports import free_port
from civitas_registry.move_asks import signed_ask
from civitas_sync import Peer, attach_peer

A, B, V, F = "a.example", "b.example", "mover@example.org", "friend@example.org"
PAGE = {"Accept": "text/html"}


def registry(home: Path, site: str, port: int, log_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": site, "CIVITAS_PORT": str(port), "CIVITAS_LOG_URL": log_url,
        "CIVITAS_PUBLISH_WAIT_S": "0", "CIVITAS_COUNTER_URL": "http://127.0.0.1:9",
        "CIVITAS_DRAFTS_URL": ""}  # no broker, no counter, no drafts service here
    return serving_process("registry", env, home / "registry.log")


def command(url: str, voter: str, *args: str) -> dict:
    body = {"commands": [{"voter": voter, "service": "register", "args": list(args)}]}
    return httpx.post(url + "/commands", json=body, timeout=30).json()["results"][0]


def test_a_voter_moves_between_two_registry_services(tmp_path, make_database_url):
    homes = {site: tmp_path / site for site in (A, B)}
    keys = {site: SiteKey.load_or_create(home / "site-key.pem") for site, home in homes.items()}
    ports = {site: free_port() for site in (A, B)}
    for site, other in ((A, B), (B, A)):
        attach_peer(homes[site], site, Peer(other, "source" if site == A else "peripheral",
                                            f"http://127.0.0.1:{ports[other]}", keys[other].public_key))
    with ExitStack() as stack:
        a, b = (stack.enter_context(registry(homes[s], s, ports[s], make_database_url("postgres"))) for s in (A, B))
        assert "text" in command(a, V, "set", "name", "Mover")
        assert "does not know site" in command(a, V, "move", "c.example")["detail"]
        refused = command(a, V, "move", B)
        assert refused["status"] == 400 and "accept-move a.example" in refused["detail"]  # nothing written at A
        assert httpx.get(f"{a}/moves/v1/voters/{V}").json()["moves"] == []

        # only A's signed ask learns whether the voter accepted
        assert command(b, V, "accept-move", A)["data"]["accepted"]
        now = time.time_ns() // 1000
        assert httpx.get(f"{b}/moves/v1/ready", params=signed_ask(keys[A], A, B, V, now)).json()["ready"]
        forged = httpx.get(f"{b}/moves/v1/ready", params=signed_ask(SiteKey.generate(), A, B, V, now))
        assert forged.status_code == 403 and V not in forged.text

        moved = command(a, V, "move", B)
        assert moved["data"]["arrived"], moved
        assert httpx.get(f"{a}/moves/v1/voters/{V}").json()["moved_to"] == B
        assert httpx.get(f"{a}/registrants/{V}").json()["moved"] == {  # what the gateway's voter pages show
            "moved_to": B, "moved_url": f"{b}/voters/{V}"}
        arrived = httpx.get(f"{b}/moves/v1/voters/{V}").json()
        assert [m["direction"] for m in arrived["moves"]] == ["in"] and arrived["moved_to"] is None
        assert httpx.get(f"{b}/registrants/{V}").json()["attributes"] == {"name": "Mover"}
        assert "your register is there now" in command(a, V, "set", "name", "Again")["detail"]
        assert command(a, V, "accept-move", B)["data"]["accepted"]
        assert "cooling-off" in command(b, V, "move", A)["detail"]  # checked at B before asking A


def gateway(home: Path, site: str, port: int, registry_url: str):
    """The site's gateway, in front of its registry alone (no polls, counter, deployer or drafts answer here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": site, "CIVITAS_PORT": str(port),
        "CIVITAS_REGISTRY_URL": registry_url, "CIVITAS_POLLS_URL": "http://127.0.0.1:9",
        "CIVITAS_COUNTER_URL": "http://127.0.0.1:9", "CIVITAS_DEPLOYER_URL": "", "CIVITAS_DRAFTS_URL": ""}
    return serving_process("gateway", env, home / "gateway.log")  # the services it cannot reach are logged


def test_a_move_reaches_the_registry_through_the_gateway_which_draws_the_pages(tmp_path, make_database_url):
    homes = {site: tmp_path / site for site in (A, B)}
    keys = {site: SiteKey.load_or_create(home / "site-key.pem") for site, home in homes.items()}
    registry_ports = {site: free_port() for site in (A, B)}
    gateway_ports = {site: free_port() for site in (A, B)}
    for site, other in ((A, B), (B, A)):  # each site knows the other at its public address: its gateway
        attach_peer(homes[site], site, Peer(other, "source" if site == A else "peripheral",
                                            f"http://127.0.0.1:{gateway_ports[other]}", keys[other].public_key))
    with ExitStack() as stack:
        a, b = (stack.enter_context(registry(homes[s], s, registry_ports[s], make_database_url("postgres")))
                for s in (A, B))
        gates = {s: stack.enter_context(gateway(tmp_path / f"gateway-{s}", s, gateway_ports[s], url))
                 for s, url in ((A, a), (B, b))}
        at_a, at_b = gates[A], gates[B]
        assert "text" in command(a, V, "set", "name", "Mover")
        assert "text" in command(a, F, "set", "name", "Friend")
        assert "text" in command(a, F, "trust", V)

        never = httpx.get(f"{at_a}/voters/{V}/moves", headers=PAGE)
        assert never.status_code == 200 and "never moved" in never.text and "<nav" in never.text  # the site's layout
        unknown = httpx.get(f"{at_a}/voters/nobody@example.org/moves", headers=PAGE)
        assert unknown.status_code == 404 and "nobody@example.org is not registered on this site" in unknown.text
        malformed = httpx.get(f"{at_a}/voters/not-an-address/moves", headers=PAGE)
        assert malformed.status_code == 400 and 'id="problem"' in malformed.text
        lineage = httpx.get(f"{at_b}/site/lineage", headers=PAGE)
        assert lineage.status_code == 200 and "b.example is not a fork: it started from nothing." in lineage.text

        # B's gateway passes A's signed ask to B's registry, and its answer back with its status
        assert command(b, V, "accept-move", A)["data"]["accepted"]
        now = time.time_ns() // 1000
        assert httpx.get(f"{at_b}/moves/v1/ready", params=signed_ask(keys[A], A, B, V, now)).json()["ready"]
        forged = httpx.get(f"{at_b}/moves/v1/ready", params=signed_ask(SiteKey.generate(), A, B, V, now))
        assert forged.status_code == 403 and V not in forged.text
        refused = httpx.post(f"{at_b}/moves/v1/arrive", json={"statement": "nonsense"})
        assert 400 <= refused.status_code < 500 and refused.headers["content-type"].startswith("application/problem")
        too_big = httpx.post(f"{at_b}/moves/v1/arrive", content=b"{" + b" " * (1024 * 1024) + b"}",
                             headers={"content-type": "application/json"})
        assert too_big.status_code == 413  # bounded at the gateway, never read whole into the registry
        for path in (f"/moves/v1/voters/{V}", "/moves/v1/lineage"):  # the registry's reads stay behind the gateway
            assert httpx.get(at_b + path).status_code == 404

        moved = command(a, V, "move", B)  # A's registry calls B's public address: B's gateway
        assert moved["data"]["arrived"], moved
        left = httpx.get(f"{at_a}/voters/{V}/moves", headers=PAGE).text
        assert f"now votes on <strong><a href=\"{at_b}/voters/{V}\">b.example</a>" in left
        assert 'data-direction="out">moved to b.example on' in left
        arrived = httpx.get(f"{at_b}/voters/{V}/moves", headers=PAGE).text
        assert 'data-direction="in">moved in from a.example on' in arrived and "now votes on" not in arrived
        assert "1 trust edges given at a.example: evidence here, counted there" in arrived
