"""Voters' commands by mail (after Votorola's voface-mail): each line of a mail to register@SITE or POLL@SITE is a
voter-shell command of its sender. Commands that only read are answered at once; the others are held until the
sender answers a challenge mailed to the From address (a one-time token in the address the answer goes to, within
a time limit): the challenge is the authentication, since only the address's owner reads it. The site's own address
answers hello, help and version; change@SITE takes the change service's commands.

A delivery is handled once (its Message-ID and recipient, in the gateway's store); held commands run with
idempotency keys of their delivery and line, so a crash half-way and a second handling apply each once. Mail that
is automatic, fails the spam check, or has no sender is never answered (answering could reach a forged address
that never wrote); any other refusal gets a short reply saying why, and runs nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version

from civitas_kernel.commands import CommandError
from civitas_kernel.voter_command import VoterCommand, split_line

from civitas_gateway.change_mail import Teller, tell_voided_by
from civitas_gateway.mail import Mailer, MailError
from civitas_gateway.mail_interface import replies
from civitas_gateway.mail_interface.reading import Incoming, Unreadable, command_lines, read, spam_verdict, text_of
from civitas_gateway.mail_interface.routing import (
    CONFIRM, CONFIRM_PREFIX, META, META_COMMANDS, UNKNOWN, Destination, destination, reads_only,
)
from civitas_gateway.mail_interface.settings import MailInterfaceSettings
from civitas_gateway.mail_interface.store import MailStore
from civitas_gateway.ratelimit import RateLimiter

log = logging.getLogger("civitas.gateway.mail")


@dataclass(frozen=True)
class Outcome:
    """What became of a delivery: `kind` is answered, challenged, applied, refused, dropped or duplicate."""

    kind: str
    detail: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MailInterface:
    def __init__(self, site, settings: MailInterfaceSettings, mailer: Mailer, store: MailStore, *, mail_from: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.site, self.settings, self.mailer, self.store = site, settings, mailer, store
        self.mail_from, self.clock = mail_from, clock
        self.domain = settings.mail_domain
        self.senders = RateLimiter(settings.MAIL_RATE_SENDER)

    async def handle(self, raw: bytes, recipient: str | None = None) -> Outcome:
        """Handle one delivered message (to `recipient`, else its Delivered-To or To at this site)."""
        incoming = read(raw, domain=self.domain, recipient=recipient, authserv_id=self.settings.MAIL_AUTHSERV_ID)
        if not await asyncio.to_thread(self.store.begin, incoming.key, self.clock()):
            return Outcome("duplicate", f"{incoming.message_id or 'this message'} to {incoming.recipient} was "
                                        "handled already; nothing runs or is answered twice")
        outcome = await self._handle(incoming)  # an error leaves it unfinished: handled again, idempotently
        await asyncio.to_thread(self.store.finish, incoming.key)
        log.info("mail from %s to %s: %s (%s)", incoming.sender, incoming.recipient, outcome.kind, outcome.detail)
        return outcome

    async def _handle(self, incoming: Incoming) -> Outcome:
        if incoming.automatic:
            return Outcome("dropped", "an automatic message (or one without a sender) is never answered")
        verdict = spam_verdict(incoming, self.settings.MAIL_AUTHSERV_ID)
        if verdict:
            return Outcome("dropped", f"the spam check (Authentication-Results of {self.settings.MAIL_AUTHSERV_ID}) "
                                      f"failed: {verdict}")
        if self.senders.take(incoming.sender) is not None:
            return Outcome("dropped", f"{incoming.sender} sent more than {self.settings.MAIL_RATE_SENDER} messages")
        if len(incoming.raw) > self.settings.MAIL_MAX_BYTES:
            return await self._refuse(incoming, f"it is {len(incoming.raw):,} bytes, and this site takes at most "
                                                f"{self.settings.MAIL_MAX_BYTES:,}")
        where = await asyncio.to_thread(self._destination, incoming.recipient)
        if where.kind == UNKNOWN:
            return await self._refuse(incoming, f"{incoming.recipient or 'its address'} is no service of this site; "
                                                f"write to register@{self.domain}, POLL@{self.domain} or {self.mail_from}")
        try:
            text = text_of(incoming.message)
        except Unreadable as e:
            return await self._refuse(incoming, str(e))
        if where.kind == CONFIRM:
            return await self._confirm(incoming, where.token)
        lines = command_lines(text)
        if len(lines) > self.settings.MAIL_MAX_COMMANDS:
            return await self._refuse(incoming, f"it has {len(lines):,} command lines, and one message may hold at "
                                                f"most {self.settings.MAIL_MAX_COMMANDS}; send them in parts")
        try:
            commands = [(number, line, _words(line)) for number, line in lines]
        except CommandError as e:
            return await self._refuse(incoming, str(e))
        if where.kind == META:
            return await self._meta(incoming, commands)
        return await self._commands(incoming, where, commands)

    def _destination(self, recipient: str) -> Destination:
        def is_poll(name: str) -> bool:
            with self.site.lock:
                self.site.polls.catch_up()
                return self.site.polls.has_poll(name)

        return destination(recipient, domain=self.domain, own=self.mail_from, is_poll=is_poll)

    # -- commands ----------------------------------------------------------------------------------

    async def _commands(self, incoming: Incoming, where: Destination, commands) -> Outcome:
        if not commands:
            commands = [(0, "help", ["help"])]
        reading = [(line, words) for _, line, words in commands if reads_only(where.kind, words)]
        changing = [(number, line) for number, line, words in commands if not reads_only(where.kind, words)]
        answers = [(line, await self._run(incoming.sender, where.service, words, None)) for line, words in reading]
        if not changing:
            await self._send(incoming, replies.re_subject(incoming.subject), replies.answered(answers))
            return Outcome("answered", f"{len(answers)} command(s) that only read, answered")
        token, minutes = secrets.token_hex(16), self.settings.MAIL_CHALLENGE_MINUTES
        expires_at = self.clock() + minutes * 60
        subject = incoming.subject or f"commands to {incoming.recipient}"
        await asyncio.to_thread(self.store.hold, digest(token), incoming.key, incoming.sender, where.service, changing,
                                subject, expires_at)
        confirm = f"{CONFIRM_PREFIX}{token}@{self.domain}"
        body = [f"We received a mail from you to {incoming.recipient} with {len(changing)} command(s) that change "
                "something:", "", *(f"    {line}" for _, line in changing), "",
                f"Did you send it? If so, reply to this mail (your reply goes to {confirm}) within {minutes:g} "
                f"minutes, until {_when(expires_at)}; the commands run then, once, and their answers come back.",
                "If you did not send it, ignore this mail: nothing runs without your answer."]
        if answers:
            body += ["", "The commands that only read are answered already:", "", replies.answered(answers)]
        await self._send(incoming, f"Did you send this? {subject}", "\n".join(body), reply_to=confirm)
        return Outcome("challenged", f"{len(changing)} command(s) held for {incoming.sender}'s answer; "
                                     f"{len(answers)} answered")

    async def _confirm(self, incoming: Incoming, token: str) -> Outcome:
        token_digest = digest(token)
        waiting = await asyncio.to_thread(self.store.held, token_digest)
        if waiting is None:
            return await self._refuse(incoming, "it answers no challenge of this site (the address is not one we sent)")
        if waiting.sender != incoming.sender:
            return await self._refuse(incoming, "that challenge was sent to another address; only the mail from that "
                                                "address answers it")
        again = waiting.answered_by == incoming.key  # this very answer, handled again after a crash
        if waiting.answered_by and not again:
            return await self._refuse(incoming, "that challenge was answered already: its commands ran once, and run "
                                                "no second time")
        if self.clock() >= waiting.expires_at and not again:
            return await self._refuse(incoming, f"that challenge expired at {_when(waiting.expires_at)}; send the "
                                                "commands again for a new one")
        if not await asyncio.to_thread(self.store.answer, token_digest, incoming.key):
            return await self._refuse(incoming, "that challenge was answered already: its commands ran once")
        answers = []
        for number, line in waiting.lines:
            key = f"mail:{waiting.delivery[:32]}:{number}"  # the same key however often this answer is handled
            answers.append((line, await self._run(incoming.sender, waiting.service, _words(line), key)))
        await self._send(incoming, replies.re_subject(waiting.subject), replies.answered(answers))
        return Outcome("applied", f"{len(answers)} held command(s) of {incoming.sender} ran")

    async def _run(self, sender: str, service: str, words: list[str], key: str | None) -> str:
        try:
            reply = await self.site.submit(VoterCommand(sender, service, tuple(words), key))
        except CommandError as e:
            return f"error: {e}"
        if service == "change":  # a revision by mail voids votes as one from the pages does: tell those voters
            await tell_voided_by(Teller(self.store.engine, self.mailer.send, self.mail_from, self.site.settings.SITE),
                                 reply)
        return reply.text

    # -- the meta-service ----------------------------------------------------------------------------

    async def _meta(self, incoming: Incoming, commands) -> Outcome:
        answers = [(line, await asyncio.to_thread(self._meta_answer, incoming, words))
                   for _, line, words in commands or [(0, "help", ["help"])]]
        await self._send(incoming, replies.re_subject(incoming.subject), replies.answered(answers))
        return Outcome("answered", f"{len(answers)} command(s) of the site's own address answered")

    def _meta_answer(self, incoming: Incoming, words: list[str]) -> str:
        command = words[0]
        if command == "hello" and len(words) == 1:
            return f"hello {incoming.sender}, this is {self.site.settings.SITE}. `help` lists its addresses."
        if command == "version" and len(words) == 1:
            return f"civitas {version('civitas-gateway')} at {self.site.settings.SITE}"
        if command == "help" and len(words) == 1:
            with self.site.lock:
                polls = [p["name"] for p in self.site.polls.list_polls().data]
            services = [f"register@{self.domain}: the voter register (trust, doubt, your registration)",
                        *(f"{name}@{self.domain}: the poll {name}" for name in polls),
                        f"change@{self.domain}: change proposals (vote, delegate, show, list; proposing a patch is "
                        "done where the site runs)",
                        f"{self.mail_from}: hello, help, version"]
            return ("Write one command a line, as the voter shell takes them without VOTER and SERVICE "
                    "(e.g. `trust bob@example.org` to the register); `help` to a service lists its commands. "
                    "Commands that change something wait for your answer to a challenge we mail you.\n"
                    + "\n".join(services))
        return f"error: the site's own address knows {', '.join(META_COMMANDS)}, not {' '.join(words)!r}"

    # -- mail out -------------------------------------------------------------------------------------

    async def _refuse(self, incoming: Incoming, why: str) -> Outcome:
        await self._send(incoming, replies.re_subject(incoming.subject), f"Your mail was not taken: {why}. Nothing ran.")
        return Outcome("refused", why)

    async def _send(self, incoming: Incoming, subject: str, body: str, *, reply_to: str | None = None) -> None:
        footer = (f"civitas at {self.site.settings.SITE}: mail `help` to register@{self.domain}, to a poll's address "
                  f"or to {self.mail_from}")
        if incoming.reply_to and incoming.reply_to != incoming.sender:
            body = (f"(Your mail asks for answers at {incoming.reply_to} (Reply-To); they go only to the sender's "
                    f"address, {incoming.sender}, which the commands are of.)\n\n" + body)
        message = replies.message_to(incoming, mail_from=self.mail_from, subject=subject, body=body, footer=footer,
                                     reply_to=reply_to)
        try:
            await asyncio.to_thread(self.mailer.send, message)
        except MailError:
            log.warning("the answer to %s was not sent", incoming.sender, exc_info=True)
            raise  # the delivery stays unfinished and is handled again later


def _words(line: str) -> list[str]:
    words = split_line(line)
    if words and "@" in words[0]:
        raise CommandError(f"the line {line!r} names a voter first; write COMMAND [ARGS]: every command runs as you, "
                           "the sender")
    return words


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
