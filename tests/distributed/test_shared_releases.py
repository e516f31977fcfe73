"""The releases folder shared as the chart shares it (CIVITAS_RELEASES, one folder outside every service's home),
read by separate service processes (`python -m civitas_NAME` each, over PostgreSQL and a real broker): a release laid
out there changes the front page the gateway process serves, the polls process brings its poll file into its stream
and the registry process takes its rules, and none of them writes into the folder (in the cluster they mount it
read-only)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from civitas_deployer import LiveRepository
from civitas_kernel.testing.releases import commit_files, release

from civitas.cluster import ORDER, Cluster
from civitas.testing import eventually


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_separate_service_processes_serve_and_apply_a_release_from_the_shared_folder(
        tmp_path, postgres_server_url, kafka_broker, gateway_env):
    cluster = Cluster(tmp_path / "cluster", postgres_server_url, kafka_broker.settings(), extra_env=gateway_env,
                      services=ORDER)
    releases = tmp_path / "cluster" / "releases"
    releases.mkdir(parents=True)
    repo = LiveRepository.open_or_create(tmp_path / "live.git", time.time_ns() // 1000)
    with cluster:
        assert {cluster.environment(name)["CIVITAS_RELEASES"] for name in ORDER} == {str(releases)}
        assert all(Path(cluster.environment(name)["CIVITAS_HOME"]) != releases.parent for name in ORDER)
        gateway = httpx.Client(base_url=cluster.urls["gateway"], timeout=30)
        polls = httpx.Client(base_url=cluster.urls["polls"], timeout=30)
        registry = httpx.Client(base_url=cluster.urls["registry"], timeout=30)
        before = gateway.get("/")
        assert before.headers["civitas-release"] == "none" and "Springfield's own page" not in before.text
        assert polls.get("/polls/budget").status_code == 404

        commit = commit_files(repo.path, {"site/front.md": "# Springfield's own page\n\nVote on the **budget**.\n",
                                          "polls/budget.toml": 'title = "The budget of next year"\n',
                                          "rules.toml": "[voter_list]\ntrust_range_prefix = 4\n"})
        release(releases, repo.path, decision="decision 1")
        laid_out = files_under(releases)

        page = gateway.get("/")
        assert page.status_code == 200 and page.headers["civitas-release"] == commit
        assert "<h1>Springfield's own page</h1>" in page.text and "Vote on the <strong>budget</strong>." in page.text
        budget = eventually(lambda: (r := polls.get("/polls/budget")).status_code == 200 and r.json(),
                            "the polls process made the release's poll", timeout=30)
        assert budget["title"] == "The budget of next year"
        rules = registry.get("/rules").json()
        assert (rules["source"], rules["trust_range_prefix"]) == (f"the live release {commit}", 4)
        time.sleep(1)  # a few more looks by each process at the same release
        assert files_under(releases) == laid_out  # read, never written, by the services that read it
