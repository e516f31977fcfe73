"""The drafts API: groups, members, posts, amendments and votes as resources, and the read-only query API.

Every write is the signed-in voter's `drafts` command, run through the same command layer as the voter shell (on the
embedded site, or at the drafts service behind a gateway), so the rules and their messages are the same everywhere;
writes take an optional `Idempotency-Key`. Reads answer what the caller may see (no session: the public groups).
`POST /api/query` runs one SELECT over the caller's visible rows in the drafts' query sandbox; whatever it refuses
or stops is an RFC 9457 problem document of its own type (query-refused, query-timeout, query-too-large,
query-invalid; queries-busy when too many run at once).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.api import IdempotencyKey, SiteDep
from civitas_gateway.auth import CurrentVoter
from civitas_gateway.page_kit import page_voter

router = APIRouter(prefix="/api", tags=["drafts"])

MAX_SQL = 200_000  # past SQLite's hardened SQL length (100,000), so the sandbox, not validation, says a query is too long
Ref = Annotated[str, Field(min_length=1, max_length=200)]
Nickname = Annotated[str, Field(min_length=1, max_length=100)]
Number = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[-+0-9.eE]+$", description="like 1, -1 or 0.5")]
Paragraphs = Annotated[list[Annotated[str, Field(min_length=1, max_length=60_000)]],
                       Field(min_length=1, max_length=500, description="the post's text, a paragraph each")]


class NewGroup(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    private: bool = False
    others_weight: Number = Field("0", description="the weight of a voter who joins by themselves; 0: nobody may")
    default_score: Number = "0"
    nickname: Nickname | None = None
    weight: Number = "1"
    subject: str | None = Field(None, min_length=1, max_length=200,
                                description="what the group discusses, like change:12 (a page trusts only its owner's)")


class Joining(BaseModel):
    nickname: Nickname | None = None
    weight: Number | None = None


class NewMember(BaseModel):
    voter: Annotated[str, Field(min_length=3, max_length=254)]
    nickname: Nickname
    weight: Number


class MemberChange(BaseModel):
    weight: Number | None = None
    nickname: Nickname | None = None


class GroupChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    others_weight: Number | None = None
    default_score: Number | None = None


class Anchor(BaseModel):
    """The place in a change proposal's diff a post answers."""

    file: str = Field(min_length=1, max_length=1000, description="the file's path in the diff")
    hunk: str = Field("", max_length=500, description="the hunk's header, like `@@ -3,7 +3,8 @@`; empty: the file")
    revision: str = Field(min_length=1, max_length=128, description="the content hash of the revision answered")


class NewPost(BaseModel):
    paragraphs: Paragraphs


class NewGroupPost(NewPost):
    anchor: Anchor | None = Field(None, description="a reply to a hunk of a diff (in a proposal's discussion)")


class NewReply(BaseModel):
    paragraphs: Paragraphs
    paragraph: str | None = Field(None, max_length=64, description="the paragraph replied to: its number or hash")
    group: Ref | None = Field(None, description="the group the reply goes to (default: the post's)")


class Vote(BaseModel):
    vote: Annotated[str, Field(min_length=1, max_length=40, description="up, down, clear, or a number to add")]
    paragraph: str | None = Field(None, max_length=64, description="a paragraph's number or hash: vote on it alone")
    group: Ref | None = Field(None, description="the group voted in (default: the post's own)")


class SQL(BaseModel):
    sql: str = Field(min_length=1, max_length=MAX_SQL, description="one SELECT (or WITH, VALUES)")


async def drafts(site, me: str, key: str | None, *args: str) -> dict:
    reply = await site.submit(VoterCommand(me, "drafts", args, key))
    return {"text": reply.text, "data": reply.data}


def _opt(name: str, value: str | None) -> list[str]:
    return [name, value] if value is not None else []


# -- reads ----------------------------------------------------------------------------------


@router.get("/drafts/groups")
def groups(request: Request, site: SiteDep) -> list[dict]:
    """The groups you can see (signed in: your private ones too)."""
    return site.draft_reads.groups(page_voter(request) or _bearer_voter(request))


@router.get("/drafts/groups/{group}")
def group(group: str, request: Request, site: SiteDep) -> dict:
    """A group by id, a unique prefix of it, or its name: its version, name and numbers."""
    return site.draft_reads.group(_reader(request), group)


@router.get("/drafts/groups/{group}/members")
def members(group: str, request: Request, site: SiteDep) -> dict:
    return site.draft_reads.members(_reader(request), group)


@router.get("/drafts/groups/{group}/posts")
def posts(group: str, request: Request, site: SiteDep, view: Literal["flat", "threaded"] = "flat",
          hidden: bool = False, limit: int = Query(50, ge=1, le=1000)) -> dict:
    """A group's posts best first, each with its versions side by side and each paragraph's score."""
    return site.draft_reads.posts(_reader(request), group, threaded=view == "threaded", hidden=hidden, limit=limit)


@router.get("/drafts/posts/{post}")
def post(post: str, request: Request, site: SiteDep, group: str | None = Query(None, max_length=200)) -> dict:
    """A post in its group (or another it was voted into), each paragraph scored, its alternatives and replies."""
    return site.draft_reads.post(_reader(request), post, group)


def _bearer_voter(request: Request) -> str | None:
    from civitas_gateway.auth.state import auth_state

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return auth_state(request).sign_in.voter_of(token.strip()) if scheme.lower() == "bearer" and token else None


def _reader(request: Request) -> str | None:
    return page_voter(request) or _bearer_voter(request)


# -- groups ---------------------------------------------------------------------------------


@router.post("/drafts/groups", status_code=201)
async def create_group(body: NewGroup, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Found a group: you are its first member, at your weight."""
    return await drafts(site, me, key, "group", "create", body.name, *(["--private"] if body.private else []),
                        "--others-weight", body.others_weight, "--default-score", body.default_score,
                        "--weight", body.weight, *_opt("--nickname", body.nickname), *_opt("--subject", body.subject))


@router.post("/drafts/groups/{group}/join")
async def join(group: str, body: Joining, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Join a group that lets voters join, at up to its others' weight."""
    return await drafts(site, me, key, "group", "join", group, *_opt("--nickname", body.nickname),
                        *_opt("--weight", body.weight))


@router.post("/drafts/groups/{group}/leave")
async def leave(group: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await drafts(site, me, key, "group", "leave", group)


@router.patch("/drafts/groups/{group}")
async def change_group(group: str, body: GroupChange, me: CurrentVoter, site: SiteDep,
                       key: IdempotencyKey = None) -> dict:
    """Rename the group, or change the others' weight or the default score, as your weight allows."""
    return await drafts(site, me, key, "group", "set", group, *_opt("--name", body.name),
                        *_opt("--others-weight", body.others_weight), *_opt("--default-score", body.default_score))


@router.post("/drafts/groups/{group}/members")
async def add_member(group: str, body: NewMember, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Add a voter at a weight no greater than your own."""
    return await drafts(site, me, key, "group", "add", group, body.voter, body.nickname, body.weight)


@router.patch("/drafts/groups/{group}/members/{member}")
async def change_member(group: str, member: str, body: MemberChange, me: CurrentVoter, site: SiteDep,
                        key: IdempotencyKey = None) -> dict:
    """Change a member's weight, nickname or both, in one version: only a member whose current weight is below
    yours, and never to above your own."""
    if body.weight is None and body.nickname is None:
        return await drafts(site, me, None, "group", "members", group)
    return await drafts(site, me, key, "group", "change", group, member, *_opt("--weight", body.weight),
                        *_opt("--nickname", body.nickname))


@router.delete("/drafts/groups/{group}/members/{member}")
async def remove_member(group: str, member: str, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    return await drafts(site, me, key, "group", "remove", group, member)


# -- posts and votes ------------------------------------------------------------------------


@router.post("/drafts/groups/{group}/posts", status_code=201)
async def new_post(group: str, body: NewGroupPost, me: CurrentVoter, site: SiteDep,
                   key: IdempotencyKey = None) -> dict:
    """Post into a group (it counts as your +1 vote there), with `anchor` in answer to a hunk of a diff."""
    a = body.anchor
    where = ["--file", a.file, "--hunk", a.hunk, "--revision", a.revision] if a else []
    return await drafts(site, me, key, "post", group, *where, "--", *body.paragraphs)


@router.post("/drafts/posts/{post}/replies", status_code=201)
async def reply(post: str, body: NewReply, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Reply to a post, or to one of its paragraphs."""
    target = f"{post}#{body.paragraph}" if body.paragraph else post
    return await drafts(site, me, key, "reply", target, *_opt("--group", body.group), "--",
                        *body.paragraphs)


@router.post("/drafts/posts/{post}/amendments", status_code=201)
async def amend(post: str, body: NewPost, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """A post's whole new text: yours changes in place; another's becomes an alternative its group's votes choose."""
    return await drafts(site, me, key, "amend", post, "--", *body.paragraphs)


@router.put("/drafts/posts/{post}/vote")
async def vote(post: str, body: Vote, me: CurrentVoter, site: SiteDep, key: IdempotencyKey = None) -> dict:
    """Make your vote on a post (or one paragraph) up, down or clear, or add a number to it."""
    target = f"{post}#{body.paragraph}" if body.paragraph else post
    return await drafts(site, me, key, "vote", body.vote, target, *_opt("--group", body.group))


# -- the query API --------------------------------------------------------------------------


@router.post("/query")
async def query(body: SQL, me: CurrentVoter, site: SiteDep) -> dict:
    """One read-only SELECT over the rows you may see (public groups and your private ones): its columns, at most
    1,000 rows, `truncated` when cut, and the time it took. `GET /api/query/tables` lists the tables."""
    return await asyncio.to_thread(site.draft_reads.query, me, body.sql)


@router.get("/query/tables")
def query_tables(site: SiteDep) -> dict:
    """The tables a query reads, their columns, and the limits."""
    return site.draft_reads.tables()
