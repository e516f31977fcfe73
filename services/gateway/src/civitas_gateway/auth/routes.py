"""The sign-in API under /api/auth: ask for a code, open and close a session, turn on two-step sign-in.

The routes are plain `def`s on purpose: FastAPI runs them in its thread pool, so the SMTP
conversation and the SQL store never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from civitas_gateway.auth.addresses import normalise_email
from civitas_gateway.auth.guards import CurrentVoter, State, VoterCredentials, unauthenticated
from civitas_gateway.auth.signin import iso
from civitas_gateway.ratelimit import client_address

router = APIRouter(prefix="/api/auth", tags=["sign-in"])

Email = Annotated[str, Field(max_length=320, examples=["alice@example.org"]), AfterValidator(normalise_email)]
Code = Annotated[str, Field(pattern=r"^\s*\d{6}\s*$", examples=["123456"])]
NO_STORE = "no-store"  # answers carrying secrets must not sit in caches


class CodeRequest(BaseModel):
    email: Email


class CodeSent(BaseModel):
    challenge: str = Field(description="Send it back with the code to POST /api/auth/session.")
    expires_at: str


class SessionRequest(BaseModel):
    challenge: str = Field(min_length=1, max_length=128)
    code: Code
    totp: Code | None = Field(None, description="The authenticator app's code, once two-step sign-in is on.")


class SessionOpened(BaseModel):
    token: str
    token_type: str = "Bearer"
    voter: str
    expires_at: str


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32; type it into an authenticator app, or use the uri.")
    uri: str = Field(description="otpauth:// URI, e.g. for a QR code.")


class TotpCode(BaseModel):
    code: Code


@router.post("/code", status_code=202, summary="Mail a sign-in code to an email address")
def request_code(body: CodeRequest, request: Request, state: State) -> CodeSent:
    state.limit_code_request(client_address(request.scope), body.email)
    challenge = state.sign_in.send_code(body.email)
    return CodeSent(challenge=challenge.id, expires_at=iso(challenge.expires_at))


@router.post("/session", summary="Sign in with the mailed code (and the TOTP code, if on)")
def open_session(body: SessionRequest, request: Request, response: Response, state: State) -> SessionOpened:
    state.session_address_limit.check(client_address(request.scope), "sign-in attempts from your address")
    session = state.sign_in.open_session(body.challenge, body.code, body.totp)
    response.headers["Cache-Control"] = NO_STORE
    return SessionOpened(token=session.token, voter=session.voter, expires_at=iso(session.expires_at))


@router.delete("/session", status_code=204, summary="Sign out: the session token stops working")
def close_session(state: State, credentials: VoterCredentials) -> None:
    if credentials is None:
        raise unauthenticated("send the session token to sign out of as `Authorization: Bearer TOKEN`")
    state.sign_in.close_session(credentials.credentials)


@router.post("/totp/enrol", summary="Start two-step sign-in: get a TOTP secret for an authenticator app")
def enrol_totp(voter: CurrentVoter, response: Response, state: State) -> TotpEnrolment:
    enrolment = state.two_step.enrol(voter)
    response.headers["Cache-Control"] = NO_STORE
    return TotpEnrolment(secret=enrolment.secret, uri=enrolment.uri)


@router.post("/totp/confirm", status_code=204, summary="Turn two-step sign-in on with a first code")
def confirm_totp(body: TotpCode, voter: CurrentVoter, state: State) -> None:
    state.two_step.confirm(voter, body.code)
