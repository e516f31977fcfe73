"""Polls as a service of its own: polls and votes over their own log of record, published to Kafka.

Routes: POST /commands (voters' commands in a batch, from the gateway), making and changing polls, and reads of
polls and votes; /health, /ready, /streams and /events/{stream} come with every owner (civitas_kernel.service.owner).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from civitas_kernel.commands import Reply
from civitas_kernel.count_result import parse_count
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.owner import Owner, open_owner_log, owner_app, reply_json
from civitas_kernel.service.reported import ReportedRecord
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.service.settings import OwnerSettings
from civitas_kernel.voter_command import VoterCommand

from civitas_polls.commands import POLL_STREAMS, PollCommands
from civitas_polls.release_polls import CHECK_EVERY_S, ReleasePolls
from civitas_polls.requests import NewPoll, PollChanges


def run_poll_command(polls: PollCommands, command: VoterCommand) -> Reply:
    """`VOTER POLL ARGS` as the voter shell runs it."""
    return polls.run(command.voter, command.service, list(command.args), idempotency_key=command.idempotency_key)


def create_polls_app(settings: OwnerSettings, **owner_options) -> FastAPI:
    log = open_owner_log(settings)
    counter = ServiceClient("counter", settings.COUNTER_URL, timeout=5)
    reported_count = ReportedRecord(counter, "count", parse_count, settings.REPORTED_TTL_S)
    owner: Owner[PollCommands] = Owner("polls", settings, log, POLL_STREAMS,
                                       lambda: PollCommands(log, reported_count=reported_count), **owner_options)
    app = owner_app(owner, "civitas polls (internal)", run_poll_command)
    install_release_polls(app, owner, settings)

    @app.post("/polls", status_code=201)
    async def create(body: NewPoll) -> dict:
        return reply_json(await owner.run(lambda p: p.create(body.name, **body.model_dump(exclude={"name"}))))

    @app.patch("/polls/{poll}")
    async def configure(poll: str, body: PollChanges) -> dict:
        return reply_json(await owner.run(lambda p: p.configure(poll, **body.changes())))

    @app.get("/polls")
    async def list_polls() -> dict:
        return reply_json(await owner.read(lambda p: p.list_polls()))

    @app.get("/polls/{poll}")
    async def poll(poll: str) -> dict:
        return await owner.read(lambda p: p.poll(poll).as_dict())

    @app.get("/polls/{poll}/votes")
    async def votes(poll: str) -> dict[str, str]:
        return await owner.read(lambda p: p.votes(poll))

    @app.get("/polls/{poll}/votes/{voter}")
    async def vote_of(poll: str, voter: str) -> dict:
        def read(p: PollCommands) -> dict:
            p.catch_up()
            p.state.poll(poll)
            return {"poll": poll, "voter": voter, "candidate": p.state.vote_of(poll, voter)}

        return await owner.read(read)

    return app


def install_release_polls(app: FastAPI, owner: Owner[PollCommands], settings: OwnerSettings) -> None:
    """While the app runs, the live release's poll files are brought into the stream through the owner's writer."""

    def apply(commit: str, polls: dict) -> Reply:
        future = asyncio.run_coroutine_threadsafe(owner.run(lambda p: p.apply_release(commit, polls)), loop)
        return future.result()

    release_polls = ReleasePolls(settings.releases_path, apply)
    loop: asyncio.AbstractEventLoop
    inner = app.router.lifespan_context

    async def watch() -> None:
        while True:
            release = release_polls.due()
            if release is not None:
                try:
                    await asyncio.to_thread(release_polls.bring_in, release)
                except Exception:  # a failed write is tried again at the next look; the log says why
                    logging.getLogger("civitas.polls.release").exception("release polls not written")
            await asyncio.sleep(CHECK_EVERY_S)

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        nonlocal loop
        async with inner(a) as state:
            loop = asyncio.get_running_loop()
            task = loop.create_task(watch())
            try:
                yield state
            finally:
                task.cancel()

    app.router.lifespan_context = lifespan


SERVICE = ServiceEntry("polls", 8002, OwnerSettings, create_polls_app)
