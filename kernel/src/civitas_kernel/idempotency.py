"""Commands sent with an idempotency key: the first reply is kept with the command's events; a retry gets it again.

A key belongs to its caller, so two voters never share one. The same caller sending the same request
(service and arguments) with a used key gets the first reply, and nothing is decided again; a
different request under that key is refused (KeyReusedError, 422), since answering it with
another request's reply would report as done what was never done. The request is kept as a digest
and the reply as JSON; both sit in the log's database, which is public, like the events themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

from civitas_kernel.application import ATTEMPTS, Evolve, PendingWrites, StreamFolder
from civitas_kernel.commands import KeyReusedError, Reply
from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.log import KeptReply

REQUEST_DOMAIN = b"civitas/request/v1\n"


def callers_key(caller: str, key: str | None) -> str | None:
    """A key as the log keeps it for a command layer that appends with idempotency_key: the caller's own, so another
    voter's command under the same key is never taken for a retry of this one."""
    return None if key is None else f"{caller}\x1f{key}"


def request_digest(service: str, args: Sequence[str]) -> bytes:
    """What a keyed command asked for, as a digest: the service and its arguments (the caller scopes the key)."""
    return hashlib.sha256(REQUEST_DOMAIN + json.dumps([service, list(args)], ensure_ascii=False).encode()).digest()


def encode_reply(reply: Reply) -> bytes:
    return json.dumps({"text": reply.text, "data": reply.data}, ensure_ascii=False, separators=(",", ":")).encode()


def decode_reply(raw: bytes) -> Reply:
    kept = json.loads(raw)
    return Reply(kept["text"], kept["data"])


def run_once(folder: StreamFolder, caller: str, key: str, request: bytes, run: Callable[[], Reply],
             fresh: Callable[[], Evolve]) -> Reply:
    """Run `run()` (a command of `caller` that appends through `folder`) once per (caller, key).

    Its events and its reply are written in one transaction of their own; a retry with the same key
    and request replays the reply kept then. fresh() makes a new state and returns its evolve, for
    when the folded state got ahead of the log (another writer came first, or the write failed).
    """
    outer = folder.pending
    if outer is not None:
        outer.flush()  # what a batch decided before this command is written first, so this one stands alone
    try:
        for _ in range(ATTEMPTS):
            kept = folder.log.kept_reply(caller, key)
            if kept is not None:
                return _replay(kept, request, key)
            folder.catch_up()  # decide on what others wrote, not only on what this process folded
            pending = folder.pending = PendingWrites(folder.log)
            try:
                reply = run()
            except BaseException:
                _write_decided(folder, pending, fresh)
                raise
            pending.replies.append(KeptReply(caller, key, request, encode_reply(reply)))
            try:
                pending.flush()
            except ConcurrencyError:
                folder.refold(fresh())  # another writer came first: decide again on what it wrote
                continue
            except BaseException:
                folder.refold(fresh())
                raise
            return reply
        raise ConcurrencyError(folder.log.site, "command_keys", 0, 1)
    finally:
        folder.pending = outer


def _replay(kept: KeptReply, request: bytes, key: str) -> Reply:
    if kept.request != request:
        raise KeyReusedError(
            f"you sent another request with the idempotency key {key!r} before; a key stands for one request, so "
            "send this one with a new key (only a retry of that same request may reuse it)")
    return decode_reply(kept.reply)


def _write_decided(folder: StreamFolder, pending: PendingWrites, fresh: Callable[[], Evolve]) -> None:
    # The command failed after deciding events (e.g. a read for its reply failed): they stand, as in a batch.
    try:
        pending.flush()
    except BaseException:
        folder.refold(fresh())
