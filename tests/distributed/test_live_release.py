"""The live release read by the services on their own (registry, polls, counter, gateway over PostgreSQL and
Kafka), each from the releases folder the deployer writes (CIVITAS_RELEASES, here their shared CIVITAS_HOME):
the gateway's pages and header, the polls service bringing the poll files into its stream (and closing one
removed), the registry's rules and registrars, all without a restart."""

from __future__ import annotations

import base64
import time
from contextlib import ExitStack

import httpx

from civitas_deployer import LiveRepository
from civitas_gateway.auth import AuthSettings
from civitas_kernel.testing.releases import commit_files, release
from civitas_schema.v1.envelope_pb2 import Envelope

from civitas.testing import eventually

CLERK, BOB = "clerk@example.org", "bob@example.org"


def poll_actors(polls: httpx.Client) -> list[str]:
    """The actor of every event of the poll stream, read from the owner's sealed envelopes."""
    return [Envelope.FromString(base64.b64decode(e["raw"])).actor for e in polls.get("/events/poll").json()]


def test_the_services_on_their_own_apply_the_live_release_without_a_restart(kafka_broker, threaded_services, smtp,
                                                                             tmp_path):
    auth = AuthSettings(HOME=tmp_path / "gateway", SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1],
                        SMTP_TIMEOUT=30)
    urls = threaded_services(kafka_broker.settings(), auth, services=("registry", "polls", "counter", "gateway"))
    releases = tmp_path / "home" / "releases"
    releases.mkdir(parents=True)
    repo = LiveRepository.open_or_create(tmp_path / "live.git", time.time_ns() // 1000)
    with ExitStack() as stack:
        registry, polls, gateway = (stack.enter_context(httpx.Client(base_url=urls[n], timeout=30))
                                    for n in ("registry", "polls", "gateway"))
        assert gateway.get("/").headers["civitas-release"] == "none"
        assert registry.get("/rules").json()["source"] == "the settings"

        commit = commit_files(repo.path, {
            "polls/mayor.toml": 'title = "Who should be mayor?"\n', "site/front.md": "Welcome to **our** town.\n",
            "rules.toml": "[voter_list]\ntrust_range_prefix = 3\n", "registrars.toml": f'registrars = ["{CLERK}"]\n'})
        release(releases, repo.path, decision="decision 1")
        page = gateway.get("/")
        assert page.headers["civitas-release"] == commit and "Welcome to <strong>our</strong> town." in page.text
        rules = registry.get("/rules").json()
        assert (rules["source"], rules["trust_range_prefix"], rules["registrars"]) == (
            f"the live release {commit}", 3, [CLERK])
        mayor = eventually(lambda: polls.get("/polls/mayor").status_code == 200 and polls.get("/polls/mayor").json(),
                           "the polls service made the release's poll")
        assert mayor["title"] == "Who should be mayor?"
        assert poll_actors(polls) == [f"release:{commit}"]

        given = registry.post("/commands", json={"commands": [
            {"voter": CLERK, "service": "register", "args": ["primary", BOB, "2"]}]}).json()["results"][0]
        assert given["data"]["edges"] == 2, given

        removed = commit_files(repo.path, {"polls/mayor.toml": None})
        release(releases, repo.path, decision="decision 2")
        eventually(lambda: polls.get("/polls/mayor").json()["closes_at_us"] > 0, "the removed poll closed")
        time.sleep(2)  # two more looks at the same release write nothing
        assert poll_actors(polls) == [f"release:{commit}", f"release:{removed}"]
