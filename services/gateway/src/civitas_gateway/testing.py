"""Fixtures for tests of any app with the gateway's sign-in: a clock tests move, the whole sign-in flow, and a check
of problem answers. A pytest plugin, registered from the repository's conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

START = 1_800_000_000.0  # a fixed "now" (2027), seconds since the epoch


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sign_in(inbox) -> Callable[..., str]:
    """sign_in(client, address, totp=None) -> session token, by the whole flow a voter goes through."""

    def run(client: TestClient, address: str, totp: str | None = None) -> str:
        sent = client.post("/api/auth/code", json={"email": address})
        assert sent.status_code == 202, sent.text
        body = {"challenge": sent.json()["challenge"], "code": inbox.code_for(address.lower())}
        if totp:
            body["totp"] = totp
        opened = client.post("/api/auth/session", json=body)
        assert opened.status_code == 200, opened.text
        return opened.json()["token"]

    return run


@pytest.fixture
def expect_problem() -> Callable[..., dict]:
    """expect_problem(response, status, kind=None) -> the problem body, after checking it is one."""

    def check(response, status: int, kind: str | None = None) -> dict:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["title"]
        if kind:
            assert problem["type"] == f"urn:civitas:problem:{kind}", problem
        return problem

    return check
