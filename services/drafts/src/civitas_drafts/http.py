"""Drafts as a service of its own: groups, posts, amendments and votes over its own log of record, and the read-only
query API.

Routes: POST /commands (voters' `drafts` commands in a batch), POST /query (one voter's SELECT), GET /query/tables,
and reads of groups, members and posts; /health, /ready, /streams and /events/{stream} come with every owner
(civitas_kernel.service.owner). The query database is built at startup; folding and taking a query's connection
hold the owner's one lock, and the query itself runs outside it, at most QUERY_AT_ONCE at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import Body, FastAPI, Query
from pydantic import BaseModel, Field

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.service.owner import Owner, open_owner_log, owner_app, reply_json
from civitas_kernel.service.problems import Problem
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.voter_command import VoterCommand

from civitas_drafts import reads
from civitas_drafts.commands import DRAFT_STREAMS, DraftCommands
from civitas_drafts.member_moves import events_of, mark_moved
from civitas_drafts.query import Answer
from civitas_drafts.settings import DraftsSettings
from civitas_drafts.site_reads import query_problem
from civitas_drafts.tables import NOTES, TABLE_COLUMNS

logger = logging.getLogger("civitas.drafts")

SERVICE_NAME = "drafts"
MAX_SQL_CHARS = 1_000_000  # the body's bound; the sandbox's own limit (100,000) is said more clearly
class VoterQuery(BaseModel):
    voter: str = Field(min_length=3, max_length=254)
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)


MAX_NAMED = 100_000  # drafts events a move statement names
QUERY_BODY_BYTES = 1 << 20  # MAX_SQL_CHARS characters, each up to six bytes as JSON spells it


def run_draft_command(drafts: DraftCommands, command: VoterCommand) -> Reply:
    """`VOTER drafts ARGS` as the voter shell runs it."""
    if command.service != SERVICE_NAME:
        raise CommandError(f"this is the drafts service: send service {SERVICE_NAME!r}, not {command.service!r}")
    return drafts.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)


def _voter(voter: str) -> str:
    return normalise_address(voter) if voter else ""  # no voter: what anyone may see


def create_drafts_app(settings: DraftsSettings, **owner_options) -> FastAPI:
    log = open_owner_log(settings)
    owner: Owner[DraftCommands] = Owner(SERVICE_NAME, settings, log, DRAFT_STREAMS,
                                        lambda: DraftCommands(log, **settings.drafts_options()), **owner_options)
    app = owner_app(owner, "civitas drafts (internal)", run_draft_command, body_limits={"/query": QUERY_BODY_BYTES})
    _build_queries_at_startup(app, owner)

    @app.post("/moves/marks")
    async def member_moved(payload: dict = Body(...)) -> dict:
        """The register's move event, sealed and signed here: mark where the member's registration went."""
        return reply_json(await owner.run(lambda d: mark_moved(d, payload), alone=True))

    @app.get("/moves/voters/{voter}/events")
    async def voters_events(voter: str) -> list[str]:
        """The voter's own drafts events, by hash, for the move statement the register seals."""
        return await owner.read(lambda d: events_of(d, normalise_address(voter), MAX_NAMED))
    turns = asyncio.Semaphore(settings.QUERY_AT_ONCE)

    def answer(voter: str, sql: str) -> Answer:
        with owner.lock:  # the lock the state is folded under: the query database follows the fold
            drafts = owner.commands
            drafts.catch_up()
            ticket = drafts.sandbox.open(voter, sql)
        return drafts.sandbox.finish(ticket)  # on its own copy: commands go on meanwhile

    async def take_turn() -> None:
        if not turns.locked():
            await turns.acquire()  # free: taken at once
            return
        try:
            await asyncio.wait_for(turns.acquire(), settings.QUERY_WAIT_S)
        except TimeoutError:
            raise Problem(429, f"{settings.QUERY_AT_ONCE} queries are running; send yours again in a moment",
                          kind="queries-busy", title="Too many queries at once", headers={"Retry-After": "1"}) from None

    @app.post("/query")
    async def query(body: VoterQuery) -> dict:
        """One voter's read-only SELECT over the rows they may see: columns, rows, and whether it was cut."""
        voter = _voter(body.voter)
        await take_turn()
        try:
            result = await asyncio.to_thread(answer, voter, body.sql)
        except CommandError as error:
            raise query_problem(error) from None
        finally:
            turns.release()
        return {**result.as_dict(), "elapsed_ms": round(result.elapsed_ms, 2)}

    @app.get("/query/tables")
    def tables() -> dict:
        """The tables a query reads, their columns, and how to read them."""
        return {"tables": TABLE_COLUMNS, "notes": NOTES, "max_rows": settings.QUERY_MAX_ROWS,
                "deadline_s": settings.QUERY_DEADLINE_S}

    def read(what: Callable[[DraftCommands], dict | list]):
        def folded(drafts: DraftCommands):
            drafts.catch_up()
            return what(drafts)

        return owner.read(folded)

    @app.get("/groups")
    async def groups(voter: str = Query("", max_length=254)) -> list[dict]:
        """The groups voter may see (everyone: the public ones)."""
        me = _voter(voter)
        return await read(lambda d: reads.groups(d.state, me))

    @app.get("/groups/{group}")
    async def group(group: str, voter: str = Query("", max_length=254)) -> dict:
        """A group by id, unique id prefix or name: its version, name, kind and numbers."""
        me = _voter(voter)
        return await read(lambda d: reads.group(d.state, me, group))

    @app.get("/subject-groups")
    async def subject_groups(subject: str = Query(..., min_length=1, max_length=200),
                             voter: str = Query("", max_length=254)) -> list[dict]:
        """The groups made for a subject (e.g. change:12) that voter may see, the first made first."""
        me = _voter(voter)
        return await read(lambda d: reads.subject_groups(d.state, me, subject))

    @app.get("/groups/{group}/anchored")
    async def anchored(group: str, voter: str = Query("", max_length=254),
                       limit: int = Query(200, ge=1, le=reads.MAX_POSTS)) -> dict:
        """A group's posts that answer a place in a diff (file, hunk, revision), in the order they were posted."""
        me = _voter(voter)
        return await read(lambda d: reads.anchored(d.state, me, group, limit=limit))

    @app.get("/groups/{group}/members")
    async def members(group: str, voter: str = Query("", max_length=254)) -> dict:
        me = _voter(voter)
        return await read(lambda d: reads.members(d.state, me, group))

    @app.get("/groups/{group}/posts")
    async def posts(group: str, voter: str = Query("", max_length=254),
                    view: Literal["flat", "threaded"] = "flat", hidden: bool = False,
                    limit: int = Query(50, ge=1, le=reads.MAX_POSTS)) -> dict:
        """A group's posts best first, each with its paragraphs' scores and its alternatives (hidden: those its
        votes hide too); threaded: each with its replies beneath it."""
        me = _voter(voter)
        return await read(lambda d: reads.posts(d.state, me, group, threaded=view == "threaded", hidden=hidden,
                                                limit=limit))

    @app.get("/posts/{post}")
    async def post(post: str, voter: str = Query("", max_length=254),
                   group: str | None = Query(None, max_length=200)) -> dict:
        """A post in its group (or another it was voted into): its versions side by side, each paragraph scored."""
        me = _voter(voter)
        return await read(lambda d: reads.post(d.state, me, post, group))

    return app


def _build_queries_at_startup(app: FastAPI, owner: Owner[DraftCommands]) -> None:
    """After the owner's own startup (fold, outbox), build the query database: seconds on a big site, paid before
    the service answers rather than by the first voter who asks."""
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with started(app_):
            began = time.perf_counter()
            await owner.read(lambda drafts: drafts.prepare_queries())
            logger.info("the query database is built (%.1f s)", time.perf_counter() - began)
            yield

    app.router.lifespan_context = lifespan


SERVICE = ServiceEntry(SERVICE_NAME, 8005, DraftsSettings, create_drafts_app)
