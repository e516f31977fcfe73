"""A call signed as one of the site's services: good for exactly its request until it expires; anything else, no one."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from civitas_kernel.service.callers import CALLER_HEADER, MAX_TTL_S, CallerPass, caller_required
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.signing import SiteKey


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_pass_names_its_caller_for_its_own_request_only_until_it_expires():
    clock, key = Clock(), SiteKey.generate().private_key
    signer, checker = CallerPass.of_key(key, clock), CallerPass.of_key(key, clock)  # the gateway's, the deployer's
    body = b'{"kind":"operator-token"}'
    value = signer.sign("gateway", "POST", "/lockout/refusals", body)
    assert checker.caller_of(value, "POST", "/lockout/refusals", body) == "gateway"
    assert checker.caller_of(value, "POST", "/lockout/refusals", body + b" ") is None  # another body
    assert checker.caller_of(value, "POST", "/commands", body) is None  # another route
    assert checker.caller_of(value, "PUT", "/lockout/refusals", body) is None
    assert checker.caller_of(value.replace("gateway", "polls", 1), "POST", "/lockout/refusals", body) is None
    other = CallerPass.of_key(SiteKey.generate().private_key, clock)  # another site's key
    assert other.caller_of(value, "POST", "/lockout/refusals", body) is None
    clock.now += 32
    assert checker.caller_of(value, "POST", "/lockout/refusals", body) is None  # expired
    far = f"gateway {int(clock.now + MAX_TTL_S + 60)} {'0' * 64}"
    for bad in (None, "", "gateway", far, "gateway x y", "a b c d", "gateway 1 " + "0" * 300):
        assert checker.caller_of(bad, "POST", "/lockout/refusals", body) is None


def test_a_route_that_requires_a_caller_refuses_anyone_else_and_does_nothing():
    key = SiteKey.generate().private_key
    done: list[dict] = []
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/noted")
    async def noted(body: dict, caller: str = Depends(caller_required(CallerPass.of_key(key), "gateway"))) -> dict:
        done.append(body)
        return {"by": caller}

    with TestClient(app) as http:
        client = ServiceClient("deployer", "http://test", http=http)
        assert client.post_as("gateway", CallerPass.of_key(key), "/noted", {"a": 1}) == {"by": "gateway"}
        for headers in ({}, {CALLER_HEADER: "gateway 9999999999 " + "0" * 64}):
            refused = http.post("/noted", json={"a": 2}, headers=headers)
            assert refused.status_code == 403 and refused.json()["type"].endswith("internal-only")
        as_polls = http.post("/noted", content=b'{"a":3}', headers={
            "content-type": "application/json",
            CALLER_HEADER: CallerPass.of_key(key).sign("polls", "POST", "/noted", b'{"a":3}')})
        assert as_polls.status_code == 403  # a service of the site, but not one this route takes
    assert done == [{"a": 1}]
