"""Web pages served by the gateway: your registration, neighbours, polls with pictures, records (sign-in and your
account: account_pages.py; what they share: page_kit.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from civitas_kernel.commands import CommandError, KeyReusedError
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.charts import cascade_graph, ranking_chart
from civitas_gateway.network_pages import counting_notices
from civitas_gateway.page_kit import (FormKey, back, live_release, page_voter, release_pages, render, signed_in,
                                      templates)

ATTRIBUTES = ("name", "residence", "link", "note")
SEARCH_LIMIT = 50

router = APIRouter(include_in_schema=False)


async def act(request: Request, csrf: str, key: str, path: str, service: str, *args: str) -> RedirectResponse:
    """Run the signed-in voter's command from a form (once per form drawn) and come back to `path` saying how it went."""
    voter = signed_in(request, csrf)
    try:
        reply = await request.app.state.site.submit(VoterCommand(voter, service, args, key or None))
    except KeyReusedError:
        return back(path, error="this form was sent already, with other values; reload the page to send new ones")
    except CommandError as e:
        return back(path, error=str(e))
    return back(path, message=reply.text.split("\n")[0])


# -- pages ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    site = request.app.state.site
    with site.lock:
        polls = site.polls.list_polls().data
    return render(request, "home.html", polls=polls, front=release_pages(request).front(live_release(request)))


@router.get("/me", response_class=HTMLResponse)
def me(request: Request):
    voter = page_voter(request)
    if voter is None:
        return back("/signin")
    from civitas_gateway.voter_pages import standing_context

    site = request.app.state.site
    with site.lock:
        site.registry.catch_up()
        return render(request, "me.html", attributes=site.registry.attributes(voter), attributes_order=ATTRIBUTES,
                      trusts=site.registry.trusted_by(voter), doubts=site.registry.doubts_by(voter),
                      **standing_context(request, voter, who="you"))


@router.post("/me/{attribute}")
async def set_attribute(request: Request, attribute: str, value: str = Form("", max_length=1000), csrf: str = Form(""),
                        key: FormKey = ""):
    words = value.split(" ")  # only spaces part words: a tab or line break reaches the register, which refuses it
    args = ["set", attribute, *words] if value.strip(" ") else ["unset", attribute]
    return await act(request, csrf, key, "/me", "register", *args)


@router.get("/neighbours", response_class=HTMLResponse)
def neighbours(request: Request, q: str = ""):
    site = request.app.state.site
    needle = q.strip().lower()
    results = []
    with site.lock:
        site.registry.catch_up()
        for registrant in site.registry.registrants():
            attributes = site.registry.attributes(registrant)
            haystack = " ".join([registrant, *attributes.values()]).lower()
            if needle and needle in haystack:
                results.append({"voter": registrant, **attributes})
                if len(results) >= SEARCH_LIMIT:
                    break
    return render(request, "neighbours.html", q=q, results=results)


@router.post("/register/{action}")
async def vouch(request: Request, action: Literal["trust", "untrust", "doubt", "undoubt"],
                voter: str = Form(..., max_length=254), csrf: str = Form(""), key: FormKey = ""):
    """Trust, doubt, or withdraw either, from the neighbours and registration pages."""
    return await act(request, csrf, key, "/me", "register", action, voter)


@router.get("/polls", response_class=HTMLResponse)
def polls(request: Request):
    site = request.app.state.site
    with site.lock:
        listed = site.polls.list_polls().data
    return render(request, "polls.html", polls=listed, network_notices=counting_notices(site))


@router.get("/polls/{name}", response_class=HTMLResponse)
def poll(request: Request, name: str):
    site = request.app.state.site
    voter = page_voter(request)
    with site.lock:
        config = site.polls.poll(name)
        my_vote = site.polls.state.vote_of(name, voter) if voter else None
        count = site.reported_count()
    result = count.polls.get(name) if count else None
    return render(
        request, "poll.html", poll=config, my_vote=my_vote, count=result,
        my_trace=result.trace(voter) if result and voter else [],
        reaching=result.reaching(voter) if result and voter else [],
        ranking_svg=ranking_chart(result) if result else "", graph_svg=cascade_graph(result, voter) if result else "",
        network_notices=counting_notices(site),
    )


@router.post("/polls/{name}/vote")
async def vote(request: Request, name: str, candidate: str = Form(..., max_length=500), csrf: str = Form(""),
               key: FormKey = ""):
    return await act(request, csrf, key, f"/polls/{name}", name, "vote", candidate)


@router.post("/polls/{name}/unvote")
async def unvote(request: Request, name: str, csrf: str = Form(""), key: FormKey = ""):
    return await act(request, csrf, key, f"/polls/{name}", name, "unvote")


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request):
    """The API's interactive documentation (Swagger UI, started from /static/docs.js)."""
    return templates.TemplateResponse(request, "docs.html", {"site": request.app.state.site.settings.SITE})


@router.get("/records", response_class=HTMLResponse)
def records(request: Request):
    from civitas_gateway.records_pages import archive_name, audit_command

    site = request.app.state.site
    with site.lock:
        kinds = [(kind, site.records.status(kind)) for kind in ("list", "count")]
    key, name = site.public_key(), site.settings.SITE
    downloads = {(kind, r.id): (archive_name(name, kind, r.id), audit_command(name, kind, r.id, key))
                 for kind, records in kinds for r in records if r.ready}
    return render(request, "records.html", kinds=kinds, downloads=downloads, public_key=key.hex(),
                  network_notices=counting_notices(site))
