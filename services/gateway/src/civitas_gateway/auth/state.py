"""What the sign-in routes and the access dependencies share, kept on the app by install_auth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from civitas_gateway.auth.account import Account
from civitas_gateway.auth.refusals import RefusedAttempts
from civitas_gateway.auth.signin import SignIn
from civitas_gateway.auth.totp import TwoStep
from civitas_gateway.ratelimit import RateLimiter


@dataclass
class AuthState:
    sign_in: SignIn
    two_step: TwoStep
    account: Account
    operator_token: str
    voter_limit: RateLimiter  # every signed-in request, per voter
    code_address_limit: RateLimiter  # code requests, per client address
    code_email_limit: RateLimiter  # code requests, per email address and client address together
    session_address_limit: RateLimiter  # sign-in attempts, per client address
    home: Path | None = None  # CIVITAS_HOME, where `civitas lockdown` leaves its mark
    refusals: RefusedAttempts | None = None  # the operator's token refused after the lock-out, recorded (bounded)

    def limit_code_request(self, client: str, email: str) -> None:
        """Spend the client's share of code requests, and its share for this email address (429 past either).

        No limit is the email address's alone: others asking for codes to it would spend its owner's share, and
        lock them out. What reaches one mailbox is bounded by each client's limits and the site's mail cap.
        """
        self.code_address_limit.check(client, "code requests from your address")
        self.code_email_limit.check(f"{client} {email}", "code requests for this email address from your address; "
                                    "use a code you were sent, or wait")


def auth_state(request: Request) -> AuthState:
    try:
        return request.app.state.civitas_auth
    except AttributeError:
        raise RuntimeError("the gateway's auth is not installed: call install_auth(app, settings, engine)") from None


async def auth_state_dependency(request: Request) -> AuthState:
    """auth_state as a FastAPI dependency; async, so resolving it costs no thread hop."""
    return auth_state(request)
