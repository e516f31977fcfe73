"""The drafts service as a client sees it: commands, queries and reads over real HTTP, and their problems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from fastapi import FastAPI


@dataclass
class DraftsService:
    url: str
    app: FastAPI
    log_url: str
    stop: Callable[[], None]  # stops serving (its lifespan ends); the log stays

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def command(self, voter: str, *args: str) -> dict:
        """One voter's command through POST /commands: its reply ({text, data}) or its error ({status, detail})."""
        with self.client() as client:
            return self.commands(client, [(voter, *args)])[0]

    @staticmethod
    def commands(client: httpx.Client, lines: list[tuple[str, ...]]) -> list[dict]:
        body = {"commands": [{"voter": voter, "service": "drafts", "args": list(args)} for voter, *args in lines]}
        response = client.post("/commands", json=body)
        assert response.status_code == 200, response.text
        return response.json()["results"]

    def query(self, voter: str, sql: str) -> httpx.Response:
        with self.client() as client:
            return client.post("/query", json={"voter": voter, "sql": sql})

    def get(self, path: str, **params) -> httpx.Response:
        with self.client() as client:
            return client.get(path, params=params)


def ok(result: dict) -> dict:
    """A command's data, after checking it succeeded."""
    assert "status" not in result, result
    return result["data"]


def problem(response: httpx.Response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if kind:
        assert body["type"] == f"urn:civitas:problem:{kind}", body
    return body
