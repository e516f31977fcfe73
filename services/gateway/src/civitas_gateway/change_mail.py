"""A revision voids every direct vote on its proposal: those voters are told by mail, the way sign-in codes go (the
sign-in's mailer, within the site's hourly cap), so an objection is never wiped quietly.

Each (proposal, content, voter) is mailed once: a gateway mails only if it is the first to claim it in the gateway's
store, which gateways side by side share, so a revision sent again under its idempotency key (a retry whose answer
was lost) mails nobody twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from fastapi import Request
from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from civitas_kernel.commands import Reply
from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.state import auth_state
from civitas_gateway.mail import MailError

log = logging.getLogger("civitas.gateway.changes")
MAX_TOLD = 1000  # mails for one revision at most; the proposal's page tells the rest

metadata = MetaData()
told = Table(
    "change_void_notices", metadata,
    Column("proposal", String(20), primary_key=True),
    Column("content_hash", String(64), primary_key=True),  # the revision that voided the vote
    Column("voter", String(254), primary_key=True),
)


def _claim(engine, proposal: str, content_hash: str, voter: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(insert(told).values(proposal=proposal, content_hash=content_hash, voter=voter))
        return True
    except IntegrityError:
        return False  # told already, by this gateway before or by another


@dataclass(frozen=True)
class Teller:
    """How notices of void votes go out: the gateway's store (to mail each voter once), its sender, its address."""

    engine: Engine
    send: Callable[[EmailMessage], None]  # raises Problem or MailError when the mail cannot go
    mail_from: str
    site: str

    @classmethod
    def of_sign_in(cls, sign_in) -> Teller:
        return cls(sign_in.store.engine, sign_in.send, sign_in.settings.mail_from, sign_in.settings.SITE)


def voided_message(teller: Teller, voter: str, reply: Reply) -> EmailMessage:
    data = reply.data
    proposal, number = data["proposal"], data["revision"]
    message = EmailMessage()
    message["Subject"] = f"Your vote on proposal {proposal} is void: it was revised"
    message["From"] = teller.mail_from
    message["To"] = voter
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=teller.mail_from.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(
        f"Proposal {proposal}, \"{data['title']}\", was revised to revision {number}: its content is now\n"
        f"{data['content_hash']}. Your vote was on the earlier content, so it no longer counts.\n\n"
        f"Look at the change again on {teller.site} (the page /changes/{proposal}) and vote on it,\n"
        "or write `change vote ID yes|no|abstain` in the voter shell.\n")
    return message


def _send_all(teller: Teller, reply: Reply) -> int:
    sent, data = 0, reply.data
    metadata.create_all(teller.engine)  # revisions are rare: look for the table each time rather than cache it
    for voter in data.get("voided", [])[:MAX_TOLD]:
        if not _claim(teller.engine, data["proposal"], data["content_hash"], voter):
            continue
        try:
            teller.send(voided_message(teller, voter, reply))
            sent += 1
        except (Problem, MailError):  # the relay is down or the hourly cap is reached: the page still says so
            log.warning("the notice of a void vote to %s was not sent", voter)
    return sent


async def tell_voided_by(teller: Teller, reply: Reply) -> int:
    """Mail each voter whose direct vote the revision in `reply` voided; how many were mailed."""
    if not (reply.data or {}).get("voided"):
        return 0
    return await asyncio.to_thread(_send_all, teller, reply)


async def tell_voided(request: Request, reply: Reply) -> int:
    """tell_voided_by, through the sign-in's mailer (within the site's hourly cap)."""
    if not (reply.data or {}).get("voided"):
        return 0
    return await tell_voided_by(Teller.of_sign_in(auth_state(request).sign_in), reply)
