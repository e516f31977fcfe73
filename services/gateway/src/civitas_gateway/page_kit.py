"""What the web pages share: templates, who is signed in, the forms' tokens, and answering a form.

A signed-in browser holds the session token in an HttpOnly, SameSite=Strict cookie; every form also carries
a token derived from it, so another site cannot post in the voter's name. Before sign-in there is no session,
so the sign-in forms carry a token derived from a pre-session cookie the sign-in page sets, and a post a
browser marks as coming from another site (Sec-Fetch-Site) is refused outright: another site cannot sign a
browser in as someone else (login CSRF). Acting forms also carry an idempotency key made when the page was
drawn, so a form sent twice acts once.
"""

from __future__ import annotations

import hashlib
import logging
import hmac
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateError

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.state import auth_state
from civitas_gateway.page_sandbox import PageTooCostly, SecurityError
from civitas_gateway.release_pages import ReleasePages, ReleaseStatic

HERE = Path(__file__).parent
log = logging.getLogger("civitas.pages")
COOKIE = "civitas_session"
SIGNIN_COOKIE = "civitas_signin"  # the pre-session: what a sign-in form's token is derived from
SIGNIN_COOKIE_SECONDS = 3600
SAME_SITE_FETCHES = {"same-origin", "none"}  # "none": typed, bookmarked or opened from a mail

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["new_key"] = lambda: secrets.token_urlsafe(16)  # one per form drawn
FormKey = Annotated[str, Form(max_length=100)]  # a form's idempotency key
FormToken = Annotated[str, Form(max_length=100)]  # a form's anti-forgery token


def mount_static(app: FastAPI, pages: ReleasePages) -> None:
    app.mount("/static", ReleaseStatic(pages), name="static")


def release_pages(request: Request) -> ReleasePages:
    return request.app.state.release_pages


def live_release(request: Request):
    """The release this request is served from: read once, by the header middleware, so page and header agree."""
    try:
        return request.state.release
    except AttributeError:  # not through the app's middleware (a test calling a route alone)
        return release_pages(request).live()


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def page_voter(request: Request) -> str | None:
    token = session_token(request)
    return auth_state(request).sign_in.voter_of(token) if token else None


def _derived(secret: str | None, purpose: bytes) -> str:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).hexdigest()[:32] if secret else ""


def csrf_for(token: str | None) -> str:
    return _derived(token, b"civitas/csrf")


def signin_csrf(request: Request) -> str:
    return _derived(request.cookies.get(SIGNIN_COOKIE) or getattr(request.state, "new_signin", None), b"civitas/signin")


def render(request: Request, template: str, *, status_code: int = 200, **context) -> HTMLResponse:
    """The page `template`, drawn in the sandbox from the live release's template of that name or civitas's own."""
    site = request.app.state.site
    pages, release = release_pages(request), live_release(request)
    refused = pages.refusal(release)
    if refused:
        raise Problem(503, f"the live release {release.commit[:12]} cannot be served: " + "; ".join(refused),
                      kind="release-refused")
    context.setdefault("message", request.query_params.get("message"))
    context.setdefault("error", request.query_params.get("error"))
    values = {"site": site.settings.SITE, "voter": page_voter(request), "csrf": csrf_for(session_token(request)),
              "signin_csrf": signin_csrf(request), "outbox": bool(getattr(request.app.state, "outbox", None)),
              "release": release.commit if release else None, **context}
    try:
        body = pages.environment(release).draw(template, values)
    except PageTooCostly as error:  # a release's template with a huge loop: fail fast, visibly, as a refused release
        where = f"the live release {release.commit[:12]}" if release else "civitas"
        log.error("page %s from %s stopped: %s", template, where, error.reason)
        raise Problem(503, f"the page {template} of {where} was stopped: {error.reason}", kind="release-too-costly") \
            from None
    except (SecurityError, TemplateError) as error:  # only a release's template can fail here: civitas's are tested
        where = f"the live release {release.commit[:12]}" if release else "civitas"
        log.error("page %s from %s failed: %s", template, where, error)
        raise Problem(500, f"the page {template} of {where} cannot be drawn: {error}", kind="release-template") \
            from None
    response = HTMLResponse(body, status_code=status_code)
    fresh = getattr(request.state, "new_signin", None)
    if fresh:
        response.set_cookie(SIGNIN_COOKIE, fresh, httponly=True, samesite="strict", max_age=SIGNIN_COOKIE_SECONDS,
                            secure=request.url.scheme == "https")
    return response


def start_signin(request: Request) -> None:
    """Give a browser that has none a pre-session, so the sign-in forms drawn for it carry a token."""
    if not request.cookies.get(SIGNIN_COOKIE):
        request.state.new_signin = secrets.token_urlsafe(32)


def from_this_site(request: Request, token: str) -> bool:
    """A sign-in form posted from this site's page: not marked cross-site, and carrying its pre-session's token."""
    if request.headers.get("sec-fetch-site", "none") not in SAME_SITE_FETCHES:
        return False
    expected = _derived(request.cookies.get(SIGNIN_COOKIE), b"civitas/signin")
    return bool(expected) and hmac.compare_digest(token, expected)


def back(path: str, *, message: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?message={quote(message)}" if message else f"?error={quote(error)}" if error else ""
    return RedirectResponse(path + query, status_code=303)


def signed_in(request: Request, csrf: str) -> str:
    """The voter posting a form; refuses a missing session or a form not from this site."""
    voter = page_voter(request)
    if voter is None:
        raise Problem(401, "sign in first", kind="unauthenticated")
    if request.headers.get("sec-fetch-site", "none") not in SAME_SITE_FETCHES or not hmac.compare_digest(
            csrf, csrf_for(session_token(request))):
        raise Problem(403, "this form did not come from this site's page; reload the page and try again", kind="csrf")
    return voter
