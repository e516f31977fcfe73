"""The counter as a service of its own: every stream from Kafka into its own replica log; lists and counts compiled
there.

The records are the embedded site's (the same RecordStore and compilers, civitas_counter.records), only over the
replica, so a count here equals the one an embedded site compiles from the same events. Routes: /records/{kind}
(status, compile), the reported record, each record's result and archive, the site's public key (/key); /health,
/ready and /streams.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from civitas_kernel import telemetry
from civitas_kernel.commands import NotFoundError
from civitas_kernel.kafka import KafkaSettings, StreamConsumer
from civitas_kernel.list_rules import held_list_rules
from civitas_kernel.records import Record
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.keys import shared_site_key
from civitas_kernel.service.limits import RequestLimits
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.site_rules import RulesInForce, SiteRules
from civitas_kernel.sql import open_log
from civitas_polls import POLL_STREAMS, PollCommands
from civitas_registry import REGISTER_STREAMS, list_config_of

from civitas_counter.compiling import Compiler
from civitas_counter.following import Follower
from civitas_counter.origins import counted_origins, origin_consumer, synced_origins
from civitas_counter.owner_logs import OwnerLogs
from civitas_counter.records import record_store
from civitas_counter.replica import ReplicaProjector
from civitas_counter.scheduler import CompileScheduler
from civitas_counter.settings import CounterSettings
from civitas_counter.synced import SyncedOrigins

STREAMS = REGISTER_STREAMS + POLL_STREAMS
Kind = Literal["list", "count"]


def now_us() -> int:
    return time.time_ns() // 1000


class CompileRequest(BaseModel):
    at_least: dict[str, int] = Field(default_factory=dict, description="stream -> position the replica must reach first")


def create_counter_app(settings: CounterSettings, kafka: KafkaSettings | None = None) -> FastAPI:
    if not settings.LOG_URL:
        raise ValueError("set CIVITAS_LOG_URL to the counter's own database (postgresql://HOST/DB): its replica")
    key = shared_site_key(settings.key_file)
    replica = open_log(settings.LOG_URL, settings.SITE, key)
    rules = RulesInForce(settings.releases_path, SiteRules.from_settings(settings))  # the live release's, else these
    origins = counted_origins(settings.COUNTER_ORIGINS, settings.HOME, settings.SITE)
    over_http = synced_origins(settings.COUNTER_SYNCED_ORIGINS, settings.SYNC_URL, origins, settings.HOME,
                               settings.SITE)  # the origins that reach this site over HTTP: the sync service holds them
    # the origins' rules as the sync worker keeps them under CIVITAS_HOME (the defaults, marked unsigned, until then)
    records = record_store(settings.HOME, replica, lambda: list_config_of(rules()), clock=now_us,
                           rules_of=held_list_rules(settings.HOME))
    polls = PollCommands(replica)  # read only: whether the replica holds a poll to count
    lock = threading.Lock()  # one compile at a time

    def run(kind: str) -> list[Record]:
        with lock:
            return records.run(kind)

    def has_polls() -> bool:
        with lock:
            polls.catch_up()
            return bool(polls.state.polls)

    projector = ReplicaProjector(replica)
    clients = {"registry": ServiceClient("registry", settings.REGISTRY_URL, timeout=10),
               "polls": ServiceClient("polls", settings.POLLS_URL, timeout=10)}
    consumer = StreamConsumer(kafka or KafkaSettings(), projector, STREAMS, group="civitas-counter",
                              site_keys={settings.SITE: key.public_key}, source=OwnerLogs(clients))
    follower = Follower(consumer)
    kafka_settings = kafka or KafkaSettings()
    from_origins = [Follower(origin_consumer(replica, kafka_settings, origin, origin_key))
                    for origin, origin_key in origins.items()]
    from_sync = SyncedOrigins(replica, settings.SYNC_URL, over_http, settings.COUNTER_SYNCED_EVERY_S,
                              settings.CALL_TIMEOUT_S)

    def heads() -> dict[str, int]:
        return {stream: head.seq for s, stream, head in replica.streams() if s == settings.SITE}

    compiler = Compiler(run, has_polls, heads, clients, settings.COMPILE_WAIT_S)
    # As `civitas up` does: a list and a count at randomly jittered intervals (CIVITAS_COMPILE_EVERY_MINUTES).
    scheduler = CompileScheduler(compiler.compile_all, settings.COMPILE_EVERY_MINUTES * 60, settings.COMPILE_JITTER,
                                 rules=rules)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for f in [follower, *from_origins]:
            await f.start()
        from_sync.start()
        scheduler.start()
        try:
            yield
        finally:
            await asyncio.to_thread(scheduler.stop)
            await asyncio.to_thread(from_sync.stop)
            for f in [follower, *from_origins]:
                await f.stop()
            replica.engine.dispose()

    app = FastAPI(title="civitas counter (internal)", lifespan=lifespan, telemetry=telemetry.web_telemetry())
    app.add_middleware(RequestLimits)
    install_problem_handlers(app)
    app.state.follower = follower

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
                "waiting": {f"{k[0]}/{k[1]}": v for k, v in consumer.waiting.items()}, "last_error": follower.last_error,
                "origins": {o: {"kafka": "connected" if f.started else "connecting", "last_error": f.last_error}
                            for o, f in zip(origins, from_origins)} | await asyncio.to_thread(from_sync.status)}
        return JSONResponse(body, status_code=200 if fresh else 503)

    @app.get("/streams")
    async def streams() -> list[dict]:
        return [{"site": s, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()}
                for s, stream, head in await asyncio.to_thread(replica.streams)]

    @app.get("/records/{kind}")
    async def status(kind: Kind) -> list[dict]:
        return [r.as_dict() for r in await asyncio.to_thread(records.status, kind)]

    @app.post("/records/{kind}", status_code=201)
    async def compile_record(kind: Kind, body: CompileRequest | None = None) -> list[dict]:
        """Snap, ready, mount and report a new record, once the replica holds at least `at_least`."""
        wanted = (body or CompileRequest()).at_least
        return [r.as_dict() for r in await asyncio.to_thread(compiler.compile, kind, wanted)]

    @app.get("/records/{kind}/reported")
    async def reported(kind: Kind) -> dict:
        return {"id": await asyncio.to_thread(records.reported_id, kind)}

    @app.get("/records/{kind}/{record_id}/result")
    async def result(kind: Kind, record_id: int) -> dict:
        def read() -> bytes:
            if not records.get(kind, record_id).ready:
                raise NotFoundError(f"{kind} {record_id} is not ready yet")
            return records.result(kind, record_id)

        data = await asyncio.to_thread(read)
        return {"kind": kind, "id": record_id, "result": data.decode()}

    @app.get("/records/{kind}/{record_id}/archive")
    async def archive(kind: Kind, record_id: int) -> StreamingResponse:
        """A ready record's signed archive, byte for byte, for auditors (`civitas audit`)."""
        chunks = await asyncio.to_thread(records.archive_chunks, kind, record_id)
        return StreamingResponse(chunks, media_type="application/x-tar")

    @app.get("/key")
    def public_key() -> dict:
        """The site's public key, which its records' signatures are checked against."""
        return {"site": settings.SITE, "public_key": key.public_key.hex()}

    return app


SERVICE = ServiceEntry("counter", 8003, CounterSettings, create_counter_app)
