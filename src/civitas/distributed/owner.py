"""What the two stream owners (registry, polls) share: their log of record, the outbox, health, and how a command runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from civitas_kernel import telemetry
from civitas_kernel.commands import Reply
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.sql import open_log
from civitas_kernel.sql.base import SqlEventLog

from civitas.distributed.keys import shared_site_key
from civitas.distributed.outbox import Publisher
from civitas.distributed.settings import ServiceSettings
from civitas.distributed.tracing import TraceContextMiddleware
from civitas.gateway.problems import install_problem_handlers

T = TypeVar("T")


class Command(BaseModel):
    voter: str = Field(min_length=3, max_length=254)
    args: list[str] = Field(default_factory=list, max_length=200)
    idempotency_key: str | None = Field(None, max_length=200)


def reply_json(reply: Reply) -> dict:
    return {"text": reply.text, "data": reply.data}


def open_owner_log(settings: ServiceSettings) -> SqlEventLog:
    if not settings.LOG_URL:
        raise ValueError(f"set CIVITAS_LOG_URL to the {settings.SERVICE} service's own database (postgresql://HOST/DB)")
    return open_log(settings.LOG_URL, settings.SITE, shared_site_key(settings.key_file))


class Owner:
    """A service that is the one writer of `streams`: commands one at a time, then published in their trace."""

    def __init__(self, name: str, settings: ServiceSettings, log: SqlEventLog, streams: tuple[str, ...],
                 kafka: KafkaSettings | None = None) -> None:
        self.name, self.settings, self.log, self.streams = name, settings, log, streams
        self.publisher = Publisher(log, kafka or KafkaSettings(), streams)
        self.lock = threading.Lock()  # the folded state is one writer's: decide on a settled state

    async def run(self, command: Callable[[], T]) -> T:
        """Run `command` in a thread under the lock (context copied, so its append is in the request's span), then publish."""
        def locked() -> T:
            with self.lock:
                return command()

        result = await asyncio.to_thread(locked)
        await self.publisher.publish_now(self.settings.PUBLISH_WAIT_S)
        return result

    async def read(self, query: Callable[[], T]) -> T:
        def locked() -> T:
            with self.lock:
                return query()

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


def owner_app(owner: Owner, catch_up: Callable[[], Any], title: str) -> FastAPI:
    """The app around an owner: lifespan (fold state, start the outbox), /health, /ready, /streams."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await owner.read(catch_up)  # fold the state before the first command
        await owner.publisher.start()
        try:
            yield
        finally:
            await owner.publisher.stop()
            owner.log.engine.dispose()

    app = FastAPI(title=title, lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(TraceContextMiddleware, service=owner.name)
    app.state.owner = owner

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

    return app


def configure_telemetry(service: str) -> None:
    telemetry.configure(f"civitas-{service}")
