"""The change proposals' pages: the list, a proposal (its diff highlighted, unified or side by side, its modules, the
tally per module as a chart, my vote and how it resolved, who follows whom), my delegations and who delegates to me,
and the forms to propose (a patch upload or a git URL), revise, withdraw, vote and delegate.

A form the deployer refuses answers with an HTML error page saying why and what to do (the refusal is a problem the
error pages turn into a page); an accepted one comes back to its page saying what happened.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from civitas_kernel.commands import CommandError
from civitas_kernel.service.calls import ServiceUnavailable
from civitas_kernel.service.problems import Problem
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.change_charts import delegation_graph, tally_chart
from civitas_gateway.change_desk import Change, changes_of
from civitas_gateway.change_diff import parse_diff
from civitas_gateway.change_hunks import hunk_replies
from civitas_gateway.change_mail import tell_voided
from civitas_gateway.discussions import propose_with_discussion
from civitas_gateway.page_kit import FormKey, FormToken, back, page_voter, render, signed_in

router = APIRouter(include_in_schema=False)
MAX_UPLOAD = 10 * 1024 * 1024  # the deployer's default patch limit; past it, the page says so before sending it on


async def _read_patch(upload: UploadFile | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Problem(413, f"the patch is larger than {MAX_UPLOAD >> 20} MiB, the most this site takes; propose a "
                           "smaller change", kind="patch-too-large")
    return data


async def _command(request: Request, csrf: str, key: str, path: str, *args: str) -> RedirectResponse:
    """A `change` command from a form; refused, it is an error page (raised), accepted, back to `path`."""
    voter = signed_in(request, csrf)
    reply = await request.app.state.site.submit(VoterCommand(voter, "change", args, key or None))
    return back(path, message=reply.text.split("\n")[0])


# -- the list and a proposal ---------------------------------------------------------------------


@router.get("/changes", response_class=HTMLResponse)
async def proposals(request: Request):
    listed = await asyncio.to_thread(changes_of(request.app.state.site).list)
    return render(request, "change_list.html", proposals=listed.data)


@router.get("/changes/new", response_class=HTMLResponse)
def new_proposal(request: Request):
    if page_voter(request) is None:
        return back("/signin")
    return render(request, "change_new.html")


@router.get("/changes/delegations", response_class=HTMLResponse)
async def my_delegations(request: Request):
    voter = page_voter(request)
    if voter is None:
        return back("/signin")
    desk = changes_of(request.app.state.site)
    mine, listed = await asyncio.gather(asyncio.to_thread(desk.delegations, voter), asyncio.to_thread(desk.list))
    modules = sorted({m for p in listed.data for m in p["modules"]} | set(mine.data["delegations"]) - {"*"})
    return render(request, "change_delegations.html", delegations=mine.data["delegations"],
                  delegators=mine.data["delegators"], modules=modules)


def _proposal_context(site, voter: str | None, proposal: str) -> dict:
    desk = changes_of(site)
    shown = desk.show(voter, proposal)
    diff = desk.diff(proposal)
    graph = desk.graph(proposal, voter)
    data = shown.data
    resolved = [line.strip().removeprefix("your vote in ") for line in shown.text.split("\n")
                if line.startswith("  your vote in ")]
    rendered = parse_diff(diff.data["diff"], diff.data["cut"])
    try:
        replies = hunk_replies(site, voter, data, rendered)
    except ServiceUnavailable:  # the drafts service is down: the proposal still shows, its replies say so
        replies = None
    return {
        "p": data, "resolved": resolved, "replies": replies,
        "diff": rendered,
        "tally_svg": tally_chart(data["tally"], data["electorate"]),
        "graphs": {module: delegation_graph(g, voter) for module, g in graph.data["modules"].items()},
    }


@router.get("/changes/{proposal}", response_class=HTMLResponse)
async def proposal_page(request: Request, proposal: str, view: Literal["unified", "split"] = "unified"):
    voter = page_voter(request)
    context = await asyncio.to_thread(_proposal_context, request.app.state.site, voter, proposal)
    return render(request, "change_proposal.html", view=view, **context)


# -- forms ---------------------------------------------------------------------------------------------


@router.post("/changes")
async def propose(request: Request, title: str = Form("", max_length=200), url: str = Form("", max_length=2000),
                  ref: str = Form("", max_length=200), patch: UploadFile | None = File(None), csrf: FormToken = "",
                  key: FormKey = ""):
    voter = signed_in(request, csrf)
    change = Change.of(await _read_patch(patch), url or None, ref or None, None)
    reply = await propose_with_discussion(request.app.state.site, voter, title, change, key or None)
    return back(f"/changes/{reply.data['proposal']}", message=reply.text.split("\n")[0])


@router.post("/changes/{proposal}/revise")
async def revise(request: Request, proposal: str, title: str = Form("", max_length=200),
                 url: str = Form("", max_length=2000), ref: str = Form("", max_length=200),
                 patch: UploadFile | None = File(None), csrf: FormToken = "", key: FormKey = ""):
    voter = signed_in(request, csrf)
    change = Change.of(await _read_patch(patch), url or None, ref or None, None)
    reply = await changes_of(request.app.state.site).revise(voter, proposal, change, title or None, key or None)
    told = await tell_voided(request, reply)
    text = reply.text.split("\n")[0] + (f"; {told} voter(s) whose vote is void were told by mail" if told else "")
    return back(f"/changes/{proposal}", message=text)


@router.post("/changes/{proposal}/vote")
async def vote(request: Request, proposal: str, choice: Literal["yes", "no", "abstain"] = Form(...),
               content_hash: str = Form("", max_length=64), csrf: FormToken = "", key: FormKey = ""):
    extra = ("--hash", content_hash) if content_hash else ()
    return await _command(request, csrf, key, f"/changes/{proposal}", "vote", proposal, choice, *extra)


@router.post("/changes/{proposal}/unvote")
async def unvote(request: Request, proposal: str, csrf: FormToken = "", key: FormKey = ""):
    return await _command(request, csrf, key, f"/changes/{proposal}", "unvote", proposal)


@router.post("/changes/{proposal}/withdraw")
async def withdraw(request: Request, proposal: str, csrf: FormToken = "", key: FormKey = ""):
    return await _command(request, csrf, key, f"/changes/{proposal}", "withdraw", proposal)


@router.post("/delegations")
async def delegate(request: Request, scope: str = Form(..., max_length=100), delegates: str = Form("", max_length=2000),
                   none: str = Form(""), csrf: FormToken = "", key: FormKey = ""):
    """Delegate in a module (or * for every one) to one or more voters (separated by spaces or commas), or to none."""
    named = [d for d in delegates.replace(",", " ").split() if d]
    if none and named:
        raise CommandError("delegate either to voters or to none, not both")
    return await _command(request, csrf, key, "/changes/delegations", "delegate", scope.strip(),
                          *(["none"] if none else named))


@router.post("/delegations/{scope}/undelegate")
async def undelegate(request: Request, scope: str, csrf: FormToken = "", key: FormKey = ""):
    return await _command(request, csrf, key, "/changes/delegations", "undelegate", scope)
