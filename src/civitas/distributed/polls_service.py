"""`civitas serve polls`: polls and votes over their own log of record, published to Kafka."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

from civitas_counter import parse_count
from civitas_polls import POLL_STREAMS, PollCommands

from civitas.distributed.calls import ServiceClient
from civitas.distributed.owner import Command, Owner, open_owner_log, owner_app, reply_json
from civitas.distributed.reported import ReportedRecord
from civitas.distributed.settings import ServiceSettings


class PollCommand(Command):
    poll: str = Field(min_length=1, max_length=40)


class NewPoll(BaseModel):
    name: str = Field(min_length=2, max_length=40)
    title: str | None = Field(None, max_length=200)
    kind: Literal["electoral", "normative"] = "electoral"
    district: str = Field("", max_length=20)
    min_trust: int = Field(0, ge=0, le=1000)
    opens_at_us: int = Field(0, ge=0)
    closes_at_us: int = Field(0, ge=0)


def create_polls_app(settings: ServiceSettings, **owner_options) -> FastAPI:
    log = open_owner_log(settings)
    owner = Owner("polls", settings, log, POLL_STREAMS, **owner_options)
    counter = ServiceClient("counter", settings.COUNTER_URL, timeout=5)
    polls = PollCommands(log, reported_count=ReportedRecord(counter, "count", parse_count, settings.REPORTED_TTL_S))
    app = owner_app(owner, polls.catch_up, "civitas polls (internal)")
    app.state.polls = polls

    @app.post("/commands")
    async def command(body: PollCommand) -> dict:
        """`VOTER POLL ARGS` as the voter shell runs it."""
        reply = await owner.run(lambda: polls.run(body.voter, body.poll, body.args, idempotency_key=body.idempotency_key))
        return reply_json(reply)

    @app.post("/polls", status_code=201)
    async def create(body: NewPoll) -> dict:
        return reply_json(await owner.run(lambda: polls.create(body.name, **body.model_dump(exclude={"name"}))))

    @app.get("/polls")
    async def list_polls() -> dict:
        return reply_json(await owner.read(polls.list_polls))

    @app.get("/polls/{poll}")
    async def poll(poll: str) -> dict:
        return await owner.read(lambda: polls.poll(poll).as_dict())

    @app.get("/polls/{poll}/votes")
    async def votes(poll: str) -> dict[str, str]:
        return await owner.read(lambda: polls.votes(poll))

    @app.get("/polls/{poll}/votes/{voter}")
    async def vote_of(poll: str, voter: str) -> dict:
        def read() -> dict:
            polls.catch_up()
            polls.state.poll(poll)
            return {"poll": poll, "voter": voter, "candidate": polls.state.vote_of(poll, voter)}

        return await owner.read(read)

    return app
