"""The smoke pass between separate processes: the deployer's content runner, holding the site key file the services
share (as in the chart), checks a release through a gateway process whose per-address limit a flood has spent; its
pass gets the front page through, a forged one does not, and without the pass the same check fails with a 429."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from civitas_deployer import Candidate, ContentRunner, LiveRepository, ReleaseFailed, Releases
from civitas_deployer.settings import DeployerSettings
from civitas_kernel.smoke_pass import SMOKE_HEADER, SmokePass
from civitas_kernel.testing.releases import commit_files, release

from civitas.cluster import ORDER, Cluster


def test_a_deployer_holding_the_shared_key_passes_a_flooded_gateway_process(tmp_path, postgres_server_url,
                                                                             kafka_broker, gateway_env):
    env = gateway_env | {"CIVITAS_RATE_ADDRESS": "30/1min"}  # room for the start's /ready polls
    cluster = Cluster(tmp_path / "cluster", postgres_server_url, kafka_broker.settings(), extra_env=env,
                      services=ORDER)
    releases = tmp_path / "cluster" / "releases"
    releases.mkdir(parents=True)
    repo = LiveRepository.open_or_create(tmp_path / "live.git", time.time_ns() // 1000)
    with cluster:
        commit = commit_files(repo.path, {"site/front.md": "Flooded, still served\n"})
        release(releases, repo.path, decision="decision 1")
        url = cluster.urls["gateway"]
        stop, answers = threading.Event(), []

        def flood() -> None:
            with httpx.Client(timeout=5) as client:
                while not stop.is_set():
                    answers.append(client.get(url + "/").status_code)

        flooding = threading.Thread(target=flood, daemon=True)
        flooding.start()
        try:
            while answers.count(429) < 40:
                time.sleep(0.01)
            settings = DeployerSettings(HOME=tmp_path / "deployer", KEY_FILE=cluster.key_file)  # as its pod reads it
            smoke = SmokePass.of_settings(settings)
            assert smoke is not None
            runner = ContentRunner(Releases(releases, repo.git), url, request_timeout_s=5, smoke=smoke)
            runner.check(Candidate(commit, None), window_s=3)  # answers: the gateway served it, flood or not
            forged = httpx.get(url + "/", headers={SMOKE_HEADER: "9999999999." + "0" * 64})
            assert forged.status_code == 429
            without = ContentRunner(Releases(releases, repo.git), url, request_timeout_s=5)
            with pytest.raises(ReleaseFailed, match="last: 429"):
                without.check(Candidate(commit, None), window_s=2)
        finally:
            stop.set()
            flooding.join(10)
        assert answers.count(200) <= 40 < answers.count(429)  # the flood stayed limited (30, and 1 per 2 s)
