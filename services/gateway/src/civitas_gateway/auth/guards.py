"""Who may do what, as FastAPI dependencies: the one place routes learn who is asking.

    def vote(poll: str, voter: CurrentVoter): ...        # signed-in voters only, acting as themselves
    def results(poll: str, voter: OptionalVoter): ...    # anyone; the voter if signed in
    def restart(operator: Operator): ...                 # the site's operator only

Public reads need no dependency at all. A voter proves who they are with the session token from
POST /api/auth/session, sent as `Authorization: Bearer TOKEN`; the operator with the operator token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from civitas_kernel.commands import ForbiddenError
from civitas_kernel.lockdown import lockdown_of
from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.addresses import normalise_email
from civitas_gateway.auth.refusals import OPERATOR_TOKEN
from civitas_gateway.auth.state import AuthState, auth_state, auth_state_dependency
from civitas_gateway.auth.tokens import same

OPERATOR = "operator"  # what Operator yields: the actor name for operator actions

SESSION_SCHEME = {"scheme_name": "VoterSession", "description": "The session token from POST /api/auth/session."}
voter_scheme = HTTPBearer(auto_error=False, **SESSION_SCHEME)  # the token itself, e.g. to close its session
operator_scheme = HTTPBearer(auto_error=False, scheme_name="OperatorToken", description="The site operator's token.")

State = Annotated[AuthState, Depends(auth_state_dependency)]
VoterCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(voter_scheme)]
OperatorCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(operator_scheme)]


def unauthenticated(detail: str, *, invalid_token: bool = False) -> Problem:
    challenge = 'Bearer realm="civitas"' + (', error="invalid_token"' if invalid_token else "")
    return Problem(401, detail, kind="unauthenticated", headers={"WWW-Authenticate": challenge})


def _voter_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None:
        return None
    state = auth_state(request)
    voter = state.sign_in.voter_of(credentials.credentials)
    if voter is None:
        # A stale token is refused rather than ignored, so the client learns to sign in again.
        raise unauthenticated("your session has expired or was signed out; sign in again", invalid_token=True)
    state.voter_limit.check(voter, "requests from you")
    return voter


class VoterSession(HTTPBearer):
    """The signed-in voter from `Authorization: Bearer TOKEN`, and the OpenAPI security scheme that says so.

    One dependency that is also the scheme, not a chain of them: FastAPI's cost per request grows with
    each, and every vote pays it.
    """

    def __init__(self, *, required: bool) -> None:
        super().__init__(auto_error=False, **SESSION_SCHEME)
        self.required = required

    async def __call__(self, request: Request) -> str | None:
        voter = _voter_of(request, await super().__call__(request))
        if voter is None and self.required:
            raise unauthenticated("sign in first, then send your session token as `Authorization: Bearer TOKEN`")
        return voter


optional_voter = VoterSession(required=False)  # the signed-in voter, or None when no token is sent
current_voter = VoterSession(required=True)  # the signed-in voter; 401 if nobody is signed in


async def require_operator(request: Request, credentials: OperatorCredentials) -> str:
    """The site's operator; 401 without the operator token, 403 for a signed-in voter."""
    if credentials is None:
        raise unauthenticated("this needs the site operator's token as `Authorization: Bearer TOKEN`")
    state = auth_state(request)
    if same(credentials.credentials, state.operator_token):
        locked = lockdown_of(state.home) if state.home is not None else None  # read each time: it may come any moment
        if locked is not None:
            await _record_refusal(request, state)
            raise Problem(403, locked.refusal("the operator's token"), kind="locked-down")
        return OPERATOR
    if state.sign_in.voter_of(credentials.credentials) is not None:
        raise Problem(403, "only the site's operator may do this", kind="operator-only")
    raise unauthenticated("that is not the operator's token", invalid_token=True)


async def _record_refusal(request: Request, state: AuthState) -> None:
    """The attempt in the log (auth/refusals.py: one a minute, the rest counted); the refusal stands regardless."""
    if state.refusals is None:
        return
    client = request.client.host if request.client else ""
    try:
        await asyncio.to_thread(state.refusals.note, OPERATOR_TOKEN, request.method, request.url.path, client)
    except Exception:  # the log unwritable: the token is refused all the same, and said in the process's log
        logging.getLogger("civitas.gateway").exception("recording a refused operator token failed")


def require_self(voter: str, acting_as: str) -> None:
    """Refuse a voter acting under another voter's name (e.g. an address in the path or the body)."""
    try:
        claimed = normalise_email(acting_as)
    except ValueError:
        claimed = acting_as
    if claimed != voter:
        raise ForbiddenError(f"you are signed in as {voter} and may act only as yourself, not as {acting_as}")


CurrentVoter = Annotated[str, Depends(current_voter)]
OptionalVoter = Annotated[str | None, Depends(optional_voter)]
Operator = Annotated[str, Depends(require_operator)]
