"""A voter's move between two sites run as services: each site's `civitas serve registry` in a process of its own, on
a PostgreSQL log of record of its own, naming the other in its sync.toml; commands as the gateway sends them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.ports import free_port
from civitas_registry.move_asks import signed_ask
from civitas_sync import Peer, attach_peer

CIVITAS = str(Path(sys.executable).parent / "civitas")
A, B, V = "a.example", "b.example", "mover@example.org"


@contextmanager
def registry(home: Path, site: str, port: int, log_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": site, "CIVITAS_PORT": str(port), "CIVITAS_LOG_URL": log_url,
        "CIVITAS_PUBLISH_WAIT_S": "0", "CIVITAS_COUNTER_URL": "http://127.0.0.1:9",
        "CIVITAS_DRAFTS_URL": ""}  # no broker, no counter, no drafts service here
    process = subprocess.Popen([CIVITAS, "serve", "registry"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the registry of {site} did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(20)


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
