"""The voter shell against a remote site: sign in by emailed code, then send lines to the gateway."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from civitas_kernel.commands import CommandError, Reply

TIMEOUT = 30.0


def session_path(home: Path, url: str) -> Path:
    return home / "sessions" / (urlsplit(url).netloc.replace(":", "_") or "site")


def _problem(response: httpx.Response) -> CommandError:
    try:
        detail = response.json().get("detail") or response.reason_phrase
    except ValueError:
        detail = response.text[:200] or response.reason_phrase
    return CommandError(f"{response.status_code}: {detail}")


class RemoteSite:
    def __init__(self, url: str, token: str | None = None, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(base_url=self.url, timeout=TIMEOUT)
        self.token = token

    def request_code(self, email: str) -> str:
        response = self.client.post("/api/auth/code", json={"email": email})
        if response.status_code != 202:
            raise _problem(response)
        return response.json()["challenge"]

    def open_session(self, challenge: str, code: str, totp: str | None = None) -> str:
        body = {"challenge": challenge, "code": code} | ({"totp": totp} if totp else {})
        response = self.client.post("/api/auth/session", json=body)
        if response.status_code != 200:
            raise _problem(response)
        self.token = response.json()["token"]
        return self.token

    def run(self, line: str) -> Reply:
        if not self.token:
            raise CommandError(f"sign in first: `civitas signin {self.url} YOUR@ADDRESS`")
        response = self.client.post("/api/shell", json={"line": line}, headers={"Authorization": f"Bearer {self.token}"})
        if response.status_code != 200:
            raise _problem(response)
        body = response.json()
        return Reply(body["text"], body.get("data"))


def save_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(token)


def load_token(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None
