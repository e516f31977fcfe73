"""Voted maintenance in the many-process layout: the deployer service (its own process over PostgreSQL and a real
broker) runs an action a decision approved, once, in its round before it deploys; publishes the maintenance stream it
owns; and the gateway process draws the maintenance page from it. The voting window passes as the deployer restarts
with its clock a day ahead (later.py), as a day passing would; a further restart runs nothing again."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.testing.brokers import running_broker
from civitas_schema.v1.envelope_pb2 import Envelope

from civitas.cluster import WITH_DEPLOYER, Cluster
from civitas.testing import eventually

LATER = Path(__file__).with_name("later.py")
VOTERS = ["ann@example.org", "ben@example.org", "cat@example.org"]
HTML = {"Accept": "text/html"}


def deployer_at(hours: float) -> list[str]:
    """The deployer's process as its container runs it, its clock `hours` ahead."""
    return [sys.executable, str(LATER), str(hours), "civitas_deployer"]


def signed_in(gateway: httpx.Client, inbox, operator: dict, voters: list[str]) -> dict[str, dict]:
    """Each voter trusted by the operator (a registrar), signed in with a mailed code, living here; a list compiled."""
    headers = {}
    for voter in voters:
        trusted = gateway.post("/api/registrar/trust", json={"voter": voter, "edges": 1}, headers=operator)
        assert trusted.status_code == 200, trusted.text
        sent = gateway.post("/api/auth/code", json={"email": voter}).json()
        opened = gateway.post("/api/auth/session", json={"challenge": sent["challenge"],
                                                         "code": inbox.code_for(voter)})
        headers[voter] = {"Authorization": f"Bearer {opened.json()['token']}"}
        lived = gateway.post("/api/shell", json={"line": "register set residence 1 Main Street, Springfield 8001"},
                             headers=headers[voter])
        assert lived.status_code == 200, lived.text
    assert gateway.post("/api/records/list", headers=operator).status_code == 201
    return headers


def request_patch(live: Path, tmp_path: Path, name: str, action: str) -> str:
    """A voter's patch asking for a run: a new file maintenance/runs/NAME.toml, from a clone of the live repository."""
    clone = tmp_path / f"clone-{name}"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    (clone / "maintenance" / "runs").mkdir(parents=True, exist_ok=True)
    (clone / "maintenance" / "runs" / f"{name}.toml").write_text(f'action = "{action}"\nwhy = "hold still"\n')
    git = ["git", "-C", str(clone), "-c", "user.name=Ann", "-c", "user.email=ann@example.org"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", f"Run {action}"], check=True)
    return subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True, capture_output=True).stdout.decode()


def events(deployer: str, stream: str) -> list[Envelope]:
    sealed = httpx.get(f"{deployer}/events/{stream}", timeout=10).json()
    return [Envelope.FromString(base64.b64decode(e["raw"])) for e in sealed]


def kinds(deployer: str, stream: str) -> list[str]:
    return [e.type.rsplit(".", 1)[1] for e in events(deployer, stream)]


def on_the_topic(kafka: KafkaSettings, stream: str, expected: int) -> list[bytes]:
    """The stream's messages on the broker, read from the beginning by a consumer of no group."""
    from aiokafka import AIOKafkaConsumer

    async def read() -> list[bytes]:
        consumer = AIOKafkaConsumer(kafka.topic(stream), bootstrap_servers=kafka.bootstrap_servers,
                                    auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
        await consumer.start()
        found: list[bytes] = []
        try:
            deadline = time.monotonic() + 30
            while len(found) < expected and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(message.value for message in batch)
        finally:
            await consumer.stop()
        return found

    return asyncio.run(read())


def restart_deployer(cluster: Cluster, hours: float) -> None:
    cluster.stop_service("deployer")
    cluster.launch["deployer"] = deployer_at(hours)
    cluster.start_service("deployer")
    cluster.wait_ready("deployer", timeout=60)


@pytest.mark.slow
def test_an_approved_action_runs_once_in_the_deployer_service_and_shows_on_the_gateways_page(
        tmp_path, postgres_server_url, smtp, gateway_env):
    env = gateway_env | {"CIVITAS_DECIDE_EVERY_S": "1", "CIVITAS_DEPLOY_EVERY_S": "1"}
    workdir = tmp_path / "cluster"
    with running_broker("tansu") as broker:
        kafka = broker.settings()
        cluster = Cluster(workdir, postgres_server_url, kafka, extra_env=env, services=WITH_DEPLOYER,
                          launch={"deployer": deployer_at(0)})
        with cluster:
            gateway, deployer = httpx.Client(base_url=cluster.urls["gateway"], timeout=30), cluster.urls["deployer"]
            operator = {"Authorization": f"Bearer {gateway_env['CIVITAS_OPERATOR_TOKEN']}"}
            voters = signed_in(gateway, smtp[0], operator, VOTERS)
            live = workdir / "deployer" / "live.git"

            before = gateway.get("/maintenance", headers=HTML)
            assert before.status_code == 200 and 'data-action="pause-deployments"' in before.text, before.text
            compile_row = before.text.split('data-action="compile"')[1].split("</tr>")[0]
            assert "not offered on this site" in compile_row  # the counter's database is not the deployer's to touch
            refused = gateway.post("/api/changes", headers=voters[VOTERS[0]], json={
                "title": "Compile now", "patch": request_patch(live, tmp_path, "now", "compile")})
            assert refused.status_code == 400 and "does not offer" in refused.json()["detail"], refused.text

            made = gateway.post("/api/changes", headers=voters[VOTERS[0]], json={
                "title": "Hold the deployments", "patch": request_patch(live, tmp_path, "hold", "pause-deployments")})
            assert made.status_code == 201, made.text
            window = made.json()["data"]
            assert window["closes_at_us"] - window["made_at_us"] == 24 * 3600 * 1_000_000  # stop-only: the short one
            for voter in VOTERS[1:]:
                voted = gateway.put("/api/changes/1/vote", json={"choice": "yes"}, headers=voters[voter])
                assert voted.status_code == 200, voted.text
            asked = gateway.get("/maintenance", headers=HTML).text
            assert "maintenance/runs/hold.toml" in asked and "not decided yet" in asked
            assert kinds(deployer, "maintenance") == []

            restart_deployer(cluster, 25)  # a day later: the voting closed; decided, then run in the round
            ran = eventually(lambda: [r for r in httpx.get(deployer + "/maintenance", timeout=10).json()["runs"]
                                      if r["state"] == "finished"], "the deployer service ran the approved pause")
            assert [(r["action"], r["exit_code"], r["decision"]) for r in ran] == [("pause-deployments", 0, 1)]
            page = gateway.get("/maintenance", headers=HTML)
            assert page.status_code == 200
            run = page.text.split('<section class="run"')[1].split("</section>")[0]
            assert 'data-state="finished"' in run and '<strong class="exit">0</strong>' in run
            assert "deployments are paused" in run and "decision 1" in run
            assert kinds(deployer, "maintenance") == ["MaintenanceStarted", "MaintenanceFinished"]
            published = on_the_topic(kafka, "maintenance", 2)  # the stream it owns, on the broker
            assert len(published) == 2 and b"MaintenanceFinished" in published[1]
            time.sleep(3)  # rounds go on: the approved proposal itself is not deployed, the engine is paused
            assert httpx.get(deployer + "/deployments", timeout=10).json()["deployments"] == []

            restart_deployer(cluster, 26)  # started again: the run is in the log, so it is not run again
            time.sleep(4)  # several rounds
            assert kinds(deployer, "maintenance") == ["MaintenanceStarted", "MaintenanceFinished"]
            assert kinds(deployer, "deployment").count("DeploymentsPaused") == 1
            again = gateway.get("/maintenance", headers=HTML).text
            assert again.count('<section class="run"') == 1 and "deployments are paused" in again
