"""`civitas serve counter`: every stream from Kafka into its own replica log; lists and counts compiled there.

The records are the embedded site's (RecordStore over a log, the same compilers), only over the
replica, so a count here equals the one an embedded site compiles from the same events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from civitas_kernel import telemetry
from civitas_kernel.commands import NotFoundError
from civitas_kernel.kafka import KafkaSettings, StreamConsumer
from civitas_kernel.signing import SiteKey
from civitas_polls import POLL_STREAMS
from civitas_registry import REGISTER_STREAMS

from civitas.distributed.calls import ServiceClient
from civitas.distributed.compiling import Compiler
from civitas.distributed.keys import shared_site_key
from civitas.distributed.owner_logs import OwnerLogs
from civitas.distributed.replica import ReplicaProjector
from civitas.distributed.settings import ServiceSettings
from civitas.gateway.problems import install_problem_handlers
from civitas.scheduler import CompileScheduler
from civitas.site import Site

log = logging.getLogger("civitas.distributed.counter")
STREAMS = REGISTER_STREAMS + POLL_STREAMS
Kind = Literal["list", "count"]


@dataclass
class ReplicaSite(Site):
    """The embedded site's records over the counter's replica, signed with the shared site key."""

    site_key: SiteKey | None = field(default=None, repr=False)

    @cached_property
    def key(self) -> SiteKey:
        return self.site_key or shared_site_key(self.settings.key_path)


class CompileRequest(BaseModel):
    at_least: dict[str, int] = Field(default_factory=dict, description="stream -> position the replica must reach first")


class Follower:
    """The consumer loop: connects (retrying), polls, and remembers when a round last went well."""

    def __init__(self, consumer: StreamConsumer) -> None:
        self.consumer = consumer
        self.started = False
        self.last_success = 0.0
        self.last_error: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="counter-consumer")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        while not self._stop.is_set() and not self.started:
            try:
                await self.consumer.start()
                self.started = True
            except Exception as error:  # noqa: BLE001 - the broker may come up after us
                self.last_error = repr(error)
                log.warning("cannot reach Kafka yet, retrying: %r", error)
                await self.consumer.stop()
                await asyncio.sleep(1.0)
        while not self._stop.is_set():
            try:
                await self.consumer.poll(timeout_ms=200)
                self.last_success, self.last_error = time.monotonic(), None
            except Exception as error:  # noqa: BLE001 - the round was rolled back; keep consuming
                self.last_error = repr(error)
                log.warning("consumer round failed, retrying: %r", error)
                await asyncio.sleep(0.5)


def create_counter_app(settings: ServiceSettings, kafka: KafkaSettings | None = None) -> FastAPI:
    if not settings.LOG_URL:
        raise ValueError("set CIVITAS_LOG_URL to the counter's own database (postgresql://HOST/DB): its replica")
    site = ReplicaSite(settings, site_key=shared_site_key(settings.key_file))
    replica = site.log
    projector = ReplicaProjector(replica)
    clients = {"registry": ServiceClient("registry", settings.REGISTRY_URL, timeout=10),
               "polls": ServiceClient("polls", settings.POLLS_URL, timeout=10)}
    consumer = StreamConsumer(kafka or KafkaSettings(), projector, STREAMS, group="civitas-counter",
                              site_keys={settings.SITE: site.key.public_key}, source=OwnerLogs(clients))
    follower = Follower(consumer)

    def heads() -> dict[str, int]:
        return {stream: head.seq for s, stream, head in replica.streams() if s == settings.SITE}

    compiler = Compiler(site, heads, clients, settings.COMPILE_WAIT_S)
    # As `civitas up` does: a list and a count at randomly jittered intervals (CIVITAS_COMPILE_EVERY_MINUTES).
    scheduler = CompileScheduler(compiler.compile_all, settings.COMPILE_EVERY_MINUTES * 60, settings.COMPILE_JITTER)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await follower.start()
        scheduler.start()
        try:
            yield
        finally:
            await asyncio.to_thread(scheduler.stop)
            await follower.stop()
            replica.engine.dispose()

    app = FastAPI(title="civitas counter (internal)", lifespan=lifespan, telemetry=telemetry.web_telemetry())
    install_problem_handlers(app)
    app.state.site, app.state.follower = site, follower

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "service": "counter"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        try:
            held = await asyncio.to_thread(heads)
        except Exception as error:  # noqa: BLE001 - any database failure means not ready
            return JSONResponse({"status": "not ready", "database": f"unreachable: {type(error).__name__}"}, 503)
        fresh = follower.started and time.monotonic() - follower.last_success < settings.READY_MAX_STALE_S
        body = {"status": "ready" if fresh else "not ready", "service": "counter", "database": "ok",
                "kafka": "connected" if follower.started else "connecting", "heads": held,
                "waiting": {f"{k[0]}/{k[1]}": v for k, v in consumer.waiting.items()}, "last_error": follower.last_error}
        return JSONResponse(body, status_code=200 if fresh else 503)

    @app.get("/streams")
    async def streams() -> list[dict]:
        return [{"site": s, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()}
                for s, stream, head in await asyncio.to_thread(replica.streams)]

    @app.get("/records/{kind}")
    async def status(kind: Kind) -> list[dict]:
        return [r.as_dict() for r in await asyncio.to_thread(site.records.status, kind)]

    @app.post("/records/{kind}", status_code=201)
    async def compile_record(kind: Kind, body: CompileRequest | None = None) -> list[dict]:
        """Snap, ready, mount and report a new record, once the replica holds at least `at_least`."""
        wanted = (body or CompileRequest()).at_least
        return [r.as_dict() for r in await asyncio.to_thread(compiler.compile, kind, wanted)]

    @app.get("/records/{kind}/reported")
    async def reported(kind: Kind) -> dict:
        return {"id": await asyncio.to_thread(site.records.reported_id, kind)}

    @app.get("/records/{kind}/{record_id}/result")
    async def result(kind: Kind, record_id: int) -> dict:
        def read() -> bytes:
            if not site.records.get(kind, record_id).ready:
                raise NotFoundError(f"{kind} {record_id} is not ready yet")
            return site.records.result(kind, record_id)

        data = await asyncio.to_thread(read)
        return {"kind": kind, "id": record_id, "result": data.decode()}

    return app
