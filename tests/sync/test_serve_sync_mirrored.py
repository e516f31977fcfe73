"""`civitas serve sync` on Kafka: records shaped as MirrorMaker 2 writes them (each of the town's records copied,
key, value and headers, into `town.example.<topic>` of the county's cluster) consumed by the sync service with the
town's pinned key into the county's log — doubt refused — and killed (SIGKILL; stopped, on noida-db) it carries on where
it stood; with the peers as the chart renders them, a link declared at an anchor held from there."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from civitas_kernel.events import NewEvent
from civitas_kernel.kafka import codec
from civitas_kernel.testing.events import trust
from civitas_schema.v1 import trust_pb2

from .conftest import SiteProcess, wait_until

TOWN, COUNTY = "town.example", "county.example"


@dataclass
class KafkaSite(SiteProcess):
    extra: dict = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return super().env | self.extra


def mm2_copies(settings, town_log, stream: str, after: int = 0) -> None:
    """What MirrorMaker 2 writes into this cluster for the town's topic of `stream`."""
    async def produce():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        signed = town_log.checkpoints_between(stream, after=after)
        for event in town_log.read(stream, after=after):
            headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
            await producer.send_and_wait(f"{TOWN}.{settings.topic(stream)}", value=codec.encode(event),
                                         key=codec.key_of(TOWN), headers=headers)
        await producer.stop()

    asyncio.run(produce())


@pytest.mark.slow
def test_serve_sync_consumes_the_mirrored_topics_verified_and_resumes_after_a_kill(kafka_broker, tmp_path):
    kafka = kafka_broker.settings()
    env = {"CIVITAS_SYNC_MIRRORED": TOWN, "CIVITAS_LOG_URL": f"sqlite:///{tmp_path / 'county' / 'log.sqlite'}",
           "CIVITAS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "CIVITAS_KAFKA_TOPIC_TEMPLATE": kafka.topic_template,
           "CIVITAS_KAFKA_IDEMPOTENT_PRODUCER": str(kafka.idempotent_producer).lower(),
           "CIVITAS_KAFKA_SESSION_TIMEOUT_MS": str(kafka.session_timeout_ms),
           "CIVITAS_KAFKA_HEARTBEAT_INTERVAL_MS": str(kafka.heartbeat_interval_ms),
           "CIVITAS_KAFKA_IDLE_BACKOFF_MS": str(kafka.idle_backoff_ms)}
    town = KafkaSite(TOWN, tmp_path / "town", 1)
    county = KafkaSite(COUNTY, tmp_path / "county", _port(), extra=env)
    town.home.mkdir()
    county.home.mkdir()
    town_log = town.open_log()
    for start in range(0, 120, 40):
        town_log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 40)])
    town_log.append("doubt", [NewEvent.of(trust_pb2.TrustExtended(truster="d@example.org", trustee="e"), "d")])
    county.attach(town, "sub", url="http://127.0.0.1:9")  # its HTTP is away: the mirror alone carries the streams
    mm2_copies(kafka, town_log, "trust")
    mm2_copies(kafka, town_log, "doubt")  # an MM2 told to copy doubt too: refused here
    try:
        county.serve_sync()
        county_log = county.open_log()
        wait_until(lambda: county_log.head("trust", site=TOWN).seq == 120, what="the mirrored trust arriving")
        health = httpx.get(county.url + "/health", timeout=5).json()
        assert health["mirrored"][TOWN]["topics"] == [f"{TOWN}.{kafka.topic('registration')}",
                                                      f"{TOWN}.{kafka.topic('trust')}"]
        # noida-db: a member killed outright keeps the restarted one rejoining its group in a loop; stopped, it does not
        os.kill(county.process.pid, signal.SIGTERM if kafka_broker.name == "noida" else signal.SIGKILL)
        county.process.communicate()
        town_log.append("trust", [trust(f"late{i}@example.org", "u@example.org") for i in range(30)])
        mm2_copies(kafka, town_log, "trust", after=120)
        county.serve_sync()
        wait_until(lambda: county_log.head("trust", site=TOWN).seq == 150, what="the mirror resuming after the kill")
        assert county_log.head("doubt", site=TOWN).seq == 0
        assert county_log.verify(site=TOWN).events == 150  # each once, in order, every hash and signature checked
    finally:
        if county.process is not None and county.process.poll() is None:
            county.process.kill()
            county.process.communicate()


def render(values: dict) -> list[dict]:
    """The chart's manifests for `values`, as `helm template` renders them."""
    import helm_python as helm
    import yaml

    chart = helm.Chart.load(str(Path(__file__).resolve().parents[2] / "charts" / "civitas"))
    try:
        rendered = chart.render(values, name="civitas", namespace="civitas", is_install=True)
    finally:
        chart.close()
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def _port() -> int:
    from civitas_kernel.testing.ports import free_port

    return free_port()


@pytest.mark.slow
def test_serve_sync_holds_a_mirrored_stream_from_the_anchor_the_chart_declares(kafka_broker, tmp_path):
    """The county's sync.toml and known-sites.toml as the chart renders them from services.sync.peers, the town's
    trust anchored at its signed head at 80: `civitas serve sync` takes from MM2's copy (every record from position 1)
    only what follows the anchor, serves it on from there, and after a kill carries on."""
    import base64

    from civitas_sync.domain.anchors import DeclaredAnchor
    from civitas_sync.serving import signed_at

    kafka = kafka_broker.settings()
    env = {"CIVITAS_SYNC_MIRRORED": TOWN, "CIVITAS_LOG_URL": f"sqlite:///{tmp_path / 'county' / 'log.sqlite'}",
           "CIVITAS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "CIVITAS_KAFKA_TOPIC_TEMPLATE": kafka.topic_template,
           "CIVITAS_KAFKA_IDEMPOTENT_PRODUCER": str(kafka.idempotent_producer).lower(),
           "CIVITAS_KAFKA_SESSION_TIMEOUT_MS": str(kafka.session_timeout_ms),
           "CIVITAS_KAFKA_HEARTBEAT_INTERVAL_MS": str(kafka.heartbeat_interval_ms),
           "CIVITAS_KAFKA_IDLE_BACKOFF_MS": str(kafka.idle_backoff_ms),
           # a group of its own: on noida-db a member killed by another test would stay its group's leader
           "CIVITAS_KAFKA_CONSUMER_GROUP": f"civitas-{kafka.topic_template.split('.')[0]}"}
    town = KafkaSite(TOWN, tmp_path / "town", 1)
    county = KafkaSite(COUNTY, tmp_path / "county", _port(), extra=env)
    town.home.mkdir()
    county.home.mkdir()
    town_log = town.open_log()
    for start in range(0, 120, 40):
        town_log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 40)])
    at = next(iter(town_log.read("trust", after=79, until=80)))
    anchor = DeclaredAnchor(TOWN, "trust", 80, at.hash, signed_at(town_log, TOWN, "trust", 80))
    docs = render({"site": COUNTY, "mirrorMaker": {"enabled": True, "sources": [
        {"site": TOWN, "role": "sub", "bootstrapServers": kafka.bootstrap_servers}]}, "services": {"sync": {
            "enabled": True, "peers": [{"site": TOWN, "role": "sub", "url": "http://127.0.0.1:9", "key": town.key,
                                        "anchors": [{"origin": TOWN, "stream": "trust", "position": 80,
                                                     "hash": anchor.hash.hex(),
                                                     "checkpoint": base64.b64encode(anchor.checkpoint).decode()}]}]}}})
    sync = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "civitas-sync")
    pod = sync["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in pod["containers"][0]["volumeMounts"]:  # each file where the pod mounts it, under its CIVITAS_HOME
        if mount.get("subPath") in ("sync.toml", "known-sites.toml"):
            name = volumes[mount["name"]]["configMap"]["name"]
            config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
            (county.home / mount["subPath"]).write_text(config["data"][mount["subPath"]])
    rendered_env = {v["name"]: v.get("value") for v in pod["containers"][0]["env"]}
    assert rendered_env["CIVITAS_SYNC_MIRRORED"] == TOWN  # the peers MM2 carries here, as the pod is told
    mm2_copies(kafka, town_log, "trust")
    try:
        county.serve_sync()
        county_log = county.open_log()
        wait_until(lambda: county_log.head("trust", site=TOWN).seq == 120, what="the mirrored trust past the anchor")
        assert county_log.anchor("trust", site=TOWN).seq == 80
        assert [e.seq for e in county_log.read("trust", site=TOWN)] == list(range(81, 121))
        assert httpx.get(county.url + "/health", timeout=5).json()["mirrored"][TOWN]["anchors"] == {"trust": 80}
        served = [s for s in httpx.get(county.url + "/sync/v1/heads", timeout=5).json()["streams"]
                  if (s["origin"], s["stream"]) == (TOWN, "trust")]
        assert served[0]["first"] == 81
        os.kill(county.process.pid, signal.SIGTERM if kafka_broker.name == "noida" else signal.SIGKILL)
        county.process.communicate()
        town_log.append("trust", [trust(f"late{i}@example.org", "u@example.org") for i in range(30)])
        mm2_copies(kafka, town_log, "trust", after=120)
        county.serve_sync()
        wait_until(lambda: county_log.head("trust", site=TOWN).seq == 150, what="the mirror resuming after the kill")
        assert county_log.verify(site=TOWN).events == 70  # from the anchor the town signed, each once, in order
    finally:
        if county.process is not None and county.process.poll() is None:
            county.process.kill()
            county.process.communicate()
