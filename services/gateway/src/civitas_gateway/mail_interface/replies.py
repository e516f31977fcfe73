"""The mail interface's own mail: replies, challenges and refusals, in UTF-8, threaded to the message they answer."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from civitas_gateway.mail_interface.reading import Incoming

LANGUAGES = ("en",)  # the translations that exist: English only, so far


def language_note(incoming: Incoming) -> str:
    """A line saying the reply is in English when the sender wrote in another language; "" otherwise."""
    wanted = incoming.language.split(",")[0].strip()
    if not wanted or wanted.split("-")[0] in LANGUAGES:
        return ""
    return f"(Your mail's Content-Language is {wanted}; this site answers in English only, for now.)\n\n"


def answered(lines: list[tuple[str, str]]) -> str:
    """Each command quoted, followed by what the voter shell answers to it."""
    return "\n\n".join(f"> {line}\n{answer}" for line, answer in lines)


def message_to(incoming: Incoming, *, mail_from: str, subject: str, body: str, footer: str,
               reply_to: str | None = None) -> EmailMessage:
    """A message to the sender (never to a Reply-To: that could be anyone's), in reply to `incoming`."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = incoming.sender
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or None)
    if incoming.message_id:
        message["In-Reply-To"] = incoming.message_id
        message["References"] = incoming.message_id
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer it
    message.set_content(language_note(incoming) + body.rstrip() + "\n\n-- \n" + footer + "\n", charset="utf-8")
    message["Content-Language"] = LANGUAGES[0]  # after set_content, which clears the Content-* headers
    return message


def re_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}" if subject else "Re: your commands"
