"""The counter service compiles lists spanning the network: a town's registration and trust, copied into this
site's cluster as MirrorMaker 2 writes them (`town.example.<topic>`), are consumed verified with the town's pinned
key into the counter's replica, and its list depends on a `list@town.example` record compiled by the town's own
signed rules, as the embedded site's does."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from aiokafka import AIOKafkaProducer

from civitas_kernel.kafka import codec
from civitas_kernel.list_rules import sign_list_rules
from civitas_kernel.signers import KNOWN_SITES, write_known_sites
from civitas_sync.rules import keep_rules

from civitas.settings import Settings
from civitas.site import Site

TOWN = "town.example"


def mm2_copies(settings, log, streams) -> None:
    """What MirrorMaker 2 writes into this cluster for the town's topics: each record, key, value and headers."""
    async def produce():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        for stream in streams:
            signed = log.checkpoints_between(stream)
            for event in log.read(stream):
                headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
                await producer.send_and_wait(f"{TOWN}.{settings.topic(stream)}", value=codec.encode(event),
                                             key=codec.key_of(TOWN), headers=headers)
        await producer.stop()

    asyncio.run(produce())


def test_the_counter_service_lists_the_voters_of_a_site_it_receives(kafka_broker, threaded_services, tmp_path):
    town = Site(Settings(HOME=tmp_path / "town", SITE=TOWN, COMPILE_EVERY_MINUTES=0))
    town.registry.registrar_trust("t1@town.example")
    town.registry.run("t1@town.example", ["set", "residence", "1", "Main", "St,", "Town", "T1000"])
    kafka = kafka_broker.settings()
    mm2_copies(kafka, town.log, ("registration", "trust"))
    home = tmp_path / "home"  # the services' CIVITAS_HOME (threaded_services)
    home.mkdir()
    write_known_sites(home / KNOWN_SITES, {TOWN: town.key.public_key})  # as `civitas sync attach` pins it
    town_rules = json.loads(town.list_config.to_json())
    assert keep_rules(home, [sign_list_rules(town.key, TOWN, town_rules, 3)], {TOWN: town.key.public_key},
                      "localhost") == []  # as the sync worker keeps the rules that came with the town's heads

    urls = threaded_services(kafka, services=("registry", "polls", "counter"), COUNTER_ORIGINS=TOWN)
    with httpx.Client(base_url=urls["counter"], timeout=30) as counter:
        deadline = time.monotonic() + 60
        while True:  # the town's topics are consumed beside the site's own: a compile once they are in
            records = counter.post("/records/list").json()  # list@ORIGIN first, when its origin's streams moved
            record = [r for r in records if r["kind"] == "list"][-1]  # snapped, readied, mounted, reported
            result = counter.get(f"/records/list/{record['id']}/result").json()["result"]
            if "t1@town.example" in result:
                break
            assert time.monotonic() < deadline, f"the town's voter never reached the counter's list: {result}"
            time.sleep(0.3)
        assert f"list@{TOWN}" in record["depends"]
        streams = {(s["site"], s["stream"]): s["seq"] for s in counter.get("/streams").json()}
        assert streams[(TOWN, "registration")] == town.log.head("registration").seq
        assert streams[(TOWN, "trust")] == town.log.head("trust").seq
    config = json.loads((home / "records" / f"list@{TOWN}").glob("*/snap.json").__next__().read_text())["config"]
    assert (config["site"], config["version"], config["rules"]) == (TOWN, 3, town_rules)
