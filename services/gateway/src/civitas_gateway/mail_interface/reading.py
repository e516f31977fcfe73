"""Reading a mail that arrived: who sent it, to which address, its text, its command lines, and what the relay's
Authentication-Results header says of it (pure: bytes in, facts out)."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError

AUTOMATIC = ("mailer-daemon", "postmaster", "noreply", "no-reply")  # senders a robot must never answer (loops)


class Unreadable(Exception):
    """The mail cannot be read as commands; the message says why, in words for the reply."""


@dataclass(frozen=True)
class Incoming:
    raw: bytes
    message: EmailMessage
    recipient: str  # the address at this site it was delivered to (Delivered-To, else the first of To/Cc here)
    sender: str  # From, normalised; "" when it has none readable
    reply_to: str  # Reply-To as written ("" if none): never where answers go
    message_id: str
    subject: str
    language: str  # Content-Language, lower-case ("" if none)
    automatic: bool  # an automatic message (RFC 3834 Auto-Submitted, a bounce, a list): never answered
    results: dict[str, tuple[str, str]] = field(default_factory=dict)  # method -> (result, domain), trusted relay only

    @property
    def key(self) -> str:
        """What makes a delivery the same delivery again: its Message-ID (else its bytes) and its recipient."""
        identity = self.message_id or hashlib.sha256(self.raw).hexdigest()
        return hashlib.sha256(f"{identity}\n{self.recipient}".encode()).hexdigest()


def read(raw: bytes, *, domain: str, recipient: str | None = None, authserv_id: str | None = None) -> Incoming:
    message = email.message_from_bytes(raw, policy=policy.default)
    sender = _address(str(message.get("From", "")))
    to = recipient or _delivered_to(message, domain)
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    automatic = (auto not in ("", "no") or precedence in ("bulk", "list", "junk") or not sender
                 or sender.split("@")[0] in AUTOMATIC or bool(message.get("List-Id")))
    return Incoming(
        raw=raw, message=message, recipient=to, sender=sender, reply_to=_address(str(message.get("Reply-To", ""))),
        message_id=str(message.get("Message-ID", "")).strip(), subject=str(message.get("Subject", "")).strip(),
        language=str(message.get("Content-Language", "")).strip().lower(), automatic=automatic,
        results=auth_results(message, authserv_id) if authserv_id else {},
    )


def _address(header: str) -> str:
    _, address = parseaddr(header)
    try:
        return normalise_address(address) if address else ""
    except CommandError:
        return ""


def _delivered_to(message: EmailMessage, domain: str) -> str:
    """The topmost Delivered-To (our own inbound server writes it), else the first To or Cc address at `domain`."""
    delivered = message.get("Delivered-To")
    if delivered:
        return parseaddr(str(delivered))[1].lower()  # a service address, e.g. register@localhost: not a voter's
    for _, address in getaddresses([str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])]):
        if address.lower().endswith("@" + domain):
            return address.lower()
    return ""


# -- the text ------------------------------------------------------------------------------------


def text_of(message: EmailMessage) -> str:
    """The plain-text body, decoded from its charset; Unreadable when there is none (e.g. HTML only)."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        kinds = sorted({p.get_content_type() for p in message.walk() if not p.is_multipart()})
        raise Unreadable(f"it has no plain-text part (only {', '.join(kinds) or 'nothing'}); send the commands as "
                         "plain text, one a line")
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError) as e:
        raise Unreadable(f"its text cannot be read in the charset it names ({part.get_content_charset()}: {e}); "
                         "send it as UTF-8") from None


SIGNATURE = re.compile(r"^--\s*$")


def command_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every command: blank lines, quoted lines (`>`) and the signature (after `-- `) are not."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if SIGNATURE.match(line):
            break
        line = line.strip()
        if line and not line.startswith(">") and not line.startswith("#"):
            found.append((number, line))
    return found


# -- what the relay says (RFC 8601) --------------------------------------------------------------


def auth_results(message: EmailMessage, authserv_id: str) -> dict[str, tuple[str, str]]:
    """method -> (result, domain) from the topmost Authentication-Results header of the trusted relay only; headers
    from anyone else are ignored, since a sender can write any header."""
    for value in message.get_all("Authentication-Results", []):
        parts = [p.strip() for p in str(value).split(";")]
        if not parts or parts[0].split()[0].lower() != authserv_id.lower():
            continue
        results = {}
        for part in parts[1:]:
            match = re.match(r"(?i)(spf|dkim|dmarc)\s*=\s*(\w+)(.*)", part)
            if match and match[1].lower() not in results:
                method, result, rest = match[1].lower(), match[2].lower(), match[3]
                where = re.search(r"(?i)(?:smtp\.mailfrom|header\.d|header\.from|header\.i)\s*=\s*(\S+)", rest)
                domain = where[1].rsplit("@", 1)[-1].lower().strip(">").rstrip(";") if where else ""
                results[method] = (result, domain)
        return results
    return {}


def spam_verdict(incoming: Incoming, authserv_id: str | None) -> str | None:
    """None when the basic spam check passes (or none is configured), else why not, in words."""
    if not authserv_id:
        return None
    if not incoming.results:
        return f"the relay {authserv_id} gave no Authentication-Results for it"
    domain = incoming.sender.rpartition("@")[2]
    for method in ("dkim", "spf"):
        result, where = incoming.results.get(method, ("none", ""))
        if result == "pass" and where and (domain == where or domain.endswith("." + where)):
            return None
    said = ", ".join(f"{m}={r}" + (f" ({d})" if d else "") for m, (r, d) in sorted(incoming.results.items()))
    return f"neither SPF nor DKIM passed for {domain} at {authserv_id} ({said})"
