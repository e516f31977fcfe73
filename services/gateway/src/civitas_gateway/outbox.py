"""The local outbox: a site on one's own machine with no mail relay keeps its mail in a Maildir and shows it.

On a fresh machine nothing relays mail, so nobody could sign in. With CIVITAS_SMTP_HOST unset and the site
bound to loopback, `civitas up` hands every outgoing message to `MaildirMailer` (CIVITAS_HOME/outbox), prints
each sign-in code on its console and serves /outbox. Once a relay is configured, or the site listens beyond
loopback, none of this exists: the outbox would show everyone's codes to whoever reaches the page.
"""

from __future__ import annotations

import ipaddress
import mailbox
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.settings import AuthSettings
from civitas_gateway.page_sandbox import page_data

OUTBOX = "outbox"  # the Maildir's folder under CIVITAS_HOME
SHOWN = 200  # the newest messages the page lists
NO_STORE = "no-store"  # the pages show sign-in codes: no cache keeps them
MAILDIR_KEY = re.compile(r"(\d+)\.M(\d+)P")  # Python's Maildir names: SECONDS.MMICROSECONDSPPID…
page_data(EmailMessage)  # the outbox pages read a message's headers


def relay_configured(settings: AuthSettings) -> bool:
    """Whether the operator named a mail relay (CIVITAS_SMTP_HOST), rather than leaving the default."""
    return "SMTP_HOST" in settings.model_fields_set and bool(settings.SMTP_HOST.strip())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class MaildirMailer:
    """A Mailer that delivers into a Maildir (Python's mailbox.Maildir): safe across threads and processes."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            mailbox.Maildir(self.path, create=True).add(message)

    def messages(self) -> list[tuple[str, EmailMessage]]:
        """(key, message) of every message, newest first."""
        if not self.path.exists():
            return []
        box = mailbox.Maildir(self.path, factory=None, create=False)
        found = [(key, _parsed(box.get_bytes(key))) for key in box.keys()]
        return sorted(found, key=lambda item: (_sent_at(item[1]), _delivered_at(item[0]), item[0]), reverse=True)

    def message(self, key: str) -> EmailMessage | None:
        if not self.path.exists():
            return None
        box = mailbox.Maildir(self.path, factory=None, create=False)
        try:
            return _parsed(box.get_bytes(key))  # a key not in the folder's table is a KeyError: no paths escape
        except KeyError:
            return None


def _parsed(data: bytes) -> EmailMessage:
    import email

    return email.message_from_bytes(data, policy=policy.default)


def _delivered_at(key: str) -> tuple[int, int]:
    """When a Maildir key says its message was delivered, to the microsecond: a Date header has whole seconds."""
    found = MAILDIR_KEY.match(key)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _sent_at(message: EmailMessage) -> datetime:
    try:
        return parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, UTC)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else "(this message has no text part)"


@dataclass
class LocalOutbox:
    """The outbox of a site on one's own machine: its mailer, the console line per sign-in code, the page."""

    path: Path
    console: Callable[[str], None] = print
    code_minutes: float = 10.0  # how long a code works (CIVITAS_CODE_MINUTES)
    mailer: MaildirMailer = field(init=False)

    def __post_init__(self) -> None:
        self.mailer = MaildirMailer(self.path)

    def announce_code(self, email: str, code: str, expires_at: float) -> None:
        until = datetime.fromtimestamp(expires_at, UTC)
        self.console(f"sign-in code for {email}: {code} (works once, within {self.code_minutes:g} minutes: until "
                     f"{until:%Y-%m-%d %H:%M:%S} UTC; the mail is at /outbox)")

    def install(self, app: FastAPI) -> None:
        """Serve /outbox on `app` and print each sign-in code the app mails; call it after create_app."""
        app.state.outbox = self
        app.state.civitas_auth.sign_in.announce = self.announce_code  # install_auth put it there
        app.include_router(router)


def local_outbox(settings: AuthSettings, host: str, console: Callable[[str], None] = print) -> LocalOutbox | None:
    """The outbox `civitas up` uses: only with no relay configured and the site bound to loopback."""
    if relay_configured(settings) or not is_loopback(host):
        return None
    return LocalOutbox(settings.HOME / OUTBOX, console, settings.CODE_MINUTES)


# -- the page -----------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


def _outbox(request: Request) -> LocalOutbox:
    outbox = getattr(request.app.state, "outbox", None)
    if outbox is None:  # the router is only ever included with an outbox; this is a second lock on the door
        raise Problem(404, "this site has no local outbox", kind="not-found")
    return outbox


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request):
    from civitas_gateway.page_kit import render

    outbox = _outbox(request)
    page = render(request, "outbox.html", messages=outbox.mailer.messages()[:SHOWN], path=str(outbox.path), shown=SHOWN)
    page.headers["Cache-Control"] = NO_STORE
    return page


@router.get("/outbox/{key}", response_class=HTMLResponse)
def outbox_message(request: Request, key: str):
    from civitas_gateway.page_kit import render

    message = _outbox(request).mailer.message(key)
    if message is None:
        raise Problem(404, "there is no such message in the outbox; the outbox page lists them", kind="not-found")
    page = render(request, "outbox_message.html", key=key, mail=message, text=text_of(message))
    page.headers["Cache-Control"] = NO_STORE
    return page
