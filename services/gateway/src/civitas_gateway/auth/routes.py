"""The sign-in API under /api/auth: ask for a code, open and close a session, list and end one's sessions, turn
two-step sign-in on and off (each with a fresh mailed code), and reset it by email proof after a delay.

The routes are plain `def`s on purpose: FastAPI runs them in its thread pool, so the SMTP
conversation and the SQL store never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from civitas_kernel.service.problems import Problem

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


class Proof(BaseModel):
    """A fresh code mailed to you (POST /api/auth/code), proving again that you read your mailbox."""

    challenge: str = Field(min_length=1, max_length=128)
    code: Code


class TotpOff(Proof):
    totp: Code = Field(description="Your authenticator app's current code.")


class TotpReset(BaseModel):
    effective_at: str = Field(description="From then on signing in needs only the mailed code.")


class SessionInfo(BaseModel):
    id: str = Field(description="Names the session to end it; it is not its token.")
    created_at: str | None
    expires_at: str
    agent: str = Field(description="The client that signed in, as it named itself.")
    current: bool = Field(description="The session this request came with.")


class Ended(BaseModel):
    ended: int


@router.post("/code", status_code=202, summary="Mail a sign-in code to an email address")
def request_code(body: CodeRequest, request: Request, state: State) -> CodeSent:
    state.limit_code_request(client_address(request.scope), body.email)
    challenge = state.sign_in.send_code(body.email)
    return CodeSent(challenge=challenge.id, expires_at=iso(challenge.expires_at))


@router.post("/session", summary="Sign in with the mailed code (and the TOTP code, if on)")
def open_session(body: SessionRequest, request: Request, response: Response, state: State) -> SessionOpened:
    state.session_address_limit.check(client_address(request.scope), "sign-in attempts from your address")
    session = state.sign_in.open_session(body.challenge, body.code, body.totp, request.headers.get("user-agent"))
    response.headers["Cache-Control"] = NO_STORE
    return SessionOpened(token=session.token, voter=session.voter, expires_at=iso(session.expires_at))


@router.delete("/session", status_code=204, summary="Sign out: the session token stops working")
def close_session(state: State, credentials: VoterCredentials) -> None:
    if credentials is None:
        raise unauthenticated("send the session token to sign out of as `Authorization: Bearer TOKEN`")
    state.sign_in.close_session(credentials.credentials)


@router.get("/sessions", summary="Your sessions that are signed in")
def list_sessions(voter: CurrentVoter, state: State, credentials: VoterCredentials) -> list[SessionInfo]:
    return [SessionInfo(**s) for s in state.sign_in.sessions(voter, credentials.credentials)]


@router.delete("/sessions/{session}", status_code=204, summary="End one of your sessions")
def end_session(session: Annotated[str, Path(max_length=64)], voter: CurrentVoter, state: State,
                credentials: VoterCredentials) -> None:
    if not state.sign_in.end_sessions(voter, credentials.credentials, {session}):
        raise Problem(404, "you have no such session; GET /api/auth/sessions lists yours", kind="no-such-session")


@router.delete("/sessions", summary="End every session of yours but this one")
def end_other_sessions(voter: CurrentVoter, state: State, credentials: VoterCredentials) -> Ended:
    return Ended(ended=state.sign_in.end_sessions(voter, credentials.credentials))


@router.post("/totp/enrol", summary="Start two-step sign-in with a fresh mailed code: get a TOTP secret")
def enrol_totp(body: Proof, voter: CurrentVoter, response: Response, state: State) -> TotpEnrolment:
    """Ask POST /api/auth/code for a fresh code to your address first: a session alone cannot turn this on."""
    enrolment = state.account.start_totp(voter, body.challenge, body.code)
    response.headers["Cache-Control"] = NO_STORE
    return TotpEnrolment(secret=enrolment.secret, uri=enrolment.uri)


@router.post("/totp/confirm", status_code=204, summary="Turn two-step sign-in on with a first code (mails a notice)")
def confirm_totp(body: TotpCode, voter: CurrentVoter, state: State) -> None:
    state.account.confirm_totp(voter, body.code)


@router.post("/totp/off", status_code=204, summary="Turn two-step sign-in off with a fresh mailed code (mails a notice)")
def turn_off_totp(body: TotpOff, voter: CurrentVoter, state: State) -> None:
    state.account.stop_totp(voter, body.challenge, body.code, body.totp)


@router.post("/totp/reset", status_code=202, summary="Lost your authenticator? Reset two-step sign-in by email proof")
def reset_totp(body: Proof, request: Request, state: State) -> TotpReset:
    """Needs no session: a fresh mailed code. Two-step sign-in goes off after TOTP_RESET_HOURS; a notice is mailed,
    and a signed-in voter may cancel it meanwhile (DELETE)."""
    state.session_address_limit.check(client_address(request.scope), "sign-in attempts from your address")
    return TotpReset(effective_at=iso(state.account.ask_totp_reset(body.challenge, body.code)))


@router.delete("/totp/reset", status_code=204, summary="Cancel a reset of your two-step sign-in")
def cancel_totp_reset(voter: CurrentVoter, state: State) -> None:
    state.account.cancel_totp_reset(voter)
