"""Signing in by email: a one-time code (and link) sent to the address, exchanged for a session token.

A challenge is opaque, expires (CODE_MINUTES), works once and dies after CODE_TRIES wrong tries
(wrong TOTP codes count too). Whether an address belongs to a registered voter is never looked at,
so the answer to a code request says nothing about it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlencode

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.settings import AuthSettings
from civitas_gateway.auth.store import AuthStore
from civitas_gateway.auth.tokens import code_digest, digest, new_code, new_token, same
from civitas_gateway.auth.totp import TwoStep
from civitas_gateway.mail import Mailer, MailError
from civitas_gateway.ratelimit import Rate, RateLimiter, retry_after

SESSION_CACHE_SECONDS = 30.0
SESSION_CACHE_SIZE = 100_000
MAIL_RETRY_AFTER = "60"  # seconds; a relay that is down is usually back within minutes

log = logging.getLogger("civitas.gateway.auth")


@dataclass(frozen=True)
class Challenge:
    id: str
    expires_at: float


@dataclass(frozen=True)
class Session:
    token: str
    voter: str
    expires_at: float


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class SignIn:
    store: AuthStore
    settings: AuthSettings
    mailer: Mailer
    two_step: TwoStep
    clock: Callable[[], float]
    # Sessions seen lately, so a busy voter's requests skip the store; another process's sign-out
    # takes effect here within SESSION_CACHE_SECONDS.
    _recent: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)
    # Told (address, code, expires_at) of every code mailed: the local outbox prints it on the console.
    announce: Callable[[str, str, float], None] | None = None
    mail_limit: RateLimiter | None = None  # every mail this process sends; default MAIL_PER_HOUR per hour

    def __post_init__(self) -> None:
        if self.mail_limit is None:
            self.mail_limit = RateLimiter(Rate(self.settings.MAIL_PER_HOUR, 3600))

    def send_code(self, email: str) -> Challenge:
        """Mail a fresh code to `email`; raises a 503 problem if the mail cannot be sent."""
        challenge, code, now = new_token(), new_code(), self.clock()
        expires_at = now + self.settings.CODE_MINUTES * 60
        message = self.message(email, challenge, code)
        self._spend_mail()
        self.store.add_challenge(digest(challenge), email, code_digest(challenge, code), expires_at, self.settings.CODE_TRIES, now)
        self._deliver(message)
        if self.announce is not None:
            self.announce(email, code, expires_at)
        return Challenge(challenge, expires_at)

    def _spend_mail(self) -> None:
        wait = self.mail_limit.take("site")
        if wait is not None:  # a cap on the whole site's mail, so nobody can make it a spammer
            log.warning("the hourly mail cap (CIVITAS_MAIL_PER_HOUR) is reached")
            raise Problem(503, f"this site has sent as much mail as it may this hour; try again in {retry_after(wait)} s",
                          kind="mail-cap-reached", headers={"Retry-After": retry_after(wait)})

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the relay, within the site's hourly cap; a 503 problem if it cannot go."""
        self._spend_mail()
        self._deliver(message)

    def _deliver(self, message: EmailMessage) -> None:
        try:
            self.mailer.send(message)
        except MailError:
            log.warning("mail not sent", exc_info=True)
            raise Problem(
                503,
                "we could not send the mail just now; try again in a few minutes",
                kind="mail-unavailable",
                headers={"Retry-After": MAIL_RETRY_AFTER},
            ) from None

    def message(self, email: str, challenge: str, code: str) -> EmailMessage:
        site, minutes = self.settings.SITE, f"{self.settings.CODE_MINUTES:g}"
        message = EmailMessage()
        message["Subject"] = f"Your sign-in code for {site}"
        message["From"] = self.settings.mail_from
        message["To"] = email
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain=self.settings.mail_from.rpartition("@")[2] or None)
        lines = [f"Your code to sign in to {site} is:", "", f"    {code}", "", f"It works once, within {minutes} minutes."]
        if self.settings.SIGN_IN_PAGE:
            link = f"{self.settings.SIGN_IN_PAGE}?{urlencode({'challenge': challenge, 'code': code})}"
            lines += ["", "Or open this link and confirm:", link]
        lines += ["", "If you did not ask for it, ignore this mail: nobody can sign in as you without the code."]
        message.set_content("\n".join(lines) + "\n")
        return message

    def open_session(self, challenge: str, code: str, totp: str | None, agent: str | None = None) -> Session:
        """Exchange a challenge's code (and TOTP code, if the voter turned it on) for a session."""
        now, challenge_digest = self.clock(), digest(challenge)
        row = self._checked(challenge, code)
        if self.two_step.is_on(row.email):
            if not totp:
                # The mailed code was right, so the challenge stays open for the second step.
                raise refused("totp-required", "also give the code from your authenticator app (totp)")
            if not self.two_step.check(row.email, totp):
                raise self._wrong_try(challenge_digest, "wrong-totp", "the authenticator code is wrong or was used already")
        token, expires_at = new_token(), now + self.settings.SESSION_HOURS * 3600
        if not self.store.open_session(challenge_digest, digest(token), row.email, expires_at, now, (agent or "")[:200]):
            raise refused("code-used", "this code was used already; ask for a new one")  # a concurrent attempt won
        self._remember(digest(token), row.email, expires_at, now)  # the voter's next request asks no database
        return Session(token, row.email, expires_at)

    def prove(self, challenge: str, code: str, voter: str | None = None) -> str:
        """Use a fresh code up as proof that the asker reads the mailbox (of `voter`, when given); the address."""
        row = self._checked(challenge, code)
        if voter is not None and row.email != voter:
            raise refused("wrong-challenge", f"that code was sent to another address; ask for one to {voter}")
        if not self.store.use_challenge(digest(challenge)):
            raise refused("code-used", "this code was used already; ask for a new one")
        return row.email

    def _checked(self, challenge: str, code: str):
        """The challenge's row if it is open and `code` is its code; else a problem (a wrong code spends a try)."""
        now, challenge_digest = self.clock(), digest(challenge)
        row = self.store.challenge(challenge_digest)
        if row is None:
            raise refused("unknown-challenge", "there is no such sign-in; ask for a new code")
        if row.used:
            raise refused("code-used", "this code was used already; ask for a new one")
        if row.tries_left <= 0:
            raise refused("challenge-closed", "too many wrong tries; ask for a new code")
        if now >= row.expires_at:
            raise refused("code-expired", "this code has expired; ask for a new one")
        if not same(code_digest(challenge, code.strip()), row.code_digest):
            raise self._wrong_try(challenge_digest, "wrong-code", "that code is wrong")
        return row

    def _wrong_try(self, challenge_digest: str, kind: str, what: str) -> Problem:
        left = self.store.spend_try(challenge_digest)
        if left == 0:
            return refused(kind, f"{what}; that was the last try, ask for a new code", tries_left=0)
        return refused(kind, f"{what}; {left} {'try' if left == 1 else 'tries'} left", tries_left=left)

    def voter_of(self, token: str) -> str | None:
        token_digest, now = digest(token), self.clock()
        cached = self._recent.get(token_digest)
        if cached is not None and now < cached[1]:
            return cached[0]
        session = self.store.session_voter(token_digest, now)
        if session is None:
            return None
        voter, expires_at = session
        self._remember(token_digest, voter, expires_at, now)
        return voter

    def _remember(self, token_digest: str, voter: str, expires_at: float, now: float) -> None:
        if len(self._recent) >= SESSION_CACHE_SIZE:
            self._recent.clear()
        self._recent[token_digest] = (voter, min(expires_at, now + SESSION_CACHE_SECONDS))

    def close_session(self, token: str) -> None:
        self._recent.pop(digest(token), None)
        self.store.close_session(digest(token))

    # -- a voter's own sessions ---------------------------------------------------------------

    def sessions(self, voter: str, token: str) -> list[dict]:
        """The voter's live sessions, each with a public id (never the token), the one asking marked current."""
        mine = digest(token)
        return [{"id": session_id(row.token_digest), "created_at": iso(row.created_at) if row.created_at else None,
                 "expires_at": iso(row.expires_at), "agent": row.agent or "", "current": row.token_digest == mine}
                for row in self.store.sessions_of(voter, self.clock())]

    def end_sessions(self, voter: str, token: str, ids: set[str] | None = None) -> int:
        """End the voter's sessions with these ids, or (None) every one but the asking one; how many ended."""
        mine = digest(token)
        rows = self.store.sessions_of(voter, self.clock())
        doomed = [r.token_digest for r in rows if (session_id(r.token_digest) in ids if ids is not None
                                                   else r.token_digest != mine)]
        for token_digest in doomed:
            self._recent.pop(token_digest, None)  # at once here; other gateways within SESSION_CACHE_SECONDS
        return self.store.close_sessions(voter, doomed)

    def notify(self, voter: str, subject: str, *lines: str) -> None:
        """Mail the voter a notice about their account (503 if it cannot go: the change it tells of waits)."""
        message = EmailMessage()
        message["Subject"] = f"{subject} ({self.settings.SITE})"
        message["From"] = self.settings.mail_from
        message["To"] = voter
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain=self.settings.mail_from.rpartition("@")[2] or None)
        message.set_content("\n".join([*lines, "", "If this was not you, sign in and end your other sessions "
                                        "(your account page), and tell the site's operator."]) + "\n")
        self.send(message)


def session_id(token_digest: str) -> str:
    """A session's public name: derived from the stored digest, so it tells nothing of the token."""
    return hashlib.sha256(("civitas/session-id\n" + token_digest).encode()).hexdigest()[:16]


def refused(kind: str, detail: str, **extensions) -> Problem:
    return Problem(400, detail, kind=kind, **extensions)
