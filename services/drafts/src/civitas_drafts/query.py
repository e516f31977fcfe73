"""The read-only query sandbox: one voter's SELECT over a fresh in-memory copy of the rows they may see.

The application's database is never attached to the connection that runs the voter's SQL: that connection
holds only an image built from the folded state (materialize.py). On it, an authorizer allows SELECT, reading
the documented tables and calling allow-listed functions, and nothing else, judging each read by its table and
database and never by the view or CTE name SQLite passes along (a CTE can carry any name); the connection is
query_only, its limits are SQLite's hardened ones, a progress handler stops it at a deadline, and the answer is
cut at a number of rows and of bytes.
"""

from __future__ import annotations

import base64
import math
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from civitas_kernel.commands import CommandError, ForbiddenError

from civitas_drafts.domain.state import DraftState
from civitas_drafts.materialize import Images
from civitas_drafts.tables import NOTES, SCHEMA, TABLE_COLUMNS
from civitas_drafts.sandbox_functions import SafeFunctions

ALLOWED_FUNCTIONS = frozenset(
    # core
    "abs char coalesce concat concat_ws format glob hex ifnull iif instr length like likelihood likely lower ltrim "
    "max min nullif octet_length printf quote random randomblob replace round rtrim sign soundex substr substring "
    "trim typeof unhex unicode unlikely upper zeroblob "
    # date and time
    "date time datetime julianday strftime unixepoch timediff current_date current_time current_timestamp "
    # aggregate
    "avg count group_concat string_agg sum total "
    # window
    "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value "
    # JSON
    "json json_array json_array_length json_error_position json_extract json_insert json_object "
    "json_pretty json_remove json_replace json_set json_type json_valid json_quote json_group_array "
    "json_group_object -> ->>".split()
)
TABLE_VALUED = frozenset({"json_each", "json_tree"})  # eponymous virtual tables: read like tables
INTERNAL = ("sqlite_", "pragma_")  # the schema, statistics and pragma tables: never read
PRAGMA_TABLE = re.compile(r"\bpragma_\w+", re.I)
FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n?|/\*.*?\*/)\s*)*(\w+)", re.S)


@dataclass(frozen=True)
class QueryLimits:
    deadline_s: float = 1.0
    max_rows: int = 1_000
    max_answer_bytes: int = 2_000_000
    # SQLite's hardened limits (https://sqlite.org/security.html), a little wider where real queries need it
    sqlite: dict[int, int] = field(default_factory=lambda: {
        sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,
        sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
        sqlite3.SQLITE_LIMIT_ATTACHED: 0,
        sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 20,
        sqlite3.SQLITE_LIMIT_COLUMN: 100,
        sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 10,
        sqlite3.SQLITE_LIMIT_VDBE_OP: 25_000,
        sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 16,
        sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50,
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 10,
        sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
    })


class QueryError(CommandError):
    """A query that cannot run as written."""


class QueryRefused(ForbiddenError):
    """A query that reads, calls or does something the sandbox does not allow."""


class QueryTimeout(QueryError):
    """A query that ran past its deadline and was stopped."""


class QueryTooLarge(QueryError):
    """A query that built a value past the length limit."""


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float

    def as_dict(self) -> dict:
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated}

    def as_text(self) -> str:
        lines = ["\t".join(self.columns)] + ["\t".join("" if v is None else str(v) for v in row) for row in self.rows]
        if self.truncated:
            lines.append("(cut: more rows than an answer holds; narrow the query)")
        return "\n".join(lines)


class _Guard:
    """The authorizer of one query; remembers why it refused, for the error message."""

    def __init__(self) -> None:
        self.refusal, self.specific = "", False

    def __call__(self, action: int, arg1: str | None, arg2: str | None, database: str | None, _view: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT or action == sqlite3.SQLITE_RECURSIVE:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            name = (arg1 or "").lower()
            if database in ("main", None) and (name in SCHEMA or name in TABLE_VALUED):
                return sqlite3.SQLITE_OK
            if arg2 == "" and database is None and not name.startswith(INTERNAL):
                return sqlite3.SQLITE_OK  # count(*) over a CTE: no value is read, and the CTE's own reads are judged
            if name.startswith("pragma_"):
                self._refuse("pragma functions are not allowed here", specific=True)
            else:
                self._refuse(f"reading {arg1!r} is not allowed; the tables are {', '.join(SCHEMA)}", specific=True)
        elif action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() in ALLOWED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            self._refuse(f"the function {arg2!r} is not allowed here", specific=True)
        elif action == sqlite3.SQLITE_PRAGMA:
            self._refuse("pragma functions are not allowed here", specific=True)
        elif action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            self._refuse("ATTACH is not allowed here: a query reads only the tables it is given", specific=True)
        else:
            self._refuse("only SELECT runs here: a query cannot write, create, attach or change anything")
        return sqlite3.SQLITE_DENY

    def _refuse(self, message: str, specific: bool = False) -> None:
        """The first specific reason wins over a general one (a pragma table first asks to write the schema)."""
        if not self.refusal or (specific and not self.specific):
            self.refusal, self.specific = message, specific


@dataclass(frozen=True)
class Ticket:
    """A query let in: its text, and the ready connection it runs on (taken under the fold's lock)."""

    sql: str
    key: tuple
    connection: sqlite3.Connection


class QuerySandbox:
    def __init__(self, state: DraftState, limits: QueryLimits = QueryLimits(), *, ready_copies: int = 2,
                 private_copies: int = 4) -> None:
        self.state, self.limits = state, limits
        self.images = Images(state, self._prepare, keep=private_copies, idle=ready_copies)

    def prepare(self) -> None:
        """Build the query database and a ready connection on it now, so the first query does not wait for them."""
        key, connection = self.images.take("")
        self.images.give(key, connection)

    def tables_help(self) -> str:
        tables = "\n".join(f"  {table}({', '.join(columns)})" for table, columns in TABLE_COLUMNS.items())
        return f"query SQL: one SELECT over these tables, holding what you can see:\n{tables}\n{NOTES}"

    def run(self, voter: str, sql: str) -> Answer:
        """Answer one SELECT over the rows voter may see, or raise a QueryError saying what to change."""
        return self.finish(self.open(voter, sql))

    def open(self, voter: str, sql: str) -> Ticket:
        """Check the text and take a connection on what voter sees: this reads the folded state, so hold the lock
        the state is folded under; finish needs no lock."""
        self._check_text(sql)
        key, connection = self.images.take(voter)
        return Ticket(sql, key, connection)

    def finish(self, ticket: Ticket) -> Answer:
        """Run a ticket's query on its own connection, then give the connection back."""
        sql, key, connection = ticket.sql, ticket.key, ticket.connection
        started = time.monotonic()
        deadline = started + self.limits.deadline_s
        guard, functions = _Guard(), SafeFunctions(self.limits.sqlite[sqlite3.SQLITE_LIMIT_LENGTH])
        functions.register(connection)
        connection.set_authorizer(guard)
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1_000)
        try:
            return self._answer(connection, sql, guard, functions, started)
        finally:
            connection.set_authorizer(None)
            connection.set_progress_handler(None, 0)
            functions.close()
            self.images.give(key, connection)

    def _check_text(self, sql: str) -> None:
        if len(sql) > self.limits.sqlite[sqlite3.SQLITE_LIMIT_SQL_LENGTH]:
            raise QueryTooLarge(f"a query is at most {self.limits.sqlite[sqlite3.SQLITE_LIMIT_SQL_LENGTH]:,} "
                                "characters")
        if "\x00" in sql:
            raise QueryError("a query cannot contain a NUL character")
        first = FIRST_WORD.match(sql)
        if first is None or first.group(1).upper() not in ("SELECT", "WITH", "VALUES"):
            raise QueryRefused("only SELECT runs here: start the query with SELECT, WITH or VALUES")

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """Lock down a connection on a fresh image, once; each query then sets its own guard and deadline."""
        # eponymous virtual tables register themselves on first use, which the guard would refuse
        connection.execute("SELECT 1 FROM json_each('[]'), json_tree('[]')").fetchall()
        for pragma in ("query_only = 1", "trusted_schema = 0", "temp_store = memory", "cache_size = -16000"):
            connection.execute(f"PRAGMA {pragma}")
        for limit, value in self.limits.sqlite.items():
            connection.setlimit(limit, value)

    def _answer(self, connection: sqlite3.Connection, sql: str, guard: _Guard, functions: SafeFunctions,
                started: float) -> Answer:
        limits, cursor = self.limits, None
        try:
            cursor = connection.execute(sql)
            if cursor.description is None:
                raise QueryRefused("only SELECT runs here: write one SELECT")
            columns = [d[0] for d in cursor.description]
            rows, size, truncated = [], 0, False
            while not truncated:
                batch = cursor.fetchmany(100)
                if not batch:
                    break
                for raw in batch:
                    row = [_json_value(v) for v in raw]
                    size += sum(_size(v) for v in row)
                    if len(rows) == limits.max_rows or size > limits.max_answer_bytes:
                        truncated = True
                        break
                    rows.append(row)
        except (sqlite3.ProgrammingError, sqlite3.Warning) as e:
            if "one statement" in str(e):
                raise QueryError("one statement at a time: remove what follows the first ';'") from None
            raise QueryError(f"the query cannot run: {e}") from None
        except sqlite3.DatabaseError as e:
            raise self._explain(e, sql, guard, functions) from None
        finally:
            if cursor is not None:
                cursor.close()  # a cut answer's statement must not stay open on a connection kept for reuse
        return Answer(columns, rows, truncated, (time.monotonic() - started) * 1000)

    def _explain(self, error: sqlite3.DatabaseError, sql: str, guard: _Guard, functions: SafeFunctions
                 ) -> CommandError:
        message = str(error)
        if guard.refusal and not guard.specific and PRAGMA_TABLE.search(sql):
            return QueryRefused("pragma functions are not allowed here")  # refused as it registered itself
        if guard.refusal:
            return QueryRefused(guard.refusal)
        if functions.problem:
            return QueryTooLarge(functions.problem)
        if message == "interrupted":
            return QueryTimeout(f"the query ran past its {self.limits.deadline_s:g} s limit and was stopped; "
                                "narrow it (a LIMIT, a WHERE, fewer joins)")
        if "too big" in message or "too long" in message:
            return QueryTooLarge(f"the query built a value or statement past the limits ({message}); "
                                 f"a value is at most {self.limits.sqlite[sqlite3.SQLITE_LIMIT_LENGTH]:,} bytes")
        if "too many" in message or "too deep" in message or "too complex" in message:
            return QueryTooLarge(f"the query is past the limits: {message}; simplify it")
        return QueryError(f"the query cannot run: {message}")


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str) else 8
