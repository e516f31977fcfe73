"""What the two stream owners (registry, polls) share: their log of record, the outbox, health, and how a command runs."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from civitas_kernel import telemetry
from civitas_kernel.application import PendingWrites
from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.service.keys import shared_site_key
from civitas_kernel.service.limits import BodyLimits, RequestLimits
from civitas_kernel.service.outbox import Publisher
from civitas_kernel.service.problems import UNEXPECTED_DETAIL, install_problem_handlers
from civitas_kernel.service.settings import OwnerSettings
from civitas_kernel.service.writer import MAX_BATCH, GroupWriter
from civitas_kernel.sql import open_log
from civitas_kernel.sql.base import SqlEventLog
from civitas_kernel.voter_command import VoterCommand

logger = logging.getLogger("civitas.owner")

# A batch of MAX_BATCH commands from the gateway is the largest body an owner takes.
OWNER_BODY_LIMITS = BodyLimits(routes={"/commands": 8 * 1024 * 1024})
MAX_POSITION = 2**63 - 1  # positions are 64-bit in every database

T = TypeVar("T")
C = TypeVar("C")  # the service's command layer: RegistryCommands or PollCommands


class Command(BaseModel):
    voter: str = Field(min_length=3, max_length=254)
    service: str = Field(min_length=1, max_length=40)  # "register", or a poll's name
    args: list[str] = Field(default_factory=list, max_length=200)
    idempotency_key: str | None = Field(None, max_length=200)

    def to_command(self) -> VoterCommand:
        return VoterCommand(self.voter, self.service, tuple(self.args), self.idempotency_key)


class Commands(BaseModel):
    commands: list[Command] = Field(min_length=1, max_length=MAX_BATCH)


def reply_json(reply: Reply) -> dict:
    return {"text": reply.text, "data": reply.data}


def result_json(service: str, outcome: Reply | BaseException) -> dict:
    """One command's answer in a batch: its reply, or its error's status and detail (500 for a fault of ours)."""
    if isinstance(outcome, Reply):
        return reply_json(outcome)
    if isinstance(outcome, CommandError):
        return {"status": outcome.status, "detail": str(outcome)} | ({"kind": outcome.kind} if outcome.kind else {})
    if isinstance(outcome, ConcurrencyError):
        return {"status": 409, "detail": str(outcome)}
    incident = secrets.token_hex(6)
    logger.error("incident %s: a command in a batch to %s failed", incident, service, exc_info=outcome)
    return {"status": 500, "detail": f"{UNEXPECTED_DETAIL} (incident {incident})"}


def open_owner_log(settings: OwnerSettings) -> SqlEventLog:
    if not settings.LOG_URL:
        raise ValueError(f"set CIVITAS_LOG_URL to the {settings.SERVICE} service's own database (postgresql://HOST/DB)")
    return open_log(settings.LOG_URL, settings.SITE, shared_site_key(settings.key_file))


class Owner(Generic[C]):
    """A service that is the one writer of `streams`: concurrent commands are grouped into one transaction
    (civitas_kernel.service.writer.GroupWriter, as the embedded site does), then published in the request's trace."""

    def __init__(self, name: str, settings: OwnerSettings, log: SqlEventLog, streams: tuple[str, ...],
                 make_commands: Callable[[], C], kafka: KafkaSettings | None = None) -> None:
        self.name, self.settings, self.log, self.streams = name, settings, log, streams
        self.make_commands = make_commands
        self.commands: C = make_commands()
        self.publisher = Publisher(log, kafka or KafkaSettings(), streams, wait_s=settings.PUBLISH_WAIT_S)
        self.lock = threading.RLock()  # the folded state is one writer's: decide on a settled state
        self.writer = GroupWriter(self)

    @contextmanager
    def batch(self) -> Iterator[PendingWrites]:
        """What GroupWriter needs of a site: commands inside see each other's events; written together at the end."""
        with self.lock:
            pending = PendingWrites(self.log)
            folder = self.commands.folder
            folder.pending = pending
            try:
                yield pending
                folder.pending = None
                pending.flush()
            except BaseException:
                self.commands = self.make_commands()  # the folded state may be ahead of the log: fold again
                self.commands.catch_up()
                raise
            finally:
                folder.pending = None

    async def run(self, command: Callable[[C], T], *, alone: bool = False) -> T:
        """Run `command(commands)` in the next group (alone: in a transaction of its own, e.g. with an idempotency
        key), then publish what it wrote inside the request's trace context."""
        (outcome,) = await self.run_all([(command, alone)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def run_all(self, commands: Sequence[tuple[Callable[[C], T], bool]]) -> list[T | BaseException]:
        """Run every `(command, alone)` in the next group, then publish once; each command's result or error."""
        async with self.publisher.command():
            outcomes = await asyncio.wrap_future(
                self.writer.submit_all([(lambda c=command: c(self.commands), alone) for command, alone in commands])
            )
            await self.publisher.publish_now()
        return [value for _, value in outcomes]

    async def read(self, query: Callable[[C], T]) -> T:
        def locked() -> T:
            with self.lock:
                return query(self.commands)

        return await asyncio.to_thread(locked)

    def streams_json(self) -> list[dict]:
        return [{"site": s, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()}
                for s, stream, head in self.log.streams() if stream in self.streams]

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, why): the database answers, the producer is connected, and Kafka is not far behind the log."""
        try:
            unpublished = self.publisher.unpublished()
        except Exception as error:  # noqa: BLE001 - any database failure means not ready
            return False, {"database": f"unreachable: {type(error).__name__}"}
        report = {"database": "ok", "kafka": "connected" if self.publisher.started else "connecting",
                  "unpublished": unpublished, "last_error": self.publisher.last_error}
        ready = self.publisher.started and unpublished <= self.settings.READY_MAX_UNPUBLISHED
        return ready, report


def owner_app(owner: Owner[C], title: str, dispatch: Callable[[C, VoterCommand], Reply], *,
              body_limits: dict[str, int] | None = None) -> FastAPI:
    """The app around an owner: lifespan (fold state, start the outbox), /commands, /health, /ready, /streams.

    dispatch(commands, command) runs one voter's command on the service's command layer; body_limits: the service's
    own routes that take more than the default body (path prefix -> bytes).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await owner.read(lambda commands: commands.catch_up())  # fold the state before the first command
        await owner.publisher.start()
        try:
            yield
        finally:
            await owner.publisher.stop()
            owner.log.engine.dispose()

    app = FastAPI(title=title, lifespan=lifespan, telemetry=telemetry.web_telemetry())
    install_problem_handlers(app)
    limits = OWNER_BODY_LIMITS
    if body_limits:
        limits = BodyLimits(default=limits.default, routes=limits.routes | body_limits)
    app.add_middleware(RequestLimits, limits=limits)
    app.state.owner = owner
    metrics = telemetry.instruments()

    @app.post("/commands")
    async def commands(body: Commands) -> dict:
        """Voters' commands, decided together in one group commit; a result per command, in order."""
        commands = [item.to_command() for item in body.commands]
        started = time.perf_counter()
        outcomes = await owner.run_all([(lambda c, command=command: dispatch(c, command), command.alone)
                                        for command in commands])
        metrics.commands_took(time.perf_counter() - started, (command.verb for command in commands))
        return {"results": [result_json(owner.name, outcome) for outcome in outcomes]}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "service": owner.name}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        ok, report = await asyncio.to_thread(owner.readiness)
        return JSONResponse({"status": "ready" if ok else "not ready", "service": owner.name, **report},
                            status_code=200 if ok else 503)

    @app.get("/streams")
    async def streams() -> list[dict]:
        return await asyncio.to_thread(owner.streams_json)

    @app.get("/events/{stream}")
    async def events(stream: str, after: int = Query(0, ge=0, le=MAX_POSITION),
                     until: int | None = Query(None, ge=0, le=MAX_POSITION)) -> list[dict]:
        """Sealed events of this service's stream, exactly as sealed, with the checkpoints closing appends.

        Consumers fill gaps from here."""
        if stream not in owner.streams:
            raise NotFoundError(f"{owner.name} does not own stream {stream!r}")
        return await asyncio.to_thread(sealed_events, owner.log, stream, after, until)

    return app


EVENTS_PAGE = 5_000


def sealed_events(log_: SqlEventLog, stream: str, after: int, until: int | None) -> list[dict]:
    upper = after + EVENTS_PAGE if until is None else min(until, after + EVENTS_PAGE)
    checkpoints = log_.checkpoints_between(stream, after=after, until=upper)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return [{"raw": b64(e.raw), "hash": b64(e.hash),
             "checkpoint": b64(checkpoints[e.seq]) if e.seq in checkpoints else None}
            for e in log_.read(stream, after=after, until=upper)]
