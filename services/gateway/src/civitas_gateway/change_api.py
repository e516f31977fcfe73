"""The voters' HTTP API for change proposals: propose (a patch, or a git URL with its branch or ref), revise, withdraw,
vote, unvote, delegate and undelegate as the signed-in voter; the proposals, one proposal's tally, diff and delegation
graph, and delegations as reads.

Writes are the voter shell's `change` commands (site.submit) where a shell line carries them, and the change desk's
propose and revise (change_desk.py) where it cannot; the replies and errors are the deployer's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from civitas_kernel.commands import Reply
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.api import IdempotencyKey, SiteDep
from civitas_gateway.auth import CurrentVoter, OptionalVoter
from civitas_gateway.change_desk import Change, changes_of
from civitas_gateway.change_mail import tell_voided
from civitas_gateway.discussions import propose_with_discussion

router = APIRouter(prefix="/api", tags=["changes"])
MAX_PATCH_TEXT = 10 * 1024 * 1024  # the deployer's default patch limit; it refuses a larger patch saying so
# Routes whose bodies carry a patch: JSON escaping at most doubles it, a form upload adds its parts.
BODY_LIMITS = {"/api/changes": 2 * MAX_PATCH_TEXT + 64 * 1024, "/changes": MAX_PATCH_TEXT + 64 * 1024}
Scope = Annotated[str, Field(min_length=1, max_length=100)]
Address = Annotated[str, Field(min_length=3, max_length=254)]


class NewChange(BaseModel):
    """A change: `patch` (git format-patch output), or `url` with `branch` or `ref` (git://, http:// or https://)."""

    title: str | None = Field(None, max_length=200, description="needed to propose; a revision keeps it unless given")
    patch: str | None = Field(None, max_length=MAX_PATCH_TEXT)
    url: str | None = Field(None, max_length=2000)
    ref: str | None = Field(None, max_length=200)
    branch: str | None = Field(None, max_length=200)

    def change(self) -> Change:
        return Change.of(self.patch.encode() if self.patch is not None else None, self.url, self.ref, self.branch)


class Ballot(BaseModel):
    choice: Literal["yes", "no", "abstain"]
    content_hash: str | None = Field(None, min_length=8, max_length=64, pattern=r"^[0-9a-f]+$",
                                     description="only if the proposal's current revision still has this content")


class Delegation(BaseModel):
    delegates: list[Address] = Field(default_factory=list, max_length=20,
                                     description="whom your vote follows; several: only when all of them agree")
    none: bool = Field(False, description="delegate nothing at this scope, whatever your delegation for *")


def _json(reply: Reply) -> dict:
    return {"text": reply.text, "data": reply.data}


async def _change(site, voter: str, args: tuple[str, ...], key: str | None) -> dict:
    return _json(await site.submit(VoterCommand(voter, "change", args, key)))


@router.get("/changes")
def proposals(site: SiteDep) -> dict:
    """Every proposal, its phase (review, voting, closed, approved, rejected, withdrawn) and its modules."""
    return _json(changes_of(site).list())


@router.post("/changes", status_code=status.HTTP_201_CREATED)
async def propose(body: NewChange, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Propose a change to the live repository; the reply names its content hash, the one votes approve."""
    return _json(await propose_with_discussion(site, me, body.title or "", body.change(), key))


@router.get("/changes/{proposal}")
def show(proposal: str, site: SiteDep, me: OptionalVoter) -> dict:
    """The proposal, its tally per module, and (signed in) your vote and how it resolves, with its chain."""
    return _json(changes_of(site).show(me, proposal))


@router.get("/changes/{proposal}/diff")
def diff(proposal: str, site: SiteDep, revision: int | None = Query(None, ge=1, le=10_000)) -> dict:
    """The revision's unified diff against its base (default: the current revision)."""
    return _json(changes_of(site).diff(proposal, revision))


@router.get("/changes/{proposal}/graph")
def graph(proposal: str, site: SiteDep, me: OptionalVoter) -> dict:
    """Who follows whom in each module the proposal touches, and how each vote resolves (bounded; yours first)."""
    return _json(changes_of(site).graph(proposal, me))


@router.post("/changes/{proposal}/revisions", status_code=status.HTTP_201_CREATED)
async def revise(proposal: str, body: NewChange, me: CurrentVoter, site: SiteDep, request: Request,
                 key: IdempotencyKey = None) -> dict:
    """Replace your proposal's change: every direct vote on it is void (those voters are mailed) and a new window
    opens."""
    reply = await changes_of(site).revise(me, proposal, body.change(), body.title, key)
    await tell_voided(request, reply)
    return _json(reply)


@router.delete("/changes/{proposal}")
async def withdraw(proposal: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _change(site, me, ("withdraw", proposal), key)


@router.put("/changes/{proposal}/vote")
async def vote(proposal: str, body: Ballot, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Vote on the proposal's current revision; the reply says which content hash your vote approves."""
    extra = ("--hash", body.content_hash) if body.content_hash else ()
    return await _change(site, me, ("vote", proposal, body.choice, *extra), key)


@router.delete("/changes/{proposal}/vote")
async def unvote(proposal: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _change(site, me, ("unvote", proposal), key)


@router.get("/delegations")
def my_delegations(me: CurrentVoter, site: SiteDep) -> dict:
    """Your delegations per module (or * for every module), and who delegates to you."""
    return _json(changes_of(site).delegations(me))


@router.put("/delegations/{scope}")
async def delegate(scope: str, body: Delegation, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Where you do not vote, your vote in module `scope` (or * for every one) follows your delegates'."""
    return await _change(site, me, ("delegate", scope, *(["none"] if body.none else body.delegates)), key)


@router.delete("/delegations/{scope}")
async def undelegate(scope: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await _change(site, me, ("undelegate", scope), key)
