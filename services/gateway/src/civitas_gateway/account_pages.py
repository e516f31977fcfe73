"""The pages of signing in and of one's account: sign in and out, reset a lost authenticator, see and end one's
sessions, turn two-step sign-in on and off. Every sign-in form is checked as from_this_site (page_kit), so another
site cannot sign a browser in (login CSRF); a change of two-step sign-in needs a fresh mailed code (auth/account.py).
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.addresses import normalise_email
from civitas_gateway.auth.signin import iso
from civitas_gateway.auth.state import auth_state
from civitas_gateway.page_kit import (
    COOKIE,
    FormToken,
    back,
    from_this_site,
    page_voter,
    render,
    session_token,
    signed_in,
    start_signin,
)
from civitas_gateway.ratelimit import client_address

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(max_length=20)]
Challenge = Annotated[str, Form(max_length=200)]
NOT_FROM_HERE = ("this sign-in form did not come from this site's page (or your browser keeps no cookies for it); "
                 "open the sign-in page here and try again")


def _refuse_forgery(request: Request, csrf: str, template: str, **context) -> HTMLResponse | None:
    if from_this_site(request, csrf):
        return None
    start_signin(request)
    return render(request, template, status_code=403, error=NOT_FROM_HERE, **context)


def _mail_code(request: Request, email: str, template: str, **context) -> HTMLResponse:
    """Mail a code to `email` and draw `template` asking for it (or saying why not)."""
    try:
        address = normalise_email(email)
    except ValueError:
        return render(request, template, status_code=400, **context,
                      error=f"{email!r} is not an email address; write it like alice@example.org")
    state = auth_state(request)
    try:
        state.limit_code_request(client_address(request.scope), address)
        challenge = state.sign_in.send_code(address)
    except Problem as e:  # the form again, saying why; its status and Retry-After kept
        page = render(request, template, status_code=e.status_code, error=e.detail, **context)
        page.headers.update(e.headers or {})
        return page
    return render(request, template, challenge=challenge.id, email=address, **context)


# -- signing in and out -------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request):
    start_signin(request)
    return render(request, "signin.html")


@router.post("/signin", response_class=HTMLResponse)
def signin_send(request: Request, email: str = Form(..., max_length=254), csrf: FormToken = ""):
    return _refuse_forgery(request, csrf, "signin.html") or _mail_code(request, email, "signin.html")


@router.post("/signin/code")
def signin_code(request: Request, challenge: Challenge, code: Code, email: str = Form("", max_length=254),
                totp: str = Form("", max_length=20), csrf: FormToken = ""):
    refused = _refuse_forgery(request, csrf, "signin.html")
    if refused:
        return refused
    state = auth_state(request)
    try:
        state.session_address_limit.check(client_address(request.scope), "sign-in attempts from your address")
        session = state.sign_in.open_session(challenge, code.strip(), totp.strip() or None,
                                             request.headers.get("user-agent"))
    except Problem as e:
        return render(request, "signin.html", status_code=e.status_code, challenge=challenge, email=email, error=e.detail)
    response = RedirectResponse("/me?message=" + quote(f"signed in as {session.voter}"), status_code=303)
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(session.expires_at - state.sign_in.clock()))
    return response


@router.post("/signout")
def signout(request: Request, csrf: FormToken = ""):
    signed_in(request, csrf)
    auth_state(request).sign_in.close_session(session_token(request))
    response = back("/", message="signed out")
    response.delete_cookie(COOKIE)
    return response


# -- a lost authenticator -------------------------------------------------------------------------


@router.get("/signin/reset", response_class=HTMLResponse)
def reset_page(request: Request):
    start_signin(request)
    return render(request, "reset.html")


@router.post("/signin/reset", response_class=HTMLResponse)
def reset_send(request: Request, email: str = Form(..., max_length=254), csrf: FormToken = ""):
    return _refuse_forgery(request, csrf, "reset.html") or _mail_code(request, email, "reset.html")


@router.post("/signin/reset/code", response_class=HTMLResponse)
def reset_code(request: Request, challenge: Challenge, code: Code, csrf: FormToken = ""):
    refused = _refuse_forgery(request, csrf, "reset.html")
    if refused:
        return refused
    state = auth_state(request)
    try:
        state.session_address_limit.check(client_address(request.scope), "sign-in attempts from your address")
        when = state.account.ask_totp_reset(challenge, code.strip())
    except Problem as e:
        return render(request, "reset.html", status_code=e.status_code, challenge=challenge, error=e.detail)
    return render(request, "reset.html", message=f"two-step sign-in will be off from {iso(when)}; we mailed you")


# -- your account: sessions and two-step sign-in ----------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account(request: Request):
    voter = page_voter(request)
    if voter is None:
        return back("/signin")
    return _account_page(request, voter)


def _account_page(request: Request, voter: str, *, status_code: int = 200, **context) -> HTMLResponse:
    state = auth_state(request)
    reset_at = state.two_step.reset_at(voter)
    return render(request, "account.html", status_code=status_code, sessions=state.sign_in.sessions(voter, session_token(request)),
                  totp_on=state.two_step.is_on(voter), reset_at=iso(reset_at) if reset_at else None, **context)


@router.post("/account/sessions/end")
def end_sessions(request: Request, session: str = Form("", max_length=64), csrf: FormToken = ""):
    """End one session (by its id), or every other one (no id)."""
    voter = signed_in(request, csrf)
    ended = auth_state(request).sign_in.end_sessions(voter, session_token(request), {session} if session else None)
    return back("/account", message=f"ended {ended} session{'s' if ended != 1 else ''}")


@router.post("/account/totp/code", response_class=HTMLResponse)
def totp_code(request: Request, purpose: Literal["on", "off"] = Form(...), csrf: FormToken = ""):
    """Mail a fresh code: turning two-step sign-in on or off needs the mailbox again."""
    voter = signed_in(request, csrf)
    state = auth_state(request)
    try:
        state.limit_code_request(client_address(request.scope), voter)
        challenge = state.sign_in.send_code(voter)
    except Problem as e:
        return _account_page(request, voter, status_code=e.status_code, error=e.detail)
    return _account_page(request, voter, challenge=challenge.id, purpose=purpose,
                         message=f"we mailed a code to {voter}; enter it below")


@router.post("/account/totp/on", response_class=HTMLResponse)
def totp_on(request: Request, challenge: Challenge, code: Code, csrf: FormToken = ""):
    voter = signed_in(request, csrf)
    try:
        enrolment = auth_state(request).account.start_totp(voter, challenge, code.strip())
    except Problem as e:
        return _account_page(request, voter, status_code=e.status_code, error=e.detail)
    response = _account_page(request, voter, enrolment=enrolment)
    response.headers["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@router.post("/account/totp/confirm")
def totp_confirm(request: Request, totp: Code, csrf: FormToken = ""):
    voter = signed_in(request, csrf)
    try:
        auth_state(request).account.confirm_totp(voter, totp.strip())
    except Problem as e:
        return back("/account", error=e.detail)
    return back("/account", message="two-step sign-in is on; we mailed you a notice")


@router.post("/account/totp/off")
def totp_off(request: Request, challenge: Challenge, code: Code, totp: Code, csrf: FormToken = ""):
    voter = signed_in(request, csrf)
    try:
        auth_state(request).account.stop_totp(voter, challenge, code.strip(), totp.strip())
    except Problem as e:
        return back("/account", error=e.detail)
    return back("/account", message="two-step sign-in is off; we mailed you a notice")


@router.post("/account/totp/reset/cancel")
def totp_reset_cancel(request: Request, csrf: FormToken = ""):
    voter = signed_in(request, csrf)
    try:
        auth_state(request).account.cancel_totp_reset(voter)
    except Problem as e:
        return back("/account", error=e.detail)
    return back("/account", message="the reset of your two-step sign-in is cancelled")
