"""`civitas serve sync` on Kafka: records shaped as MirrorMaker 2 writes them (each of the town's records copied,
key, value and headers, into `town.example.<topic>` of the county's cluster) consumed by the sync service with the
town's pinned key into the county's log — doubt refused — and killed (SIGKILL; stopped, on noida-db) it carries on where
it stood."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field

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


def _port() -> int:
    from civitas_kernel.testing.ports import free_port

    return free_port()
