"""Pages answer pages: a browser that asked for HTML gets every error as a page (title, detail, what to do);
API clients keep RFC 9457 problem details (civitas_kernel.service.problems). The choice is made on `Accept`.

Every problem the app answers, from a route, a dependency, a middleware or the 500 handler, is first a
problem+json response; `HtmlProblems` (a middleware outside every one that answers problems, inside the security headers) turns it into a page when the client prefers
HTML, keeping the status and headers such as Retry-After. The 500 handler runs outside all middleware, so
`install_error_pages` wraps it too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civitas_kernel.service.problems import MEDIA_TYPE, TYPE_PREFIX

log = logging.getLogger("civitas.gateway.pages")

HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json", "application/problem+json")
MAX_PROBLEM = 64 * 1024  # bytes; a problem document is small, anything larger passes through untouched


def wants_html(accept: str) -> bool:
    """Whether `accept` prefers a page to JSON; a tie (e.g. `*/*`, or no header) goes to JSON, the API's default."""
    best_html, best_json = 0.0, 0.0
    for media_range in accept.split(","):
        media, _, params = media_range.strip().partition(";")
        media, q = media.strip().lower(), _quality(params)
        if not media:
            continue
        if _matches(media, HTML_TYPES):
            best_html = max(best_html, q)
        if _matches(media, JSON_TYPES):
            best_json = max(best_json, q)
    return best_html > best_json


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def _matches(media: str, types: tuple[str, ...]) -> bool:
    if media == "*/*":
        return True
    kind, _, subtype = media.partition("/")
    return any(media == t or (subtype == "*" and t.startswith(kind + "/")) for t in types)


# -- what to do, by problem ----------------------------------------------------------------------

TITLES = {
    "unauthenticated": "Sign in first",
    "csrf": "This form is out of date",
    "rate-limited": "Too many requests",
    "mail-unavailable": "We could not send the mail",
    "invalid-request": "Some fields are not right",
    "unexpected": "Something went wrong on our side",
}


def advice(status: int, kind: str | None, problem: dict[str, Any], retry_after: str | None) -> list[str]:
    """What the reader can do about this problem, in words."""
    wait = f" in {retry_after} seconds" if retry_after else " in a little while"
    if kind == "unauthenticated" or status == 401:
        return ["Sign in (the link below), then send the form again."]
    if kind == "csrf":
        return ["Go back, reload the page, and send the form again: the form came from an old page or another site."]
    if kind == "invalid-request" or status == 422:
        fields = [e.get("field") or e.get("location") for e in problem.get("errors", [])]
        named = f" ({', '.join(f for f in fields if f)})" if any(fields) else ""
        return [f"Go back and correct the fields named{named}, then send the form again."]
    if status == 429:
        return [f"Wait, and try again{wait}."]
    if status == 503:
        return [f"Try again{wait}; nothing was changed."]
    if status == 404:
        return ["Check the address, or start again from the home page."]
    if status == 409:
        return ["Reload the page: something changed meanwhile. Then try again."]
    if status == 413:
        return ["Send less: the request is larger than this site takes."]
    if status >= 500:
        incident = problem.get("incident")
        tell = f" and give the incident id {incident}" if incident else ""
        return [f"Try again later. If it keeps happening, tell the site's operator{tell}."]
    return ["Go back, correct what the message says, and send the form again."]


def back_link(request: Request) -> str | None:
    """The page the reader came from, when it is on this site (never another site's address)."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.headers.get("host"):
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def problem_page(request: Request, status: int, problem: dict[str, Any], headers: dict[str, str]) -> HTMLResponse:
    from civitas_gateway.page_kit import templates

    kind = problem.get("type", "")
    kind = kind[len(TYPE_PREFIX):] if kind.startswith(TYPE_PREFIX) else None
    retry_after = headers.get("retry-after")
    context = {
        "request": request,
        "site": _site_name(request),
        "voter": _voter(request),
        "csrf": "",
        "status": status,
        "phrase": _phrase(status),
        "heading": TITLES.get(kind or "", problem.get("title") or _phrase(status)),
        "detail": problem.get("detail") or "",
        "advice": advice(status, kind, problem, retry_after),
        "errors": problem.get("errors", []),
        "incident": problem.get("incident"),
        "kind": kind,
        "back": back_link(request),
    }
    body = templates.get_template("problem.html").render(context)
    kept = {name: value for name, value in headers.items() if name in ("retry-after", "www-authenticate")}
    return HTMLResponse(body, status_code=status, headers=kept | {"Cache-Control": "no-store"})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _site_name(request: Request) -> str:
    site = getattr(request.app.state, "site", None)
    return getattr(getattr(site, "settings", None), "SITE", "civitas")


def _voter(request: Request) -> str | None:
    """The signed-in voter for the page's header; an error page must render even when that lookup fails."""
    try:
        from civitas_gateway.page_kit import page_voter

        return page_voter(request)
    except Exception:  # noqa: BLE001 - the error page is what we are showing; it must not fail in turn
        return None


# -- turning problem documents into pages ---------------------------------------------------------------


class HtmlProblems:
    """ASGI middleware: a problem+json answer to a client that prefers HTML becomes an HTML page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_html(_header(scope, b"accept")):
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the start of a problem answer, until its body is complete
        body = bytearray()

        async def send_page_for_problems(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and _is_problem(message):
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if more and len(body) <= MAX_PROBLEM:
                return
            start, held = held, None
            problem = None if more else _document(bytes(body))
            if problem is None:  # too large, or not a document we can read: pass it on as it came
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": more})
                return
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
            await problem_page(Request(scope, receive), start["status"], problem, headers)(scope, receive, send)

        await self.app(scope, receive, send_page_for_problems)


def _document(body: bytes) -> dict | None:
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    return problem if isinstance(problem, dict) else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _is_problem(message: Message) -> bool:
    for key, value in message.get("headers", ()):
        if key.lower() == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower() == MEDIA_TYPE
    return False


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_error_pages(app: FastAPI) -> None:
    """Answer problems as pages to browsers; call it after every middleware that answers problems (the limits), and
    before the security headers, which then see the page it made."""
    app.add_middleware(HtmlProblems)
    unexpected: Handler | None = app.exception_handlers.get(Exception)
    if unexpected is None:
        return

    async def unexpected_as_page(request: Request, exc: Exception) -> Response:
        response = await unexpected(request, exc)
        if not wants_html(request.headers.get("accept", "")) or response.media_type != MEDIA_TYPE:
            return response
        problem = json.loads(bytes(response.body))
        return problem_page(request, response.status_code, problem, dict(response.headers))

    app.add_exception_handler(Exception, unexpected_as_page)
