"""`Civitas-Release: <commit>` (or `none`) on every answer of the site, naming the release that serves, for the
deployer's smoke request; added only where the gateway has not set it itself."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"civitas-release"


class ReleaseHeader:
    def __init__(self, app: ASGIApp, home: Path) -> None:
        self.app, self.link = app, Path(home) / "releases" / "live"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            release = os.readlink(self.link).encode()
        except OSError:
            release = b"none"

        async def with_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if all(name.lower() != HEADER for name, _ in headers):
                    message = {**message, "headers": [*headers, (HEADER, release)]}
            await send(message)

        await self.app(scope, receive, with_release)
