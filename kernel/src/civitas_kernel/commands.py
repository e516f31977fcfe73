"""What every service's command layer shares: replies, and the errors a user can cause.

A command either succeeds with a Reply or raises a CommandError before writing anything.
The voter shell prints a Reply's text; the HTTP API returns its data. Each error class maps
to one HTTP status and one exit code, in one place each (the gateway and the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str  # what the voter shell prints
    data: Any = field(default=None)  # the same, as JSON-ready data for the HTTP API


class CommandError(Exception):
    """A user's mistake; the message says what to do instead. Nothing was written."""

    status = 400
    kind: str | None = None  # the problem type HTTP answers name, where one is more telling than the status


class NotFoundError(CommandError):
    status = 404


class ForbiddenError(CommandError):
    status = 403


class ConflictError(CommandError):
    status = 409


class UnprocessableError(CommandError):
    status = 422


class KeyReusedError(UnprocessableError):
    """An idempotency key the caller already used for another request."""

    kind = "idempotency-key-reused"
