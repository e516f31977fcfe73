"""What the gateway's drafts pages and API read of drafts on the embedded site: the service's own reads and its query
sandbox, over the site's DraftCommands and under the site's lock (the gateway's RemoteDraftReads asks the same of
the drafts service over HTTP, with the same answers and the same problem documents)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError
from civitas_kernel.service.problems import Problem

from civitas_drafts import reads
from civitas_drafts.commands import DraftCommands
from civitas_drafts.query import QueryError, QueryRefused, QueryTimeout, QueryTooLarge
from civitas_drafts.tables import NOTES, TABLE_COLUMNS

# (kind, title) of each way a query can fail, the most specific first
QUERY_PROBLEMS: list[tuple[type[CommandError], str, str]] = [
    (QueryRefused, "query-refused", "Query refused"),
    (QueryTimeout, "query-timeout", "Query stopped at its time limit"),
    (QueryTooLarge, "query-too-large", "Query past the size limits"),
    (QueryError, "query-invalid", "Query cannot run"),
]


def query_problem(error: CommandError) -> Problem:
    """The problem document of a query the sandbox would not run, or stopped."""
    for kind_of, kind, title in QUERY_PROBLEMS:
        if isinstance(error, kind_of):
            return Problem(error.status, str(error), kind=kind, title=title)
    return Problem(error.status, str(error), kind="query-invalid", title="Query cannot run")


def _voter(voter: str | None) -> str:
    return normalise_address(voter) if voter else ""  # no voter: what anyone may see


class DraftReads:
    """Groups, members, posts and queries as one voter may see them (voter None: the public groups only)."""

    def __init__(self, commands: Callable[[], DraftCommands], lock: AbstractContextManager, *, at_once: int = 2,
                 wait_s: float = 5.0) -> None:
        self.commands, self.lock, self.wait_s = commands, lock, wait_s
        self.turns = threading.BoundedSemaphore(at_once)  # each running query holds a whole copy of the database

    def _read(self, what: Callable[[DraftCommands], dict | list]):
        with self.lock:
            drafts = self.commands()
            drafts.catch_up()
            return what(drafts)

    def catch_up(self) -> None:
        """Fold what the log holds of drafts (the site's /ready)."""
        self._read(lambda d: [])

    def groups(self, voter: str | None) -> list[dict]:
        me = _voter(voter)
        return self._read(lambda d: reads.groups(d.state, me))

    def group(self, voter: str | None, group: str) -> dict:
        me = _voter(voter)
        return self._read(lambda d: reads.group(d.state, me, group))

    def subject_groups(self, voter: str | None, subject: str) -> list[dict]:
        me = _voter(voter)
        return self._read(lambda d: reads.subject_groups(d.state, me, subject))

    def anchored(self, voter: str | None, group: str, *, limit: int = 200) -> dict:
        me = _voter(voter)
        return self._read(lambda d: reads.anchored(d.state, me, group, limit=limit))

    def members(self, voter: str | None, group: str) -> dict:
        me = _voter(voter)
        return self._read(lambda d: reads.members(d.state, me, group))

    def posts(self, voter: str | None, group: str, *, threaded: bool = False, hidden: bool = False,
              limit: int = 50) -> dict:
        me = _voter(voter)
        return self._read(lambda d: reads.posts(d.state, me, group, threaded=threaded, hidden=hidden, limit=limit))

    def post(self, voter: str | None, post: str, group: str | None = None) -> dict:
        me = _voter(voter)
        return self._read(lambda d: reads.post(d.state, me, post, group))

    def tables(self) -> dict:
        with self.lock:  # the site makes its DraftCommands at first use: once
            limits = self.commands().sandbox.limits
        return {"tables": TABLE_COLUMNS, "notes": NOTES, "max_rows": limits.max_rows, "deadline_s": limits.deadline_s}

    def query(self, voter: str, sql: str) -> dict:
        """One voter's SELECT (blocking: call it from a thread); a refusal or a stop is a Problem with its kind."""
        me = _voter(voter)
        if not self.turns.acquire(timeout=self.wait_s):
            raise Problem(429, "too many queries are running; send yours again in a moment", kind="queries-busy",
                          title="Too many queries at once", headers={"Retry-After": "1"})
        try:
            with self.lock:  # the lock the state is folded under: the query database follows the fold
                drafts = self.commands()
                drafts.catch_up()
                ticket = drafts.sandbox.open(me, sql)
            answer = drafts.sandbox.finish(ticket)  # on its own copy: commands go on meanwhile
        except CommandError as error:
            raise query_problem(error) from None
        finally:
            self.turns.release()
        return {**answer.as_dict(), "elapsed_ms": round(answer.elapsed_ms, 2)}
