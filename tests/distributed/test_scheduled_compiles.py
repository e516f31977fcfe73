"""The counter compiles a voter list and a count on its own schedule, as `civitas up` does, once its replica has caught up."""

from __future__ import annotations

import time
from contextlib import ExitStack

import httpx



def test_the_counter_compiles_a_list_and_a_count_on_its_schedule(kafka_broker, threaded_services):
    urls = threaded_services(kafka_broker.settings(), services=("registry", "polls", "counter"),
                             COMPILE_EVERY_MINUTES=0.01, COMPILE_JITTER=0.2)  # every 0.6 s, give or take
    with ExitStack() as stack:
        registry, polls, counter = (stack.enter_context(httpx.Client(base_url=urls[n], timeout=30))
                                    for n in ("registry", "polls", "counter"))
        assert registry.post("/registrar/trust", json={"voter": "ann@example.org", "edges": 2}).status_code == 200
        commands = [{"voter": "ann@example.org", "service": "register", "args": ["set", "residence", "1 Main St", "8001"]}]
        assert "status" not in registry.post("/commands", json={"commands": commands}).json()["results"][0]
        assert polls.post("/polls", json={"name": "mayor"}).status_code == 201
        vote = [{"voter": "ann@example.org", "service": "mayor", "args": ["vote", "bob@example.org"]}]
        assert "status" not in polls.post("/commands", json={"commands": vote}).json()["results"][0]

        deadline = time.monotonic() + 30
        while True:  # nobody asks for a compile: the schedule does it, after the replica holds the vote
            records = {kind: counter.get(f"/records/{kind}").json() for kind in ("list", "count")}
            counted = [r for r in records["count"]
                       if r["reported"] and any(c["stream"] == "vote" and c["seq"] for c in r["cut"])]
            if counted and any(r["reported"] for r in records["list"]):
                break
            assert time.monotonic() < deadline, f"no scheduled compile reported a list and a count: {records}"
            time.sleep(0.2)
        result = counter.get(f"/records/count/{counted[0]['id']}/result").json()["result"]
        assert "mayor" in result and "ann@example.org" in result
