"""The gateway's security layer: sign-in by email code, sessions, two-step sign-in, who may do what.

The site wires it with one call and routes use the dependencies:

    install_auth(app, AuthSettings(), engine)   # engine: e.g. sqlite under CIVITAS_HOME/gateway.sqlite

    @app.post("/api/polls/{poll}/vote")
    def vote(poll: str, voter: CurrentVoter): ...
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from civitas_kernel.service.problems import install_problem_handlers

from civitas_gateway.auth.account import Account
from civitas_gateway.auth.addresses import normalise_email
from civitas_gateway.auth.guards import (
    CurrentVoter,
    Operator,
    OptionalVoter,
    current_voter,
    optional_voter,
    require_operator,
    require_self,
)
from civitas_gateway.auth.operator import operator_token, operator_token_path
from civitas_gateway.auth.routes import router
from civitas_gateway.auth.settings import AuthSettings
from civitas_gateway.auth.signin import SignIn
from civitas_gateway.auth.state import AuthState
from civitas_gateway.auth.store import AuthStore
from civitas_gateway.auth.totp import TwoStep
from civitas_gateway.mail import Mailer, SMTPMailer
from civitas_gateway.ratelimit import AddressRateLimit, RateLimiter

__all__ = [
    "AuthSettings",
    "CurrentVoter",
    "Operator",
    "OptionalVoter",
    "current_voter",
    "install_auth",
    "normalise_email",
    "operator_token",
    "operator_token_path",
    "optional_voter",
    "require_operator",
    "require_self",
    "smtp_mailer",
]


def smtp_mailer(settings: AuthSettings) -> SMTPMailer:
    password = settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else None
    return SMTPMailer(
        settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_STARTTLS, settings.SMTP_USER, password, settings.SMTP_TIMEOUT
    )


def install_auth(
    app: FastAPI,
    settings: AuthSettings,
    engine: Engine,
    *,
    mailer: Mailer | None = None,
    clock: Callable[[], float] = time.time,
    exempt: Callable[[dict], bool] | None = None,
) -> None:
    """Add the sign-in routes, the problem handlers and the per-address rate limit to `app`.
    `exempt`: which requests the per-address limit lets through uncounted (the deployer's smoke requests).

    `mailer` defaults to SMTP as the settings say; `clock` (seconds since the epoch) is for tests.
    Call it before the app serves its first request (it adds a middleware).
    """
    store = AuthStore(engine)
    two_step = TwoStep(store, issuer=settings.SITE, clock=clock)
    sign_in = SignIn(store, settings, mailer or smtp_mailer(settings), two_step, clock)
    app.state.civitas_auth = AuthState(
        sign_in=sign_in,
        two_step=two_step,
        account=Account(sign_in, two_step, settings),
        operator_token=operator_token(settings),
        voter_limit=RateLimiter(settings.RATE_VOTER),
        code_address_limit=RateLimiter(settings.RATE_CODE_ADDRESS),
        code_email_limit=RateLimiter(settings.RATE_CODE_EMAIL),
        session_address_limit=RateLimiter(settings.RATE_SESSION_ADDRESS),
        home=settings.HOME,
    )
    install_problem_handlers(app)
    app.add_middleware(AddressRateLimit, limiter=RateLimiter(settings.RATE_ADDRESS), exempt=exempt)
    app.include_router(router)
