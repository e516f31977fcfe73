"""The sync pages over HTTP, and the sync service on its own.

GET /sync/v1/heads: every (site, stream) held but doubt, with its origin's latest signed checkpoint; with
?wait=S&seen=MARK held until a head moves past the `moved` mark of an earlier answer, or S seconds (heads_moved.py).
GET /sync/v1/pages/{origin}/{stream}/{page}[?after=N]: page `page` (positions (page-1)·P+1..page·P) of a stream
as a segment; a sealed page asked whole is immutable (cacheable forever), anything else is not cached.
GET /sync/v1/network(.svg): where this site stands among its peers, which the gateway draws as the network page.
The embedded site (`civitas up`) serves this router beside its pages; `civitas serve sync` serves it alone over
CIVITAS_LOG_URL and runs the sync worker into that log.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from civitas_kernel.log import EventLog
from civitas_kernel.service.problems import Problem, install_problem_handlers
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log

from civitas_sync.config import read_network
from civitas_sync.domain.pages import PAGE_EVENTS
from civitas_sync.domain.picture import network_svg
from civitas_sync.heads_moved import MAX_WAIT_S, HeadsMoved
from civitas_sync.mirror_worker import MirrorFollowers, mirrored_origins
from civitas_sync.overview import network_overview
from civitas_sync.prompts import PromptGate, PromptRefused
from civitas_sync.rules import served_rules
from civitas_sync.serving import SEGMENT_MEDIA_TYPE, Gone, NotServed, Pages, heads
from civitas_sync.settings import SyncSettings
from civitas_sync.worker import SyncWorker

IMMUTABLE = "public, max-age=31536000, immutable"


class PromptBody(BaseModel):
    """A signed prompt (civitas_sync.prompts.signed_prompt)."""

    site: str = Field(max_length=253)
    at: int
    signature: str = Field(max_length=128)
PAGES_DIR = Path("sync") / "pages"


def sync_router(log_of: Callable[[], EventLog], home: Path, page_events: int = PAGE_EVENTS,
                prompt: Callable[[], None] | None = None, rules: Callable[[], dict] | None = None,
                moved: HeadsMoved | None = None) -> APIRouter:
    """The routes a site's peers pull from, over the log `log_of()` returns, sealed pages cached under home;
    prompt: what a peer's POST /sync/v1/prompt calls (the worker's), to pull sooner; rules: the site's voter-list
    rules, served signed with its heads so a receiver compiles this site's list by them; moved: what those adding
    to the log move (the worker's), so a held heads request is answered when a head moves."""
    router = APIRouter(prefix="/sync/v1", tags=["sync"])
    pages: dict[str, Pages] = {}
    moved = moved or HeadsMoved()

    def pages_of() -> Pages:
        if "pages" not in pages:
            pages["pages"] = Pages(log_of(), home / PAGES_DIR, page_events)
        return pages["pages"]

    def read_heads(mark: str) -> dict:
        log = log_of()
        moved.watch(log)  # this process's own appends move the heads too
        return heads(log, page_events) | {"rules": served_rules(home, log.site, log.key, rules() if rules else None),
                                          "moved": mark}

    @router.get("/heads")
    async def sync_heads(wait: float = Query(0, ge=0, le=MAX_WAIT_S), seen: str | None = Query(None, max_length=64)
                         ) -> dict:
        """Every stream this site serves, where it stands, and its origin's signed checkpoint there; `moved` marks
        the answer: asked again with seen=that mark and wait=S, the answer waits until a head moves (at most S s)."""
        if wait and seen is not None:
            await moved.after(seen, wait)
        return await run_in_threadpool(read_heads, moved.mark)  # the mark first: a move while reading is not missed

    @router.get("/pages/{origin}/{stream}/{page}", response_class=Response,
                responses={200: {"content": {SEGMENT_MEDIA_TYPE: {}}}})
    def sync_page(origin: str, stream: str, page: int, after: int | None = Query(None, ge=0)) -> Response:
        """A page of sealed events in the segment format."""
        try:
            data, sealed = pages_of().page(origin, stream, page, after)
        except Gone as e:  # held only from an anchor: said as a pruned site says it, so the receiver sees a gap
            raise Problem(410, str(e), kind="gone", first=e.first) from None
        except NotServed as e:
            raise Problem(404, str(e), kind="not-served") from None
        return Response(data, media_type=SEGMENT_MEDIA_TYPE,
                        headers={"Cache-Control": IMMUTABLE if sealed else "no-store"})

    @router.get("/network")
    def sync_network() -> dict:
        """This site's peers: per (site, stream) the head held here and the peer's, the lag, last contact, backoff,
        split-view evidence, frozen streams, and the warnings the network page shows."""
        return network_overview(log_of(), home)

    @router.get("/network.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
    def sync_network_svg() -> Response:
        """The network drawn: the core tree and the peripheral links, each edge with its lag."""
        return Response(network_svg(network_overview(log_of(), home)), media_type="image/svg+xml")

    gate = PromptGate()

    @router.post("/prompt", status_code=202)
    def sync_prompt(body: PromptBody) -> dict:
        """A peer this site pulls from has news: pull sooner than the next round. Signed with the peer's pinned key
        (see civitas_sync.prompts); only a hint: nothing else is taken from it, and every pull verifies everything."""
        log = log_of()
        try:
            gate.check(read_network(home, log.site), body.site, body.at, body.signature)
        except PromptRefused as e:
            headers = {"Retry-After": str(max(1, round(e.retry_after)))} if e.retry_after else None
            raise Problem(e.status, str(e), kind="prompt-refused", headers=headers) from None
        if prompt is not None:
            prompt()
        return {"status": "prompted" if prompt is not None else "no sync worker here"}

    return router


def create_sync_app(settings: SyncSettings) -> FastAPI:
    log = open_log(settings.log_url, settings.SITE, SiteKey.load_or_create(settings.key_file))
    worker = SyncWorker(log, settings.HOME, settings)
    origins = mirrored_origins(settings.SYNC_MIRRORED)
    mirrors = MirrorFollowers(log, settings.HOME, origins, moved=worker.moved) if origins else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if mirrors is not None:
            await mirrors.start()
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            if mirrors is not None:
                await mirrors.stop()

    app = FastAPI(title="civitas sync", lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(sync_router(lambda: log, settings.HOME, prompt=worker.prompt, rules=settings.list_rules,
                                   moved=worker.moved))

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "site": settings.SITE} | ({"mirrored": mirrors.status()} if mirrors else {})

    @app.get("/ready")
    def ready() -> JSONResponse:
        """Ready once its log answers: what its peers and the counter read is served from there."""
        try:
            held = len(log.streams())
        except Exception as error:  # noqa: BLE001 - any database failure means not ready
            return JSONResponse({"status": "not ready", "database": f"unreachable: {type(error).__name__}"}, 503)
        return JSONResponse({"status": "ready", "service": "sync", "database": "ok", "streams": held})

    return app


SERVICE = ServiceEntry("sync", 8006, SyncSettings, create_sync_app)
