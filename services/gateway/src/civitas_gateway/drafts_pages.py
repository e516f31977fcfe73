"""The drafts pages: the groups you can see, a group (its members and weights, its posts flat or threaded), a post
with each paragraph's score and its alternatives side by side, and a subject's discussion group (the forms that act
on them: drafts_forms.py).

Links from the rest of civitas follow two conventions, kept here so every page agrees:
- a draft as a poll's candidate is the URI `urn:civitas:draft:POST` (POST: the post's id); its page is
  /drafts/posts/POST, and the poll page links every such candidate there (`draft_href`);
- a subject's discussion (a change proposal's, subject `change:ID`) is the first public group made for that subject
  by the subject's owner (discussions.py says why nobody else's counts); /drafts/discuss?subject=SUBJECT shows it,
  or offers its owner to open it.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from civitas_kernel.commands import NotFoundError

from civitas_gateway.discussions import discussion_name, discussion_of, subject_owner
from civitas_gateway.page_kit import page_voter, render, templates

router = APIRouter(include_in_schema=False)

DRAFT_URI = "urn:civitas:draft:"
POST_ID = re.compile(r"[0-9a-f]{6,64}")
MAX_REPLIES_SHOWN = 50
MAX_MEMBERS_SHOWN = 200  # heaviest first; a group of 10,000 members is not one page of forms


def draft_uri(post: str) -> str:
    return DRAFT_URI + post


def draft_href(candidate: str | None) -> str | None:
    """The drafts page of a candidate that is a draft's URI, else None."""
    if not candidate or not candidate.startswith(DRAFT_URI):
        return None
    post = candidate[len(DRAFT_URI):].lower()
    return f"/drafts/posts/{post}" if POST_ID.fullmatch(post) else None


def discussion_href(subject: str) -> str:
    return "/drafts/discuss?subject=" + quote(subject, safe=":")


templates.env.filters["draft_href"] = draft_href
templates.env.tests["draft"] = lambda candidate: draft_href(candidate) is not None
templates.env.globals["discussion_href"] = discussion_href


def group_kind(group: dict) -> str:
    """The kind the group's two numbers make it, in the voters' words."""
    if group["private"]:
        return "private"
    if group["id"].startswith("voter:"):
        return "a voter's own"
    others = group["others_members_weight"]
    if others > 0:
        return "public"
    if others == 0 and float(group["moderation_default_score"]) > 0:
        return "public moderated"
    return "read-only"


def _me(members: list[dict], voter: str | None) -> dict | None:
    return next((m for m in members if m["voter"] == voter), None)


@router.get("/drafts", response_class=HTMLResponse)
def drafts_home(request: Request):
    voter = page_voter(request)
    groups = request.app.state.site.draft_reads.groups(voter)
    for g in groups:
        g["kind"] = group_kind(g)
    return render(request, "drafts.html", groups=groups)


@router.get("/drafts/groups/{group}", response_class=HTMLResponse)
def group_page(request: Request, group: str, view: str = Query("flat", pattern="^(flat|threaded)$"),
               hidden: bool = False):
    voter = page_voter(request)
    reads = request.app.state.site.draft_reads
    data = reads.group(voter, group)
    members = reads.members(voter, data["id"])["members"]
    posts = reads.posts(voter, data["id"], threaded=view == "threaded", hidden=hidden, limit=50)
    data["kind"] = group_kind(data)
    shown = members[:MAX_MEMBERS_SHOWN]
    me = _me(members, voter)
    if me is not None and me not in shown:
        shown.append(me)  # your own row, wherever your weight puts you
    return render(request, "drafts_group.html", group=data, members=shown, me=me,
                  more_members=len(members) - len(shown), posts=posts["posts"], truncated=posts["truncated"],
                  view=view, hidden=hidden)


@router.get("/drafts/posts/{post}", response_class=HTMLResponse)
def post_page(request: Request, post: str, group: str | None = Query(None, max_length=200)):
    voter = page_voter(request)
    reads = request.app.state.site.draft_reads
    data = reads.post(voter, post, group)
    if data["post"] != post and not group:  # an alternative's id, or a prefix: the post's own address
        return RedirectResponse(f"/drafts/posts/{data['post']}", status_code=303)
    home = reads.group(voter, data["group"])
    members = reads.members(voter, home["id"])["members"]
    replies = [reads.post(voter, r, None) for r in data["thread"][:MAX_REPLIES_SHOWN]]
    parent = reads.post(voter, data["reply_to"], None) if data["reply_to"] else None
    return render(request, "drafts_post.html", post=data, group=home, me=_me(members, voter), replies=replies,
                  more_replies=max(0, len(data["thread"]) - MAX_REPLIES_SHOWN), parent=parent,
                  uri=draft_uri(data["post"]))


@router.get("/drafts/discuss", response_class=HTMLResponse)
async def discussion(request: Request, subject: str = Query(..., min_length=1, max_length=200)):
    """A subject's discussion group, or (to the subject's owner) the form that opens it."""
    voter, site = page_voter(request), request.app.state.site
    owner = await asyncio.to_thread(subject_owner, site, subject)
    if owner is None:
        raise NotFoundError(f"there is no subject {subject!r} to discuss: a change proposal's subject is change:ID")
    found = await asyncio.to_thread(discussion_of, site.draft_reads, voter, subject, owner)
    if found is not None:
        return RedirectResponse(f"/drafts/groups/{found['id']}", status_code=303)
    return render(request, "drafts_discuss.html", subject=subject, name=discussion_name(subject), owner=owner)
