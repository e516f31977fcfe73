"""The counter service lists the voters of sites that reach its site only over HTTP, as OS processes: a village
under a town (`civitas serve sync`, `civitas up`), the county's sync service (`civitas serve sync` on a PostgreSQL log
of its own) pulling the town and, relayed through it, the village; the county's counter (`civitas serve counter` on
PostgreSQL and Kafka) reading both from the sync service, with the rules folder shared. Its list@town, list@village
and merged list are byte for byte what an embedded county (`civitas sync pull`, `civitas list`) compiles from the
same streams, and `civitas audit` recounts its list. A voter registered at the town afterwards is in the counter's
replica within a second of the sync service pulling it (the counter holds the sync service's heads until one moves,
its own poll set to 30 s), so the next list@town has them."""

from __future__ import annotations

import json
import tarfile
import time
from dataclasses import dataclass

import httpx
import pytest

from civitas.cluster import kafka_environment
from civitas.testing import eventually, serving_process
from civitas_kernel.signers import KNOWN_SITES, write_known_sites
from civitas_kernel.testing.ports import free_port

from .conftest import SiteProcess

VILLAGE, TOWN, COUNTY = "village.example", "town.example", "county.example"


@dataclass
class RuledSite(SiteProcess):
    pre_registration_min: int = 0

    @property
    def env(self) -> dict[str, str]:
        return super().env | {"CIVITAS_PRE_REGISTRATION_MIN": str(self.pre_registration_min)}


def archive_member(path, name: str) -> bytes:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read()


def reported(home, kind: str):
    folder = home / "records" / kind
    return folder / f"{int((folder / 'reported').read_text()):06d}"


@pytest.mark.slow
@pytest.mark.parametrize("kafka_broker", ["tansu"], indirect=True)  # Kafka carries only the county's own streams here
def test_the_counter_service_lists_the_voters_the_sync_service_holds_as_the_embedded_site(
        tmp_path, make_database_url, kafka_broker):
    village = RuledSite(VILLAGE, tmp_path / "village", free_port(), pre_registration_min=1)
    town = RuledSite(TOWN, tmp_path / "town", free_port(), pre_registration_min=2)
    sync = SiteProcess(COUNTY, tmp_path / "county-sync", free_port(),
                       settings={"CIVITAS_LOG_URL": make_database_url("postgres")})
    embedded = SiteProcess(COUNTY, tmp_path / "county", free_port())
    counter_home = tmp_path / "county-counter"
    for site in (village, town, sync, embedded):
        site.home.mkdir()
    counter_home.mkdir()
    try:
        village.civitas("registrar", "trust", "v1@village.example")
        village.civitas("voter", stdin="v1@village.example register set residence 1 Mill Rd, Village V1000\n"
                                       "v1@village.example register trust v2@village.example\n"
                                       "v2@village.example register set residence 2 Mill Rd, Village V1000\n"
                                       "both@x.example register set residence 3 Mill Rd, Village V1000\n"
                                       "v1@village.example register trust both@x.example\n")
        town.civitas("registrar", "trust", "t1@town.example")
        town.civitas("voter", stdin="t1@town.example register set residence 1 Main St, Town T1000\n"
                                    "t1@town.example register trust t2@town.example\n"
                                    "t2@town.example register set residence 3 Main St, Town T1000\n"
                                    "both@x.example register set residence 5 Main St, Town T1000\n")
        village.serve_sync()
        town.attach(village, "sub")
        town.civitas("sync", "pull")  # the village's streams and signed rules, relayed from here on
        town.up()
        for county in (sync, embedded):
            county.attach(town, "sub")
            county.civitas("known-sites", "add", VILLAGE, village.key)  # its events reach the county through the town

        sync.serve_sync()  # the county's sync service, pulling over HTTP into its own PostgreSQL log
        sync_heads = lambda: {(s["origin"], s["stream"]): s["seq"]  # noqa: E731
                              for s in httpx.get(sync.url + "/sync/v1/heads", timeout=5).json()["streams"]}
        eventually(lambda: len([o for o, _ in sync_heads() if o == VILLAGE]) == 2
                   and (sync.home / "sync" / "rules" / f"{VILLAGE}.json").exists(),
                   "the sync service holding the village's streams, relayed by the town, and its rules")

        # the counter's own home: the origins' keys pinned, the rules folder the sync service keeps, shared
        write_known_sites(counter_home / KNOWN_SITES, {TOWN: bytes.fromhex(town.key),
                                                       VILLAGE: bytes.fromhex(village.key)})
        (counter_home / "sync").mkdir()
        (counter_home / "sync" / "rules").symlink_to(sync.home / "sync" / "rules")
        env = sync.env | kafka_environment(kafka_broker.settings()) | {
            "CIVITAS_HOME": str(counter_home), "CIVITAS_PORT": str(free_port()),
            "CIVITAS_LOG_URL": make_database_url("postgres"), "CIVITAS_KEY_FILE": str(sync.home / "site-key.pem"),
            "CIVITAS_SYNC_URL": sync.url, "CIVITAS_COUNTER_SYNCED_ORIGINS": f"{TOWN},{VILLAGE}",
            "CIVITAS_COUNTER_SYNCED_EVERY_S": "30",  # a poll alone comes seconds late: told, it comes at once
            "CIVITAS_REGISTRY_URL": "http://127.0.0.1:9", "CIVITAS_POLLS_URL": "http://127.0.0.1:9"}
        with serving_process("counter", env, tmp_path / "counter.log") as counter:
            def caught_up() -> bool:
                held = {(s["site"], s["stream"]): s["seq"] for s in httpx.get(counter + "/streams", timeout=5).json()}
                return all(held.get(k) == seq for k, seq in sync_heads().items() if k[0] in (TOWN, VILLAGE))
            eventually(caught_up, "the counter's replica holding what the sync service holds", timeout=60)
            ready = httpx.get(counter + "/ready", timeout=5).json()
            assert ready["origins"][TOWN]["last_error"] is None and ready["origins"][VILLAGE]["heads"]["trust"] > 0
            records = httpx.post(counter + "/records/list", timeout=60).json()
            listed = [r for r in records if r["kind"] == "list"][-1]
            assert set(listed["depends"]) >= {f"list@{TOWN}", f"list@{VILLAGE}"}

            before = sync_heads()[TOWN, "registration"]
            town.civitas("voter", stdin="t1@town.example register trust late@town.example\n"
                                        "late@town.example register set residence 7 Main St, Town T1000\n")
            deadline = time.monotonic() + 30
            while sync_heads()[TOWN, "registration"] == before:  # the sync service's own schedule
                assert time.monotonic() < deadline, "the sync service did not pull the new voter"
                time.sleep(0.02)
            pulled_at = time.monotonic()
            while not caught_up():
                assert time.monotonic() - pulled_at < 1.0, "the counter's replica did not follow within a second"
                time.sleep(0.02)
            httpx.post(counter + "/records/list", timeout=60).raise_for_status()
            assert b"late@town.example" in archive_member(reported(counter_home, f"list@{TOWN}") / "archive.tar",
                                                          "result.tsv")

        embedded.civitas("sync", "pull")
        embedded.civitas("list")
        for kind in (f"list@{TOWN}", f"list@{VILLAGE}", "list"):
            ours, theirs = reported(counter_home, kind), reported(embedded.home, kind)
            assert archive_member(ours / "archive.tar", "result.tsv") == archive_member(theirs / "archive.tar",
                                                                                          "result.tsv"), kind
        result = archive_member(reported(counter_home, "list") / "archive.tar", "result.tsv").decode()
        assert {"t1@town.example", "t2@town.example", "v1@village.example", "both@x.example"} <= {
            line.split("\t")[0] for line in result.splitlines()[1:]}
        for origin, minimum in ((TOWN, 2), (VILLAGE, 1)):  # each compiled by its own signed rules, as at the origin
            config = json.loads((reported(counter_home, f"list@{origin}") / "snap.json").read_text())["config"]
            assert config["rules"]["pre_registration_min"] == minimum and config["signature"]
            assert config == json.loads((reported(embedded.home, f"list@{origin}") / "snap.json").read_text())["config"]
        archive = reported(counter_home, "list") / "archive.tar"
        audited = json.loads(sync.civitas("audit", "--json", str(archive)).stdout)
        assert audited["matches"] and audited["verdict"] == "matches"
    finally:
        for site in (village, town, sync):
            if site.process is not None and site.process.poll() is None:
                site.process.kill()
                site.process.communicate()
