"""Routes that answer well-formed requests without FastAPI's per-request dependency solving.

FastAPI works out every parameter of every dependency anew on each request, inside two exit
stacks and an exception wrapper per route: about 150 us of CPU per vote, more than the gateway
spends on the vote itself. A LeanRoute reads the endpoint's signature once, when the app is
made, into a plan: path and header parameters, one JSON body, and dependencies that take only
the Request. A request that fits the plan is validated with the same pydantic fields FastAPI
made and answered at the route; any other (a missing or invalid value, another content type,
JSON that does not parse, a dependency override) is handed to FastAPI's own handler, so every
error reads exactly as on any other route. The signature still documents the route in OpenAPI.
Errors raised on the lean path meet the app's exception handlers in its ExceptionMiddleware;
FastAPI's per-route telemetry spans (when exporting) are left out, its server span is not.

    votes = APIRouter(route_class=LeanRoute)  # see api.add_vote_routes

Give such a router no dependencies or body limit of its own when including it: the plan sees
the route's only.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send


class LeanRoute(APIRoute):
    """An APIRoute whose well-formed requests skip FastAPI's dependency solving (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = _Plan(self)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in self.methods:
            request = Request(scope, receive, send)
            values, body = await self.plan.values(request)
            if values is not None:
                response = await self.plan.answer(request, values)
                await response(scope, receive, send)
                return
            if body is not None:  # FastAPI reads the body again
                receive = _replay(body, receive)
        # Not well-formed, or overridden: FastAPI answers, errors and all.
        await super().handle(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class _Plan:
    """What one route's endpoint needs from a request, worked out once."""

    def __init__(self, route: APIRoute) -> None:
        dependant = route.dependant
        where = f"{route.path} ({dependant.call.__qualname__})"
        if not inspect.iscoroutinefunction(dependant.call):
            raise TypeError(f"LeanRoute {where}: the endpoint must be `async def`")
        if route.max_body_size is not None:
            raise TypeError(f"LeanRoute {where}: a body limit of the route's own is not planned; the site's applies")
        if dependant.query_params or dependant.cookie_params:
            raise TypeError(f"LeanRoute {where}: query and cookie parameters are not planned; use an APIRoute")
        if any(_is_sequence(f) for f in dependant.header_params):
            raise TypeError(f"LeanRoute {where}: repeated headers are not planned; use an APIRoute")
        if len(dependant.body_params) > 1 or route._embed_body_fields or (
            dependant.body_params and isinstance(dependant.body_params[0].field_info, params.Form)
        ):
            raise TypeError(f"LeanRoute {where}: only one JSON body that is not embedded is planned")
        if not isinstance(route.response_class, DefaultPlaceholder) or route.response_field is None or any((
            route.response_model_include, route.response_model_exclude, not route.response_model_by_alias,
            route.response_model_exclude_unset, route.response_model_exclude_defaults,
            route.response_model_exclude_none,
        )):
            raise TypeError(f"LeanRoute {where}: declare the return type, and keep the plain JSON response")
        self.dependencies: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
        for sub in dependant.dependencies:
            only_request = sub.request_param_name is not None and not (
                sub.path_params or sub.query_params or sub.header_params or sub.cookie_params
                or sub.body_params or sub.dependencies or sub.response_param_name
            )
            if not only_request or not _is_coroutine(sub.call) or sub.name is None:
                raise TypeError(f"LeanRoute {where}: dependency {sub.call!r} must be async and take only the Request")
            self.dependencies.append((sub.name, sub.call))
        if dependant.request_param_name or dependant.response_param_name or dependant.background_tasks_param_name:
            raise TypeError(f"LeanRoute {where}: take what you need as parameters and dependencies instead")
        self.endpoint = dependant.call
        self.path_params = [(f.name, f.alias, f) for f in dependant.path_params]
        self.header_params = [(f.name, f.alias, f) for f in dependant.header_params]
        self.body = dependant.body_params[0] if dependant.body_params else None
        self.response_field = route.response_field
        self.status_code = route.status_code or 200

    async def answer(self, request: Request, values: dict[str, Any]) -> Response:
        for name, dependency in self.dependencies:
            values[name] = await dependency(request)
        return self.respond(await self.endpoint(**values))

    async def values(self, request: Request) -> tuple[dict[str, Any] | None, bytes | None]:
        """The endpoint's arguments from a well-formed request, else None; and the body, if it was read."""
        if request.app.dependency_overrides:
            return None, None
        values: dict[str, Any] = {}
        for name, alias, field in self.path_params:
            value, errors = field.validate(request.path_params.get(alias), {}, loc=("path", alias))
            if errors:
                return None, None
            values[name] = value
        headers = request.headers
        for name, alias, field in self.header_params:
            raw = headers.get(alias)
            if raw is None:
                if field.field_info.is_required() or field.field_info.validate_default:
                    return None, None
                values[name] = field.get_default()
                continue
            value, errors = field.validate(raw, {}, loc=("header", alias))
            if errors:
                return None, None
            values[name] = value
        if self.body is None:
            return values, None
        if not _is_json(headers.get("content-type")):
            return None, None
        try:
            body = await request.body()
        except HTTPException:
            raise  # e.g. 413 from the site's body limit, as FastAPI answers it
        except Exception as error:
            raise HTTPException(400, "There was an error parsing the body") from error
        try:
            document = json.loads(body) if body else None
        except (ValueError, RecursionError):
            return None, body
        value, errors = self.body.validate(document, {}, loc=("body",))
        if errors:
            return None, body
        values[self.body.name] = value
        return values, body

    def respond(self, content: Any) -> Response:
        if isinstance(content, Response):
            return content
        value, errors = self.response_field.validate(content, {}, loc=("response",))
        if errors:  # the endpoint broke its own declaration: a server error, as FastAPI makes it
            raise ResponseValidationError(errors, body=content)
        return Response(self.response_field.serialize_json(value), status_code=self.status_code,
                        media_type="application/json")


def _is_json(content_type: str | None) -> bool:
    """application/json or application/*+json, with any parameters."""
    if not content_type:
        return False
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _is_sequence(field: Any) -> bool:
    annotation = getattr(field.field_info, "annotation", None)
    return getattr(annotation, "__origin__", None) in (list, set, tuple, frozenset)


def _is_coroutine(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))
