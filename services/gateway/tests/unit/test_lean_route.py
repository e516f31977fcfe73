"""LeanRoute answers every request exactly as an ordinary FastAPI route does, and well-formed ones without
FastAPI's dependency solving."""

from __future__ import annotations

from typing import Annotated

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from civitas_gateway.lean_route import LeanRoute

calls: list[str] = []


class Ballot(BaseModel):
    candidate: str = Field(min_length=1, max_length=20)


async def signed_in(request: Request) -> str:
    calls.append(request.url.path)
    token = request.headers.get("authorization")
    if token is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return token.removeprefix("Bearer ")


Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=8, pattern=r"^[a-z]+$")]


def app_with(route_class: type[fastapi.routing.APIRoute]) -> FastAPI:
    router = APIRouter(prefix="/api", route_class=route_class)

    @router.put("/polls/{poll}/vote")
    async def vote(poll: str, body: Ballot, me: Annotated[str, Depends(signed_in)], key: Key = None) -> dict:
        if body.candidate == "broken":
            return {"candidate": object()}  # not JSON: the server's own mistake
        return {"poll": poll, "voter": me, "candidate": body.candidate, "key": key}

    @router.delete("/polls/{poll}/vote", status_code=202)
    async def unvote(poll: str, me: Annotated[str, Depends(signed_in)]) -> dict:
        return {"poll": poll, "voter": me}

    app = FastAPI()
    app.include_router(router)
    return app


ALICE = {"Authorization": "Bearer alice"}
REQUESTS = [
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}, "headers": {**ALICE, "Idempotency-Key": "abc"}}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}, "headers": {**ALICE, "Idempotency-Key": "ABC"}}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}, "headers": {**ALICE, "Idempotency-Key": "a" * 9}}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": ""}, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": 5}, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": {"nominee": "bob"}, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": None, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": ["bob"], "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"content": b"{candidate: bob", "headers": {**ALICE, "Content-Type": "application/json"}}),
    ("put", "/api/polls/mayor/vote", {"content": b'{"candidate": "bob"}', "headers": {**ALICE, "Content-Type": "text/plain"}}),
    ("put", "/api/polls/mayor/vote", {"content": b'{"candidate": "bob"}', "headers": ALICE}),
    ("put", "/api/polls/mayor/vote",
     {"content": b'{"candidate": "bob"}', "headers": {**ALICE, "Content-Type": "application/merge-patch+json; charset=utf-8"}}),
    ("put", "/api/polls/mayor/vote", {"data": {"candidate": "bob"}, "headers": ALICE}),
    ("put", "/api/polls/mayor/vote", {"json": {"candidate": "broken"}, "headers": ALICE}),
    ("put", "/api/polls/m%C3%A4yor/vote", {"json": {"candidate": "bøb"}, "headers": ALICE}),
    ("delete", "/api/polls/mayor/vote", {"headers": ALICE}),
    ("delete", "/api/polls/mayor/vote", {}),
    ("post", "/api/polls/mayor/vote", {"json": {"candidate": "bob"}, "headers": ALICE}),
]


def answer(client: TestClient, method: str, path: str, kwargs: dict) -> tuple:
    calls.clear()
    response = client.request(method, path, **kwargs)
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    return response.status_code, response.content, headers, list(calls)


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS, ids=[f"{m} {k}" for m, _, k in REQUESTS])
def test_every_answer_is_fastapis_own(method, path, kwargs):
    ordinary = TestClient(app_with(fastapi.routing.APIRoute), raise_server_exceptions=False)
    lean = TestClient(app_with(LeanRoute), raise_server_exceptions=False)
    expected = answer(ordinary, method, path, kwargs)
    assert answer(lean, method, path, kwargs) == expected
    # The dependency ran at most once: a request the plan hands to FastAPI is not charged twice.
    assert len(expected[3]) <= 1


def test_well_formed_requests_skip_dependency_solving(monkeypatch):
    solved = []
    solve = fastapi.routing.solve_dependencies

    async def counting(**kwargs):
        solved.append(kwargs["request"].url.path)
        return await solve(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    lean = TestClient(app_with(LeanRoute))
    assert lean.put("/api/polls/mayor/vote", json={"candidate": "bob"}, headers=ALICE).json()["candidate"] == "bob"
    assert lean.delete("/api/polls/mayor/vote", headers=ALICE).status_code == 202
    assert solved == []
    assert lean.put("/api/polls/mayor/vote", json={"candidate": ""}, headers=ALICE).status_code == 422
    assert solved == ["/api/polls/mayor/vote"]  # the error comes from FastAPI itself
    # ...and an ordinary route solves every time, so the counter does see it.
    ordinary = TestClient(app_with(fastapi.routing.APIRoute))
    ordinary.delete("/api/polls/mayor/vote", headers=ALICE)
    assert len(solved) == 2


def test_dependency_overrides_are_honoured():
    app = app_with(LeanRoute)
    app.dependency_overrides[signed_in] = lambda: "tester"
    reply = TestClient(app).put("/api/polls/mayor/vote", json={"candidate": "bob"})
    assert reply.status_code == 200 and reply.json()["voter"] == "tester"


def test_the_documentation_is_the_same():
    assert app_with(LeanRoute).openapi() == app_with(fastapi.routing.APIRoute).openapi()


def test_a_signature_it_cannot_plan_is_refused_when_the_app_is_made():
    router = APIRouter(route_class=LeanRoute)
    with pytest.raises(TypeError, match="query and cookie parameters"):
        @router.get("/polls")
        async def polls(kind: str = "electoral") -> dict:
            return {}
    with pytest.raises(TypeError, match="must be `async def`"):
        @router.get("/polls/{poll}")
        def poll(poll: str) -> dict:
            return {}
    with pytest.raises(TypeError, match="declare the return type"):
        @router.get("/polls/{poll}/votes")
        async def votes(poll: str):
            return {}
