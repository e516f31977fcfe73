"""The voters' HTTP API: the register, trust, doubt, polls and votes as resources; lists, counts and records as reads.

Every write goes through the same command layer as the voter shell, so the rules and the
messages are the same everywhere. Writes take an optional `Idempotency-Key` header.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from civitas_kernel.commands import CommandError, NotFoundError
from civitas_kernel.voter_command import VoterCommand, split_line
from civitas_polls import NewPoll, PollChanges

from civitas_gateway.auth import CurrentVoter, Operator
from civitas_gateway.change_mail import tell_voided
from civitas_gateway.lean_route import LeanRoute
from civitas_gateway.site import Site

router = APIRouter(prefix="/api")
VOTE = "/api/polls/{poll}/vote"

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")]
Attribute = Literal["name", "residence", "link", "note"]
Address = Annotated[str, Field(min_length=3, max_length=254)]


async def get_site(request: Request) -> Site:
    return request.app.state.site


SiteDep = Annotated[Site, Depends(get_site)]


class Value(BaseModel):
    value: str = Field(min_length=1, max_length=1000)


class Reason(BaseModel):
    reason: str = Field("", max_length=500)


class Candidate(BaseModel):
    candidate: str = Field(min_length=1, max_length=500)


class PrimaryTrust(BaseModel):
    voter: Address
    edges: int = Field(1, ge=1, le=1000)


class ShellLine(BaseModel):
    line: str = Field(min_length=1, max_length=2000, description="SERVICE COMMAND [ARGS], run as the signed-in voter")


async def _run(site: Site, command: VoterCommand) -> dict:
    reply = await site.submit(command)
    return {"text": reply.text, "data": reply.data}


async def _register(site: Site, voter: str, args: list[str], key: str | None = None) -> dict:
    return await _run(site, VoterCommand(voter, "register", tuple(args), key))


# -- votes (ahead of every other route: see add_vote_routes) -----------------------------------------


def add_vote_routes(app_router: APIRouter, route_class: type[APIRoute] = LeanRoute) -> None:
    """Put the vote routes on the app's own router, ahead of every route it holds.

    Votes are most of a site's traffic and routes are tried in order. The app's own routes are matched
    directly, an included router's through FastAPI's include machinery on every request (about a fifth
    of the gateway's CPU per vote in bench/gateway_route.py: 43 -> 34 us). LeanRoutes skip per-request dependency solving.
    """
    votes = APIRouter(tags=["votes"], route_class=route_class,
                      dependency_overrides_provider=app_router.dependency_overrides_provider)
    votes.add_api_route(VOTE, vote, methods=["PUT"])
    votes.add_api_route(VOTE, unvote, methods=["DELETE"])
    app_router.routes[:0] = votes.routes


async def vote(poll: str, body: Candidate, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Cast or change your vote."""
    return await _run(site, VoterCommand(me, poll, ("vote", body.candidate), key))


async def unvote(poll: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _run(site, VoterCommand(me, poll, ("unvote",), key))


# -- the register -------------------------------------------------------------------------


@router.get("/register/{voter}", tags=["register"])
def registrant(voter: str, site: SiteDep) -> dict:
    """A registrant's attributes, whom they trust and whom they doubt (all public)."""
    with site.lock:
        site.registry.catch_up()
        return {"voter": voter, "attributes": site.registry.attributes(voter),
                "trusts": site.registry.trusted_by(voter), "doubts": site.registry.doubts_by(voter)}


@router.put("/register/{voter}/attributes/{attribute}", tags=["register"])
async def set_attribute(voter: str, attribute: Attribute, body: Value, me: CurrentVoter, site: SiteDep,
                        key: IdempotencyKey = None) -> dict:
    """Set your own attribute, or pre-register another (`--alter`) where the site allows it."""
    alter = [] if voter == me else ["--alter", voter]
    # Only spaces part words: a tab or line break reaches the register, which refuses it rather than rewriting it.
    return await _register(site, me, ["set", *alter, attribute, *body.value.split(" ")], key)


@router.delete("/register/{voter}/attributes/{attribute}", tags=["register"])
async def unset_attribute(voter: str, attribute: Attribute, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    alter = [] if voter == me else ["--alter", voter]
    return await _register(site, me, ["unset", *alter, attribute], key)


@router.put("/trust/{trustee}", tags=["trust"])
async def trust(trustee: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Vouch for a neighbour."""
    return await _register(site, me, ["trust", trustee], key)


@router.delete("/trust/{trustee}", tags=["trust"])
async def untrust(trustee: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _register(site, me, ["untrust", trustee], key)


@router.put("/doubt/{doubted}", tags=["doubt"])
async def doubt(doubted: str, body: Reason, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Signal doubt about a registrant (it never changes a trust level)."""
    return await _register(site, me, ["doubt", doubted, *body.reason.split(" ")], key)


@router.delete("/doubt/{doubted}", tags=["doubt"])
async def undoubt(doubted: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _register(site, me, ["undoubt", doubted], key)


@router.post("/registrar/trust", tags=["registrar"])
def registrar_trust(body: PrimaryTrust, _: Operator, site: SiteDep) -> dict:
    """The registrar extends primary trust (operator only)."""
    with site.lock:
        reply = site.registry.registrar_trust(body.voter, body.edges)
    return {"text": reply.text, "data": reply.data}


@router.delete("/registrar/trust/{voter}", tags=["registrar"])
def registrar_untrust(voter: str, _: Operator, site: SiteDep) -> dict:
    with site.lock:
        reply = site.registry.registrar_untrust(voter)
    return {"text": reply.text, "data": reply.data}


# -- polls and votes ------------------------------------------------------------------------


@router.get("/polls", tags=["polls"])
def polls(site: SiteDep) -> list[dict]:
    with site.lock:
        return site.polls.list_polls().data


@router.post("/polls", tags=["polls"], status_code=status.HTTP_201_CREATED)
def create_poll(body: NewPoll, _: Operator, site: SiteDep) -> dict:
    """Create a poll (operator only)."""
    with site.lock:
        return site.polls.create(body.name, **body.model_dump(exclude={"name"})).data


@router.patch("/polls/{poll}", tags=["polls"])
def configure_poll(poll: str, body: PollChanges, _: Operator, site: SiteDep) -> dict:
    """Change a poll's title, district, minimum trust or opening times (operator only)."""
    with site.lock:
        return site.polls.configure(poll, **body.changes()).data


@router.get("/polls/{poll}", tags=["polls"])
def poll(poll: str, site: SiteDep) -> dict:
    with site.lock:
        return site.polls.poll(poll).as_dict()


@router.get("/polls/{poll}/votes", tags=["votes"])
def votes(poll: str, site: SiteDep) -> dict[str, str]:
    """Every vote in a poll (votes are public)."""
    with site.lock:
        return site.polls.votes(poll)


@router.get("/polls/{poll}/votes/{voter}", tags=["votes"])
def vote_of(poll: str, voter: str, site: SiteDep) -> dict:
    with site.lock:
        return site.polls.run(voter, poll, ["vote"]).data


# -- the voter shell over HTTP ----------------------------------------------------------------


@router.post("/shell", tags=["shell"])
async def shell(body: ShellLine, me: CurrentVoter, site: SiteDep, request: Request,
                key: IdempotencyKey = None) -> dict:
    """Run one voter-shell line, `SERVICE COMMAND [ARGS]`, as the signed-in voter."""
    words = split_line(body.line)
    if not words or "@" in words[0]:
        raise CommandError("send SERVICE COMMAND [ARGS]: the shell runs as you, the signed-in voter")
    reply = await site.submit(VoterCommand(me, words[0], tuple(words[1:]), key))
    if words[:2] == ["change", "revise"]:
        await tell_voided(request, reply)  # as from the API and the pages: whose vote it voided is told by mail
    return {"text": reply.text, "data": reply.data}


# -- reported results and records --------------------------------------------------------------


@router.get("/list", tags=["results"])
def voter_list(site: SiteDep, response: Response) -> list[dict]:
    """The reported voter list."""
    with site.lock:
        reported = site.reported_list()
    if reported is None:
        raise NotFoundError("no voter list is reported yet")
    return [asdict(e) for e in reported.entries]


@router.get("/list/{voter}", tags=["results"])
def voter_list_entry(voter: str, site: SiteDep) -> dict:
    with site.lock:
        reported = site.reported_list()
    entry = reported.get(voter) if reported else None
    if entry is None:
        raise NotFoundError(f"{voter} is not on the reported voter list")
    return asdict(entry)


def _poll_count(site: Site, poll: str):
    with site.lock:
        count = site.reported_count()
    if count is None or poll not in count.polls:
        raise NotFoundError(f"no count of poll {poll!r} is reported yet")
    return count.polls[poll]


@router.get("/counts/{poll}", tags=["results"])
def count(poll: str, site: SiteDep) -> dict:
    """The reported count of a poll: turnout, ranking and every node's counts."""
    result = _poll_count(site, poll)
    return {"poll": poll, "turnout": result.turnout,
            "ranking": [{"rank": r, "candidate": c, "receive": n} for r, c, n in result.ranking],
            "nodes": [n._asdict() for n in result.nodes]}


@router.get("/counts/{poll}/trace/{voter}", tags=["results"])
def trace(poll: str, voter: str, site: SiteDep) -> dict:
    """The path of one voter's vote through the cascade, and who holds it."""
    result = _poll_count(site, poll)
    node = result.node(voter)
    if node is None:
        raise NotFoundError(f"{voter} is not in the reported count of {poll}")
    path = result.trace(voter)
    return {"poll": poll, "voter": voter, "path": path, "held_by": path[-1] if path else None, "node": node._asdict()}


@router.get("/records/{kind}", tags=["records"])
def records(kind: Literal["list", "count"], site: SiteDep) -> list[dict]:
    """Every record of a kind, marked mounted and reported."""
    with site.lock:
        return [r.as_dict() for r in site.records.status(kind)]


@router.post("/records/{kind}", tags=["records"], status_code=status.HTTP_201_CREATED)
def compile_record(kind: Literal["list", "count"], _: Operator, site: SiteDep) -> list[dict]:
    """Snap, ready, mount and report a new record now (operator only)."""
    with site.lock:
        return [r.as_dict() for r in site.compile(kind)]
