"""The gateway's own CPU per vote: the app called in-process (no sockets, no owner), vote routes lean or ordinary.

Builds the gateway's app twice over a site that answers every command at once: once as it ships
(the vote routes are LeanRoutes) and once with the same endpoints on ordinary FastAPI routes. Signs
in the voters straight into the sign-in store, then sends PUT /api/polls/bench/vote through the ASGI
app, each voter in turn, and reports the CPU per request (the fastest of several batches, since a
shared machine's speed drifts).

Run: .venv/bin/python bench/gateway_route.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("CIVITAS_HOME", tempfile.mkdtemp(prefix="civitas-bench-"))
os.environ.update({"CIVITAS_RATE_ADDRESS": "1000000000/1min", "CIVITAS_RATE_VOTER": "1000000000/1min"})

from fastapi.routing import APIRoute  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from common import save, show  # noqa: E402
from civitas_kernel.commands import Reply  # noqa: E402
from civitas_gateway import api  # noqa: E402
from civitas_gateway.app import create_app  # noqa: E402
from civitas_gateway.auth import AuthSettings  # noqa: E402
from civitas_gateway.auth.store import sessions  # noqa: E402
from civitas_gateway.auth.tokens import digest  # noqa: E402
from civitas.settings import SiteSettings  # noqa: E402

BODY = b'{"candidate":"c1@bench.example.org"}'


class AnsweringSite:
    """Every command is accepted at once: what is left is the gateway's own work."""

    settings = SiteSettings()

    async def submit(self, command) -> Reply:
        return Reply("ok", {"poll": command.service})


def with_ordinary_vote_routes(app) -> None:
    """The vote endpoints on ordinary FastAPI routes, in the same place."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "endpoint", None) not in (api.vote, api.unvote)]
    api.add_vote_routes(app.router, route_class=APIRoute)


def app_and_tokens(voters: int, kind: str):
    app = create_app(AnsweringSite(), AuthSettings(), mailer=lambda message: None)
    if kind == "ordinary":
        with_ordinary_vote_routes(app)
    store, now = app.state.civitas_auth.sign_in.store, time.time()
    tokens = [f"bench-{kind}-{i:08d}-{'x' * 24}" for i in range(voters)]  # both apps share one store
    with store.engine.begin() as conn:
        conn.execute(insert(sessions), [{"token_digest": digest(t), "voter": f"v{i}@bench.example.org",
                                         "expires_at": now + 3600} for i, t in enumerate(tokens)])
    return app, tokens


async def vote(app, token: str) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT", "scheme": "http",
             "path": "/api/polls/bench/vote", "raw_path": b"/api/polls/bench/vote", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
             "headers": [(b"host", b"bench"), (b"authorization", b"Bearer " + token.encode()),
                         (b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]}
    delivered, status = False, []

    async def receive():
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def cpu_per_vote(app, tokens: list[str], batches: int, per_batch: int) -> float:
    for token in tokens:  # warm: every voter's session remembered, every code path run
        if (answered := await vote(app, token)) != 200:
            raise SystemExit(f"a vote was answered {answered}, not 200")
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for i in range(per_batch):
            await vote(app, tokens[i % len(tokens)])
        best = min(best, (time.process_time() - started) / per_batch)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, to check the benchmark runs")
    parser.add_argument("--voters", type=int, default=2000)
    args = parser.parse_args()
    batches, per_batch = (3, 1000) if args.quick else (7, 3000)
    lean_app, tokens = app_and_tokens(args.voters, "lean")
    lean = asyncio.run(cpu_per_vote(lean_app, tokens, batches, per_batch))
    ordinary_app, tokens = app_and_tokens(args.voters, "ordinary")
    ordinary = asyncio.run(cpu_per_vote(ordinary_app, tokens, batches, per_batch))
    show(f"Gateway CPU per vote request, in-process ({args.voters:,} voters signed in; fastest of {batches} "
         f"batches of {per_batch:,})", ["vote routes", "us CPU per vote"],
         [["LeanRoute (as shipped)", lean], ["ordinary FastAPI routes", ordinary]])
    print(f"saved {save('gateway_route', {'lean_us': lean, 'ordinary_us': ordinary, 'voters': args.voters})}")


if __name__ == "__main__":
    main()
