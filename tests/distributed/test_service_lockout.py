"""The lock-out in the many-process layout: `civitas serve gateway` refuses the operator's token once the site is
locked down and reports each attempt to the deployer service over a call signed with the site key; the deployer,
which owns the lockout stream there, records them (one event a minute, the rest counted, the count kept across its
restarts), and the gateway's /lockout page shows them. Nobody else can write there."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import httpx
import pytest

from civitas_kernel.commands import CommandError, ForbiddenError
from civitas_kernel.lockdown import mark_locked_down
from civitas_kernel.service.callers import CALLER_HEADER, CallerPass
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.brokers import running_broker
from civitas_schema.v1.envelope_pb2 import Envelope
from civitas_schema.v1.lockout_pb2 import OperatorRefused

from civitas.cluster import WITH_DEPLOYER, Cluster

HTML = {"Accept": "text/html"}


def recorded(deployer: str) -> list[tuple[Envelope, OperatorRefused]]:
    """The lockout stream as its owner sealed it: each envelope and what it says."""
    sealed = [Envelope.FromString(base64.b64decode(e["raw"]))
              for e in httpx.get(f"{deployer}/events/lockout", timeout=10).json()]
    return [(e, OperatorRefused.FromString(e.body)) for e in sealed]


def restart(cluster: Cluster, service: str) -> None:
    cluster.stop_service(service)
    cluster.start_service(service)
    cluster.wait_ready(service, timeout=60)


@pytest.mark.slow
def test_the_operators_token_refused_by_the_gateway_service_is_recorded_by_the_deployer_and_shown(
        tmp_path, postgres_server_url, gateway_env):
    workdir = tmp_path / "cluster"
    serve_gateway = [str(Path(sys.executable).parent / "civitas"), "serve", "gateway"]
    token = gateway_env["CIVITAS_OPERATOR_TOKEN"]
    with running_broker("tansu") as broker:
        cluster = Cluster(workdir, postgres_server_url, broker.settings(), extra_env=gateway_env,
                          services=WITH_DEPLOYER, launch={"gateway": serve_gateway})
        with cluster:
            gateway, deployer = httpx.Client(base_url=cluster.urls["gateway"], timeout=30), cluster.urls["deployer"]
            operator = {"Authorization": f"Bearer {token}"}
            assert gateway.post("/api/polls", json={"name": "first"}, headers=operator).status_code == 201
            before = gateway.get("/lockout", headers=HTML).text
            assert 'data-locked="no"' in before and "No use of the operator's token has been refused" in before
            assert recorded(deployer) == []  # the operator's own use, before: nothing

            mark_locked_down(workdir / "gateway", "localhost", 1_780_000_000_000_000)  # `civitas lockdown` there
            for _ in range(3):
                refused = gateway.post("/api/polls", json={"name": "second"}, headers=operator)
                assert refused.status_code == 403 and refused.json()["type"].endswith("locked-down"), refused.text
            wrong = gateway.post("/api/polls", json={"name": "x"}, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            ((envelope, said),) = recorded(deployer)  # three in a minute: one event; the wrong token: none
            assert envelope.actor == "operator" and (said.method, said.route, said.client) == (
                "POST", "/api/polls", "127.0.0.1")
            assert said.folded == 0 and token.encode() not in envelope.SerializeToString()

            page = gateway.get("/lockout", headers=HTML).text
            assert 'data-locked="yes"' in page and "governs itself since" in page
            row = page.split('<table id="attempts">')[1].split("</table>")[0]
            assert "POST /api/polls" in row and "127.0.0.1" in row

            body = {"kind": "operator-token", "method": "POST", "route": "/forged", "client": "10.0.0.9"}
            for headers in ({}, {CALLER_HEADER: "gateway 9999999999 " + "0" * 64}):  # unsigned, forged
                forged = httpx.post(deployer + "/lockout/refusals", json=body, headers=headers, timeout=10)
                assert forged.status_code == 403 and forged.json()["type"].endswith("internal-only")
            callers = CallerPass.of_key(SiteKey.load_or_create(cluster.key_file).private_key)  # the site's own key
            reporter = ServiceClient("deployer", deployer)
            with pytest.raises(ForbiddenError, match="site's own services"):  # signed, but not by a gateway
                reporter.post_as("polls", callers, "/lockout/refusals", body)
            with pytest.raises(CommandError, match="not a refusal of the lock-out's"):  # no such kind
                reporter.post_as("gateway", callers, "/lockout/refusals", body | {"kind": "voter-session"})
            assert len(recorded(deployer)) == 1  # nothing written on anyone else's word, nor for a wrong kind

            restart(cluster, "deployer")  # its stop writes the two attempts it had counted since
            assert [(s.route, s.folded) for _, s in recorded(deployer)] == [("/api/polls", 0), ("/api/polls", 1)]
            configure = gateway.patch("/api/polls/first", json={"title": "Later"}, headers=operator)
            assert configure.status_code == 403  # refused, and reported to the new deployer process
            assert len(recorded(deployer)) == 2  # the minute held across the restart: counted, not written yet
            restart(cluster, "deployer")
            attempts = [s for _, s in recorded(deployer)]
            assert sum(1 + s.folded for s in attempts) == 4  # every refused attempt counted, across two restarts
            assert (attempts[-1].method, attempts[-1].route, attempts[-1].folded) == ("PATCH", "/api/polls/first", 0)
            shown = gateway.get("/lockout", headers=HTML).text.split('<table id="attempts">')[1].split("</table>")[0]
            assert shown.count("<tr data-kind=") == 3 and "1 more" in shown

            cluster.stop_service("deployer")  # nobody to record it: the token is refused all the same
            alone = gateway.post("/api/polls", json={"name": "third"}, headers=operator)
            assert alone.status_code == 403 and alone.json()["type"].endswith("locked-down"), alone.text
