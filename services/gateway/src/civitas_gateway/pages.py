"""Web pages served by the gateway: sign in, your registration, neighbours, polls with pictures, records.

A signed-in browser holds the session token in an HttpOnly, SameSite=Strict cookie; every form
also carries a token derived from the session, so another site cannot post in the voter's name, and
an idempotency key made when the page was drawn, so a form sent twice (a double click, a reload after
a lost answer) acts once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from civitas_kernel.commands import CommandError, KeyReusedError
from civitas_kernel.service.problems import Problem
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.auth.state import auth_state
from civitas_gateway.charts import cascade_graph, ranking_chart
from civitas_gateway.ratelimit import client_address

HERE = Path(__file__).parent
COOKIE = "civitas_session"
ATTRIBUTES = ("name", "residence", "link", "note")
SEARCH_LIMIT = 50

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["new_key"] = lambda: secrets.token_urlsafe(16)  # one per form drawn
FormKey = Annotated[str, Form(max_length=100)]  # the form's idempotency key


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def page_voter(request: Request) -> str | None:
    token = _token(request)
    return auth_state(request).sign_in.voter_of(token) if token else None


def csrf_for(token: str | None) -> str:
    return hmac.new((token or "").encode(), b"civitas/csrf", hashlib.sha256).hexdigest()[:32] if token else ""


def render(request: Request, template: str, **context) -> HTMLResponse:
    site = request.app.state.site
    context.setdefault("message", request.query_params.get("message"))
    context.setdefault("error", request.query_params.get("error"))
    return templates.TemplateResponse(
        request, template,
        {"site": site.settings.SITE, "voter": page_voter(request), "csrf": csrf_for(_token(request)), **context},
    )


def back(path: str, *, message: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?message={quote(message)}" if message else f"?error={quote(error)}" if error else ""
    return RedirectResponse(path + query, status_code=303)


def signed_in(request: Request, csrf: str) -> str:
    """The voter posting a form; refuses a missing session or a form not from this site."""
    voter = page_voter(request)
    if voter is None:
        raise Problem(401, "sign in first", kind="unauthenticated")
    if not hmac.compare_digest(csrf, csrf_for(_token(request))):
        raise Problem(403, "this form did not come from this site's page; reload the page and try again", kind="csrf")
    return voter


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
    return render(request, "home.html", polls=polls)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request):
    return render(request, "signin.html")


@router.post("/signin", response_class=HTMLResponse)
def signin_send(request: Request, email: str = Form(..., max_length=254)):
    from civitas_gateway.auth.addresses import normalise_email

    try:
        address = normalise_email(email)
    except ValueError:
        return render(request, "signin.html", error=f"{email!r} is not an email address; write it like alice@example.org")
    state = auth_state(request)
    state.limit_code_request(client_address(request.scope), address)
    challenge = state.sign_in.send_code(address)
    return render(request, "signin.html", challenge=challenge.id, email=address)


@router.post("/signin/code")
def signin_code(request: Request, challenge: str = Form(..., max_length=200), code: str = Form(..., max_length=20),
                email: str = Form("", max_length=254), totp: str = Form("", max_length=20)):
    state = auth_state(request)
    try:
        session = state.sign_in.open_session(challenge, code.strip(), totp.strip() or None)
    except Problem as e:
        return render(request, "signin.html", challenge=challenge, email=email, error=e.detail)
    response = RedirectResponse("/me?message=" + quote(f"signed in as {session.voter}"), status_code=303)
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(session.expires_at - state.sign_in.clock()))
    return response


@router.post("/signout")
def signout(request: Request, csrf: str = Form("")):
    signed_in(request, csrf)
    auth_state(request).sign_in.close_session(_token(request))
    response = back("/", message="signed out")
    response.delete_cookie(COOKIE)
    return response


@router.get("/me", response_class=HTMLResponse)
def me(request: Request):
    voter = page_voter(request)
    if voter is None:
        return back("/signin")
    site = request.app.state.site
    with site.lock:
        site.registry.catch_up()
        reported = site.reported_list()
        return render(request, "me.html", attributes=site.registry.attributes(voter), attributes_order=ATTRIBUTES,
                      trusts=site.registry.trusted_by(voter), doubts=site.registry.doubts_by(voter),
                      entry=reported.get(voter) if reported else None)


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
        return render(request, "polls.html", polls=site.polls.list_polls().data)


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
        ranking_svg=ranking_chart(result) if result else "", graph_svg=cascade_graph(result, voter) if result else "",
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
    site = request.app.state.site
    with site.lock:
        kinds = [(kind, site.records.status(kind)) for kind in ("list", "count")]
    return render(request, "records.html", kinds=kinds)
