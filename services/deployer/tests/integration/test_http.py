"""The deployer as a service of its own, over real HTTP and a real PostgreSQL log of record: voters' commands from the
gateway, proposals from a patch or a git URL, decisions as records an auditor downloads and recounts."""

from __future__ import annotations

import base64
import subprocess
import sys
import time

import httpx
import pytest
from fastapi import FastAPI

from civitas_kernel.audit import audit_archive
from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.service.keys import shared_site_key
from civitas_kernel.testing.ports import free_port
from civitas_kernel.voter_list import VoterEntry, encode_voter_list
from civitas_deployer import COMPILERS
from civitas_deployer.http import create_deployer_app
from civitas_deployer.settings import DeployerSettings

from ..front_page import front_page
from ..git_repos import Clone
from ..sites import ALICE, BOB, CAROL, DAVE, Later

VOTERS = (ALICE, BOB, CAROL, DAVE)


def counter_app() -> FastAPI:
    """The counter's two routes the deployer reads voter lists by, answering as the counter does (list 1 reported)."""
    app = FastAPI()
    text = encode_voter_list([VoterEntry(v, 1) for v in VOTERS]).decode()

    @app.get("/records/list/reported")
    def reported() -> dict:
        return {"id": 1}

    @app.get("/records/list/{record_id}/result")
    def result(record_id: int) -> dict:
        return {"kind": "list", "id": record_id, "result": text}

    return app


@pytest.fixture
def deployer(request, tmp_path, make_database_url, server_thread, monkeypatch):
    """(base URL, settings, Later) of the deployer served in a thread, reading voter lists from a served counter and
    smoke-checking releases through a front page served from its releases; settings given as `request.param`
    (parametrized indirectly; by default it never decides or deploys on its own clock)."""
    later = Later(monkeypatch)
    home = tmp_path / "home"
    with server_thread().serving(counter_app()) as counter, server_thread().serving(front_page(home)) as gateway:
        settings = DeployerSettings(SERVICE="deployer", HOME=home, SITE="localhost",
                                    LOG_URL=make_database_url("postgres"), COUNTER_URL=counter, PUBLISH_WAIT_S=0,
                                    FETCH_INTERNAL_HOSTS=True,  # the test's git daemon is on loopback
                                    GATEWAY_URL=gateway, **({"DECIDE_EVERY_S": 0, "DEPLOY_EVERY_S": 0} |
                                                            getattr(request, "param", {})))
        app = create_deployer_app(settings, kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
        with server_thread().serving(app) as url:
            yield url, settings, later


def propose_page(url: str, settings, tmp_path) -> None:
    clone = Clone(settings.live_repo_path, tmp_path / "clone")
    clone.write("pages/about.md", "About us\n")
    clone.commit("An about page")
    proposed = httpx.post(url + "/proposals", json={"voter": ALICE, "title": "About us",
                                                    "patch": clone.patch().decode()})
    assert proposed.status_code == 201, proposed.text


def commands(url: str, *lines: tuple[str, list[str]]) -> list[dict]:
    body = {"commands": [{"voter": voter, "service": "change", "args": args} for voter, args in lines]}
    reply = httpx.post(url + "/commands", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]


def test_proposals_votes_and_a_decision_over_http(deployer, tmp_path, git_daemon):
    url, settings, later = deployer
    propose_page(url, settings, tmp_path)
    clone = Clone(settings.live_repo_path, tmp_path / "team")
    clone.git("checkout", "--quiet", "-b", "team", "origin/main")
    clone.write("pages/team.md", "Team\n")
    clone.commit("A team page")
    subprocess.run(["git", "clone", "--quiet", "--bare", str(clone.path), str(git_daemon[1] / "voter.git")], check=True)
    fetched = httpx.post(url + "/proposals", json={"voter": BOB, "title": "Team", "url": f"{git_daemon[0]}/voter.git",
                                                   "ref": "team"})
    assert fetched.status_code == 201 and fetched.json()["data"]["changed_paths"] == ["pages/team.md"]

    later.hours(48)
    results = commands(url, (BOB, ["vote", "1", "yes"]), (CAROL, ["delegate", "*", BOB]), (DAVE, ["vote", "1", "no"]),
                       (DAVE, ["propose", "--patch", "/etc/hostname", "--title", "x"]))
    assert [r.get("status") for r in results] == [None, None, None, 400]
    assert "only on the site's own machine" in results[3]["detail"]
    other = httpx.post(url + "/commands", json={"commands": [{"voter": BOB, "service": "mayor", "args": ["vote"]}]})
    assert other.json()["results"][0]["status"] == 404
    shown = httpx.get(url + "/proposals/1", params={"voter": CAROL}).json()["data"]
    assert shown["tally"]["pages"]["yes"] == 2 and shown["my_vote"]["pages"]["chain"] == [CAROL, BOB]

    assert httpx.post(url + "/decisions", json={"now": "2999-01-01T00:00"}).status_code == 400
    later.hours(168)
    decided = httpx.post(url + "/decisions").json()["data"]
    assert [(d["proposal"], d["approved"]) for d in decided] == [("1", True), ("2", False)]
    assert [d["record"] for d in httpx.get(url + "/decisions").json()] == [1, 2]
    assert httpx.get(url + "/proposals").json()["data"][0]["phase"] == "approved"

    download = httpx.get(url + "/decisions/1/archive")
    assert download.status_code == 200
    (tmp_path / "decision.tar").write_bytes(download.content)
    key = shared_site_key(settings.key_file).public_key
    assert audit_archive(tmp_path / "decision.tar", COMPILERS, public_key=key).matches
    assert httpx.get(url + "/decisions/9/archive").status_code == 404


@pytest.mark.parametrize("deployer", [{"DECIDE_EVERY_S": 0.1}], indirect=True)
def test_the_deployer_decides_on_its_own_clock(deployer, tmp_path):
    url, settings, later = deployer
    propose_page(url, settings, tmp_path)
    later.hours(48)
    assert commands(url, (BOB, ["vote", "1", "yes"]))[0]["data"]["choice"] == "yes"
    time.sleep(0.5)
    assert httpx.get(url + "/decisions").json() == []  # voting is open: nothing to decide
    later.hours(168)
    deadline = time.monotonic() + 20
    while not (decided := httpx.get(url + "/decisions").json()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(d["proposal"], d["approved"]) for d in decided] == [("1", True)]


def approve_front_page(url: str, settings, later, tmp_path, text: str) -> None:
    """Alice proposes a new front page text over HTTP, Bob votes for it, and the deployer decides it approved."""
    clone = Clone(settings.live_repo_path, tmp_path / "clone")
    clone.write("site/front.md", text)
    clone.commit("A front page")
    assert httpx.post(url + "/proposals", json={"voter": ALICE, "title": "Front page",
                                                "patch": clone.patch().decode()}).status_code == 201
    later.hours(48)
    commands(url, (BOB, ["vote", "1", "yes"]))
    later.hours(168)
    assert httpx.post(url + "/decisions").json()["data"][0]["approved"] is True


@pytest.mark.parametrize("deployer", [{"DEPLOY_EVERY_S": 0.1, "DEPLOY_HEALTH_S": 5}], indirect=True)
def test_the_deployer_deploys_what_was_approved_and_get_deployments_says_so(deployer, tmp_path):
    url, settings, later = deployer
    first = httpx.get(url + "/deployments").json()
    assert first["live"]["commit"] is not None and first["live"]["deployment"] is None  # the live HEAD, exported
    assert first["deployments"] == [] and first["mirrors"] == []
    approve_front_page(url, settings, later, tmp_path, "Hello from the deployer\n")
    deadline = time.monotonic() + 30
    while (shown := httpx.get(url + "/deployments").json())["deployments"] == [] or \
            shown["deployments"][0]["ended_us"] is None:
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    (deployment,) = shown["deployments"]
    assert deployment["phase"] == "applied" and deployment["decision"] == "decision 1"
    assert shown["live"] == {"commit": deployment["commit"], "since_us": deployment["ended_us"], "deployment": "1"}
    events = [RecordedEvent.decode(base64.b64decode(e["raw"]), base64.b64decode(e["hash"]))
              for e in httpx.get(url + "/events/deployment").json()]
    assert [e.type.rsplit(".", 1)[1] for e in events] == [
        "DeploymentStarted", "DeploymentPhase", "DeploymentPhase", "DeploymentPhase", "DeploymentApplied"]


def test_python_m_civitas_deployer_is_the_service_alone(tmp_path):
    done = subprocess.run([sys.executable, "-m", "civitas_deployer", "--port", "1"], capture_output=True, text=True,
                          env={"CIVITAS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 2 and "set CIVITAS_LOG_URL" in done.stderr
