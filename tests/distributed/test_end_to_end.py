"""The site as five OS processes (registry, polls, counter, drafts, gateway) over PostgreSQL and a real broker.

A scenario is driven through the gateway's HTTP API (in two processes, on noida) by voters signed in with
mailed codes and an operator who creates and configures the poll; while
votes stream in, the counter is killed and restarted and (noida) the broker restarted on its data.
Nothing may be lost or doubled: the counter's replica must equal the owners' logs event for event,
and the list and count it compiles must equal, byte for byte, what an embedded Site compiles from
the same commands.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.brokers import running_broker
from civitas_kernel.voter_command import split_line

from civitas.cluster import ORDER, WITH_DEPLOYER, Cluster
from civitas.settings import Settings
from civitas.shell import run_command
from civitas.site import Site

POLL = "mayor"
VOTERS = [f"v{i}@example.org" for i in range(10)]
STREAMED_VOTES = 240
CONVERGE_S = 45.0


class Driver:
    """Drives the gateway as the operator and as signed-in voters; keeps every accepted command for the replay."""

    def __init__(self, base: str, inbox, operator_token: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.inbox = inbox
        self.tokens: dict[str, str] = {}
        self.script: list[tuple] = []
        self.operator = {"Authorization": f"Bearer {operator_token}"}

    def _ok(self, response: httpx.Response) -> dict:
        assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        return response.json()

    def sign_in(self, voter: str) -> None:
        sent = self._ok(self.http.post("/api/auth/code", json={"email": voter}))
        opened = self.http.post("/api/auth/session", json={"challenge": sent["challenge"], "code": self.inbox.code_for(voter)})
        self.tokens[voter] = self._ok(opened)["token"]

    def registrar_trust(self, voter: str, edges: int) -> None:
        self._ok(self.http.post("/api/registrar/trust", json={"voter": voter, "edges": edges}, headers=self.operator))
        self.script.append(("registrar", voter, edges))

    def create_poll(self, name: str) -> None:
        self._ok(self.http.post("/api/polls", json={"name": name}, headers=self.operator))
        self.script.append(("poll", name))

    def configure_poll(self, name: str, **changes) -> None:
        self._ok(self.http.patch(f"/api/polls/{name}", json=changes, headers=self.operator))
        self.script.append(("configure", name, changes))

    def _retrying(self, send, key: str) -> dict:
        # Same key on every attempt, so a command whose answer was lost is applied once.
        last = "no answer"
        for _ in range(40):
            try:
                response = send()
            except httpx.TransportError as error:
                last = repr(error)
                time.sleep(0.25)
                continue
            if response.status_code < 500:
                return self._ok(response)
            last = f"{response.status_code} {response.text}"
            time.sleep(0.25)
        raise AssertionError(f"command with key {key} kept failing; last: {last}")

    def shell(self, voter: str, line: str, key: str) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[voter]}", "Idempotency-Key": key}
        reply = self._retrying(lambda: self.http.post("/api/shell", json={"line": line}, headers=headers), key)
        self.script.append(("voter", voter, split_line(line)))
        return reply

    def vote(self, voter: str, candidate: str, key: str) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[voter]}", "Idempotency-Key": key}
        reply = self._retrying(lambda: self.http.put(f"/api/polls/{POLL}/vote", json={"candidate": candidate},
                                                    headers=headers), key)
        self.script.append(("voter", voter, [POLL, "vote", candidate]))
        return reply

    def compile(self, kind: str) -> list[dict]:
        return self._ok(self.http.post(f"/api/records/{kind}", headers=self.operator))


def replay_embedded(script: list[tuple], home: Path) -> Site:
    """The same commands, in the same order, on an embedded site; then a list and a count."""
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
    for step in script:
        if step[0] == "registrar":
            site.registry.registrar_trust(step[1], step[2])
        elif step[0] == "poll":
            site.polls.create(step[1])
        elif step[0] == "configure":
            site.polls.configure(step[1], **step[2])
        else:
            run_command(site, [step[1], *step[2]])
    site.compile("list")
    site.compile("count")
    return site


def set_up_neighbourhood(driver: Driver) -> None:
    driver.create_poll(POLL)
    driver.configure_poll(POLL, title="Mayor of Springfield", min_trust=1)
    driver.registrar_trust(VOTERS[0], 4)
    driver.registrar_trust(VOTERS[1], 3)
    for i, voter in enumerate(VOTERS):
        driver.sign_in(voter)
        driver.shell(voter, f"register set name Voter {i}", f"name-{i}")
        driver.shell(voter, "register set residence 1 Main Street, Springfield 8001", f"home-{i}")
    for i, voter in enumerate(VOTERS):  # each vouches for the next two: a trust network reaching everyone
        for other in (VOTERS[(i + 1) % len(VOTERS)], VOTERS[(i + 2) % len(VOTERS)]):
            driver.shell(voter, f"register trust {other}", f"trust-{i}-{other}")
    # A cascade: v2..v4 delegate to v1, v1 to v0; v5..v9 vote for v5 directly or through each other.
    for i, candidate in [(1, 0), (2, 1), (3, 1), (4, 1), (6, 5), (7, 6), (8, 5), (9, 8), (5, 0)]:
        driver.vote(VOTERS[i], VOTERS[candidate], f"first-vote-{i}")


def exercise_drafts(driver: Driver) -> None:
    """A group, a joiner's post and a paragraph voted down through the gateway's drafts API, a query of it, and the
    rules and the sandbox refusing with their problem documents."""
    alice, bob = ({"Authorization": f"Bearer {driver.tokens[v]}"} for v in VOTERS[:2])
    gid = driver._ok(driver.http.post("/api/drafts/groups", json={"name": "Springfield plan", "others_weight": "1",
                                                                  "weight": "3"}, headers=alice))["data"]["id"]
    driver._ok(driver.http.post(f"/api/drafts/groups/{gid}/join", json={}, headers=bob))
    pid = driver._ok(driver.http.post(f"/api/drafts/groups/{gid}/posts", json={"paragraphs": ["A park.", "A pond."]},
                                      headers=bob))["data"]["post"]
    driver._ok(driver.http.put(f"/api/drafts/posts/{pid}/vote", json={"vote": "down", "paragraph": "2"}, headers=alice))
    sql = ("SELECT p.hash, s.score FROM paragraph_scores s JOIN posts p ON p.id = s.post_id "
           f"WHERE s.group_id = (SELECT id FROM groups WHERE hash = '{gid}')")
    assert driver._ok(driver.http.post("/api/query", json={"sql": sql}, headers=bob))["rows"] == [[pid, -3.0]]
    refused = driver.http.patch(f"/api/drafts/groups/{gid}/members/{VOTERS[0]}", json={"weight": "0"}, headers=bob)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    hostile = driver.http.post("/api/query", json={"sql": "SELECT * FROM sqlite_master"}, headers=bob)
    assert hostile.status_code == 403 and hostile.json()["type"] == "urn:civitas:problem:query-refused"


def stream_votes(driver: Driver, count: int, progress: list[int], failure: list[BaseException]) -> None:
    rng = random.Random(7)
    current = {step[1]: step[2][2] for step in driver.script if step[0] == "voter" and step[2][1:2] == ["vote"]}
    try:
        for n in range(count):
            voter = rng.choice(VOTERS)
            candidate = rng.choice([v for v in VOTERS if v not in (voter, current.get(voter))])  # always a change
            driver.vote(voter, candidate, f"stream-{n}")
            current[voter] = candidate
            progress[0] = n + 1
    except BaseException as error:  # noqa: BLE001 - reported by the test's thread
        failure.append(error)


def wait_for(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


def heads(url: str) -> dict[str, tuple[int, str]]:
    return {s["stream"]: (s["seq"], s["head_hash"]) for s in httpx.get(url + "/streams", timeout=10).json()}


def owners_heads(cluster: Cluster) -> dict[str, tuple[int, str]]:
    return heads(cluster.urls["registry"]) | heads(cluster.urls["polls"])


def assert_replica_whole(cluster: Cluster, postgres_url: str) -> None:
    """The counter holds exactly the owners' events: same heads, a chain that verifies, no row missing or extra."""
    def converged() -> bool:
        return heads(cluster.urls["counter"]) == owners_heads(cluster)

    try:
        wait_for(converged, "the counter's replica to reach the owners' heads", CONVERGE_S)
    except AssertionError as error:
        raise AssertionError(f"{error}\ncounter: {heads(cluster.urls['counter'])}\nowners: {owners_heads(cluster)}\n"
                             f"counter output:\n{cluster.tail('counter')}\npolls output:\n{cluster.tail('polls')}") from None
    base, _, _ = postgres_url.rpartition("/")
    replica = open_log(f"{base}/{cluster.databases['counter']}", "localhost", SiteKey.load_or_create(cluster.key_file))
    try:
        report = replica.verify()  # every hash, link and signed checkpoint, from position 1
        held = {(s.stream, s.events) for s in report.streams}
        assert held == {(stream, seq) for stream, (seq, _) in owners_heads(cluster).items()}
    finally:
        replica.engine.dispose()


def counter_result(cluster: Cluster, kind: str) -> bytes:
    counter = cluster.urls["counter"]
    record_id = httpx.get(f"{counter}/records/{kind}/reported", timeout=10).json()["id"]
    return httpx.get(f"{counter}/records/{kind}/{record_id}/result", timeout=10).json()["result"].encode()


def run_site(tmp_path: Path, postgres_url: str, broker, gateway_env: dict, inbox, *, restart_broker: bool,
             gateway_workers: int = 1) -> None:
    cluster = Cluster(tmp_path / "cluster", postgres_url, broker.settings(), extra_env=gateway_env,
                      services=(*ORDER[:-1], "drafts", ORDER[-1]), gateway_workers=gateway_workers)
    with cluster:
        driver = Driver(cluster.urls["gateway"], inbox, gateway_env["CIVITAS_OPERATOR_TOKEN"])
        set_up_neighbourhood(driver)
        exercise_drafts(driver)
        listed = {s["stream"]: s["seq"] for s in driver.http.get("/api/log/streams").json()}
        assert listed["draft"] == heads(cluster.urls["drafts"])["draft"][0] > 0  # the drafts service is an owner
        assert driver.http.get("/ready").json()["drafts"] == "ok"
        driver.compile("list")
        driver.compile("count")
        count = driver.http.get(f"/api/counts/{POLL}").json()
        assert count["turnout"] == 9, count
        assert count["ranking"][0]["candidate"] == VOTERS[0], count
        assert driver.http.get(f"/api/polls/{POLL}").json()["title"] == "Mayor of Springfield"

        progress, failure = [0], []
        streamer = threading.Thread(target=stream_votes, args=(driver, STREAMED_VOTES, progress, failure), daemon=True)
        streamer.start()
        wait_for(lambda: progress[0] >= 40 or failure, "40 streamed votes", 30)
        cluster.stop_service("counter", signal.SIGKILL)  # mid-stream, without a chance to commit anything
        assert progress[0] < STREAMED_VOTES, "the votes all arrived before the counter was killed: stream more"
        cluster.start_service("counter")
        if restart_broker:
            wait_for(lambda: progress[0] >= 120 or failure, "120 streamed votes", 60)
            broker.restart()  # same port, same data directory
            assert progress[0] < STREAMED_VOTES, "the votes all arrived before the broker restarted: stream more"
        cluster.wait_ready("counter", timeout=CONVERGE_S)
        streamer.join(timeout=120)
        assert not streamer.is_alive(), f"the vote stream did not finish; at vote {progress[0]}"
        assert not failure, failure

        assert_replica_whole(cluster, postgres_url)
        driver.compile("list")
        driver.compile("count")
        embedded = replay_embedded(driver.script, tmp_path / "embedded")
        assert counter_result(cluster, "list") == embedded.records.reported_result("list")
        assert counter_result(cluster, "count") == embedded.records.reported_result("count")
        assert driver.http.get(f"/api/polls/{POLL}/votes").json() == embedded.polls.votes(POLL)
        assert owners_heads(cluster)["vote"][0] == embedded.log.head("vote").seq  # each vote command once, none doubled


@pytest.mark.slow
def test_noida_counter_and_broker_restarts_lose_and_double_nothing(tmp_path, postgres_server_url, noida_broker, smtp,
                                                                   gateway_env):
    # The gateway in two processes: a voter signs in on one and may be served by the other.
    run_site(tmp_path, postgres_server_url, noida_broker, gateway_env, smtp[0], restart_broker=True, gateway_workers=2)


@pytest.mark.slow
def test_tansu_counter_restart_loses_and_doubles_nothing(tmp_path, postgres_server_url, smtp, gateway_env):
    with running_broker("tansu") as broker:  # in memory: no broker restart
        run_site(tmp_path, postgres_server_url, broker, gateway_env, smtp[0], restart_broker=False)


def governed_with_no_review(live: Path, tmp_path: Path) -> str:
    """The live repository the deployer will find, its rules changed as an approved proposal would: voting opens at
    once (review_hours = 0), so the test need not wait two days. A patch of that change to propose later."""
    from civitas_deployer import LiveRepository

    LiveRepository.open_or_create(live, time.time_ns() // 1000)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=Operator", "-c", "user.email=operator@example.org"]
    rules = (clone / "governance.toml").read_text().replace("review_hours = 48", "review_hours = 0")
    (clone / "governance.toml").write_text(rules)
    subprocess.run([*git, "commit", "--quiet", "-am", "Voting opens at once"], check=True)
    subprocess.run([*git, "push", "--quiet", "origin", "HEAD:main"], check=True)
    (clone / "pages").mkdir()
    (clone / "pages" / "index.md").write_text("# Welcome to Springfield\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "A home page"], check=True)
    return subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True, capture_output=True).stdout.decode()


@pytest.mark.slow
def test_a_change_proposal_goes_through_the_distributed_gateway_to_the_deployer(tmp_path, postgres_server_url, smtp,
                                                                                gateway_env):
    """Signed-in voters propose, vote and delegate through the gateway; the deployer, on its own log, answers; what
    it refuses comes back as the same problem; the gateway's pages show the proposal from the deployer."""
    workdir = tmp_path / "cluster"
    patch = governed_with_no_review(workdir / "deployer" / "live.git", tmp_path)
    with running_broker("tansu") as broker:
        cluster = Cluster(workdir, postgres_server_url, broker.settings(), extra_env=gateway_env,
                          services=WITH_DEPLOYER)
        with cluster:
            driver = Driver(cluster.urls["gateway"], smtp[0], gateway_env["CIVITAS_OPERATOR_TOKEN"])
            voters = VOTERS[:3]
            for voter in voters:
                driver.registrar_trust(voter, 1)
                driver.sign_in(voter)
                driver.shell(voter, "register set residence 1 Main Street, Springfield 8001", f"home-{voter}")
            driver.compile("list")
            auth = {v: {"Authorization": f"Bearer {driver.tokens[v]}"} for v in voters}
            http = driver.http

            proposed = http.post("/api/changes", json={"title": "A home page", "patch": patch}, headers=auth[voters[0]])
            assert proposed.status_code == 201, proposed.text
            content = proposed.json()["data"]["content_hash"]
            voted = http.put("/api/changes/1/vote", json={"choice": "yes"}, headers=auth[voters[1]])
            assert voted.status_code == 200 and content in voted.json()["text"], voted.text
            delegated = http.put("/api/delegations/pages", json={"delegates": [voters[1]]}, headers=auth[voters[2]])
            assert delegated.status_code == 200, delegated.text
            shell = http.post("/api/shell", json={"line": "change show 1"}, headers=auth[voters[2]])
            assert shell.status_code == 200 and f"yes, through {voters[2]} -> {voters[1]}" in shell.json()["text"]

            shown = http.get("/api/changes/1", headers=auth[voters[2]]).json()["data"]
            assert shown["tally"]["pages"]["yes"] == 2 and shown["my_vote"]["pages"]["vote"] == "yes"
            refused = http.put("/api/delegations/pages", json={"delegates": [voters[2]]}, headers=auth[voters[2]])
            assert refused.status_code // 100 == 4 and "yourself" in refused.json()["detail"], refused.text
            page = http.get("/changes/1", headers=auth[voters[2]] | {"Accept": "text/html"})
            assert page.status_code == 200 and "Welcome to Springfield" in page.text
            assert 'data-from="v2@example.org" data-to="v1@example.org"' in page.text
            deployer = httpx.get(cluster.urls["deployer"] + "/streams", timeout=10).json()
            assert [s["seq"] for s in deployer if s["stream"] == "change"] == [3]  # proposal, vote, delegation: once
            deployments = http.get("/deployments", headers={"Accept": "text/html"})  # the deployer's GET /deployments
            assert deployments.status_code == 200 and "No deployments yet" in deployments.text, deployments.text
            assert "No off-site mirror is configured" in deployments.text
            missing = http.get("/decisions/9", headers={"Accept": "text/html"})  # the deployer's GET /decisions
            assert missing.status_code == 404 and "no decision record 9" in missing.text
