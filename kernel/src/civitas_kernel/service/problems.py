"""Every error a service answers, as RFC 9457 problem details (application/problem+json).

`install_problem_handlers(app)` maps the kernel's CommandError family (by its .status), the
log's ConcurrencyError (409), request validation (422, each field listed), HTTP exceptions
and anything unexpected (500, a generic text only: the cause goes to the server's log).
Raise `Problem` where a route wants a typed problem with extra members.
"""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from civitas_kernel.commands import CommandError
from civitas_kernel.errors import ConcurrencyError

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:civitas:problem:"  # a URN, since no page documents the types (yet)
UNEXPECTED_DETAIL = (
    "something went wrong on our side; try again later, and if it keeps happening tell the site's "
    "operator the incident id"
)

log = logging.getLogger("civitas.problems")


class Problem(StarletteHTTPException):
    """An HTTP error with a problem type (a short name such as 'wrong-code') and extension members."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.kind = kind
        self.extensions = extensions


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response; `kind` names the problem type, else it is about:blank with the status's title."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": _title(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else None
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, detail, kind=exc.kind, headers=exc.headers, **exc.extensions)
    return problem_response(exc.status_code, detail, headers=exc.headers)


async def _on_command_error(request: Request, exc: CommandError) -> JSONResponse:
    return problem_response(exc.status, str(exc), kind=exc.kind)


async def _on_concurrency_error(request: Request, exc: ConcurrencyError) -> JSONResponse:
    return problem_response(409, str(exc), kind="concurrent-change")


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # The input values are left out on purpose: they may be codes or tokens.
    errors = [_field_error(error) for error in exc.errors()]
    fields = ", ".join(error["field"] or error["location"] for error in errors)
    return problem_response(422, f"the request has invalid fields: {fields}", kind="invalid-request", errors=errors)


def _field_error(error: dict) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    location, path = (loc[0], loc[1:]) if loc else ("body", [])
    if error.get("type") == "json_invalid":
        path = []  # its loc names a character position, not a field
    item: dict[str, Any] = {"location": location, "field": ".".join(path), "detail": error.get("msg", "invalid")}
    if location == "body":
        item["pointer"] = "#" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)  # RFC 6901
    return item


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = secrets.token_hex(6)  # ties the answer to the log line without revealing the cause
    log.error("incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc)
    return problem_response(500, UNEXPECTED_DETAIL, kind="unexpected", incident=incident)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of `app` as problem details."""
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(CommandError, _on_command_error)
    app.add_exception_handler(ConcurrencyError, _on_concurrency_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
