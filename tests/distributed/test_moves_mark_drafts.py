"""A move between sites run as services marks the voter's drafts memberships: each site's `civitas serve registry`
and `civitas serve drafts` in processes of their own, on PostgreSQL logs of their own. The drafts service writes the
mark (the one writer of the draft stream) when the register tells it of the statement signed with the site's key."""

from __future__ import annotations

import base64
import os
from contextlib import ExitStack
from pathlib import Path

import httpx

from civitas.testing import serving_process
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.ports import free_port
from civitas_schema.v1 import envelope_pb2
from civitas_sync import Peer, attach_peer

A, B, V, F = "a.example", "b.example", "mover@example.org", "friend@example.org"


def serve(service: str, home: Path, site: str, port: int, log_url: str, **env_extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": site, "CIVITAS_PORT": str(port), "CIVITAS_LOG_URL": log_url,
        "CIVITAS_PUBLISH_WAIT_S": "0", "CIVITAS_COUNTER_URL": "http://127.0.0.1:9"} | env_extra  # no broker here
    return serving_process(service, env, home / f"{service}.log", timeout_s=90)


def command(url: str, voter: str, service: str, *args: str) -> dict:
    body = {"commands": [{"voter": voter, "service": service, "args": list(args)}]}
    return httpx.post(url + "/commands", json=body, timeout=30).json()["results"][0]


def members(drafts: str, group: str) -> dict:
    return {m["voter"]: m for m in httpx.get(f"{drafts}/groups/{group}/members").json()["members"]}


def test_a_move_between_services_marks_the_voters_drafts_memberships(tmp_path, make_database_url):
    homes = {site: tmp_path / site for site in (A, B)}
    keys = {site: SiteKey.load_or_create(home / "site-key.pem") for site, home in homes.items()}
    ports = {(site, s): free_port() for site in (A, B) for s in ("registry", "drafts")}
    for site, other in ((A, B), (B, A)):
        attach_peer(homes[site], site, Peer(other, "source" if site == A else "peripheral",
                                            f"http://127.0.0.1:{ports[other, 'registry']}", keys[other].public_key))
    logs = {(site, s): make_database_url("postgres") for site in (A, B) for s in ("registry", "drafts")}

    def drafts_of(site: str):
        return serve("drafts", tmp_path / f"{site}-drafts", site, ports[site, "drafts"], logs[site, "drafts"],
                     CIVITAS_KEY_FILE=str(homes[site] / "site-key.pem"))  # every service signs with the site's key

    with ExitStack() as stack:
        a, b = (stack.enter_context(serve(
            "registry", homes[s], s, ports[s, "registry"], logs[s, "registry"],
            CIVITAS_DRAFTS_URL=f"http://127.0.0.1:{ports[s, 'drafts']}")) for s in (A, B))
        stack.enter_context(drafts_of(B))
        with drafts_of(A) as drafts_a:
            group = command(drafts_a, F, "drafts", "group", "create", "Town plan", "--weight", "5")["data"]["id"]
            command(drafts_a, F, "drafts", "group", "add", group, V, "mover", "3")
            post = command(drafts_a, V, "drafts", "post", group, "Widen the bridge")["data"]["post"]
            assert command(b, V, "register", "accept-move", A)["data"]["accepted"]

        # A's drafts service does not answer: the move writes nothing, anywhere
        refused = command(a, V, "register", "move", B)
        assert refused["status"] == 400 and "drafts" in refused["detail"], refused
        assert httpx.get(f"{a}/moves/v1/voters/{V}").json()["moves"] == []
        assert httpx.get(f"{b}/moves/v1/voters/{V}").json()["moves"] == []

        with drafts_of(A) as drafts_a:
            moved = command(a, V, "register", "move", B)
            assert moved["data"]["arrived"] and "marked" not in moved["data"], moved
            assert moved["data"]["named"] == 1  # their one drafts event (the post); no register event of theirs
            shown = members(drafts_a, group)
            assert shown[V]["moved_to"] == B and shown[V]["weight"] == 3 and shown[F]["moved_to"] is None
            assert httpx.get(f"{drafts_a}/posts/{post}").json()["author_moved_to"] == B

            # a mark only for a move event signed with this site's key: B's own arrival event, signed by B, is refused
            arrival = httpx.get(f"{b}/events/registration").json()[-1]
            sealed = envelope_pb2.SealedEvent(envelope=base64.b64decode(arrival["raw"]),
                                              hash=base64.b64decode(arrival["hash"])).SerializeToString()
            forged = httpx.post(f"{drafts_a}/moves/marks", json={
                "statement": base64.b64encode(sealed).decode(), "checkpoint": arrival["checkpoint"]})
            assert forged.status_code == 403 and "this site's key" in forged.json()["detail"]
            assert members(drafts_a, group)[V]["moved_to"] == B  # unchanged: it would have cleared the mark
