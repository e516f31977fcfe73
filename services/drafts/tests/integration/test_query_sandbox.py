"""The read-only query API against the attacks it must withstand, on a real SQLite engine."""

from __future__ import annotations

import threading
import time

import pytest

from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.views import ranking
from civitas_drafts.query import QueryError, QueryLimits, QueryRefused, QuerySandbox, QueryTimeout, QueryTooLarge

from ..builders import ALICE, BOB, CAROL, Board

OUTSIDER = "olga@example.org"
TOP_POSTS = """
    SELECT p.hash, s.score, group_concat(pa.text, '\n') AS text
    FROM scores s JOIN groups g ON g.id = s.group_id JOIN posts p ON p.id = s.post_id
    JOIN post_paragraphs pp ON pp.post_id = p.id AND pp.status = 'live' JOIN paragraphs pa ON pa.id = pp.paragraph_id
    WHERE g.name = 'Town hall' AND s.shown AND p.amends IS NULL
    GROUP BY p.id ORDER BY s.score DESC, p.hash LIMIT 50
"""


@pytest.fixture(scope="module")
def board() -> Board:
    """A public hall of 30 members, 60 posts and 1,800 votes; a private council with one secret post."""
    board = Board()
    hall = board.create(ALICE, weight=5, others_weight=1)
    voters = [f"m{i}@example.org" for i in range(30)]
    board.change(hall, ALICE, members=tuple(Member(v, f"m{i}", 1 + i % 4) for i, v in enumerate(voters)))
    posts = [board.post(hall, voters[i % 30], f"Post {i}.", f"Second paragraph of {i}.") for i in range(60)]
    for i, pid in enumerate(posts):
        for v in voters:
            board.vote(hall, v, pid, 1 if (i + len(v)) % 3 else -1)
    council = board.create(BOB, private=True, name="Council")
    board.post(council, BOB, "The secret budget.")
    board.hall, board.council = hall, council
    return board


@pytest.fixture(scope="module")
def sandbox(board) -> QuerySandbox:
    return QuerySandbox(board.state, QueryLimits(deadline_s=0.5))


def test_a_typical_query_answers_what_the_domain_ranks(board, sandbox):
    answer = sandbox.run(CAROL, TOP_POSTS)
    expected = [r for r in ranking(board.state, board.hall)][:50]
    assert [row[0] for row in answer.rows] == [r.post.id for r in sorted(
        expected, key=lambda r: (-r.score, r.post.id))]
    assert answer.columns == ["hash", "score", "text"] and not answer.truncated
    assert answer.rows[0][2].count("\n") == 1


@pytest.mark.parametrize("table", ["groups", "members", "posts", "paragraphs", "votes", "scores"])
def test_a_private_groups_rows_reach_its_members_only(board, sandbox, table):
    where = {"groups": "name = 'Council'", "members": f"voter = '{BOB}'", "paragraphs": "text LIKE '%secret%'",
             "posts": f"author = '{BOB}'", "votes": f"voter = '{BOB}'", "scores": "group_id = 2"}[table]
    sql = f"SELECT count(*) FROM {table} WHERE {where}"
    assert sandbox.run(OUTSIDER, sql).rows == [[0]]
    assert sandbox.run(BOB, sql).rows[0][0] >= 1


@pytest.mark.parametrize("sql, message", [
    ("WITH posts AS (SELECT * FROM sqlite_master) SELECT * FROM posts", "reading 'sqlite_master'"),
    ("WITH scores AS (SELECT name AS score FROM sqlite_schema) SELECT score FROM scores", "reading 'sqlite_"),
    ("SELECT * FROM sqlite_master", "reading 'sqlite_master'"),
    ("SELECT count(*) FROM sqlite_master", "reading 'sqlite_master'"),
    ("SELECT * FROM sqlite_temp_master", "reading 'sqlite_temp_master'"),
    ("SELECT * FROM pragma_table_info('posts')", "pragma functions"),
    ("SELECT * FROM pragma_database_list", "pragma functions"),
    ("WITH x AS (SELECT * FROM pragma_function_list) SELECT count(*) FROM x", "pragma functions"),
    ("SELECT load_extension('/tmp/evil.so')", "function 'load_extension'"),
    ("SELECT fts3_tokenizer('simple')", "function 'fts3_tokenizer'"),
    ("SELECT sqlite_version()", "function 'sqlite_version'"),
    ("SELECT json_patch('{}', '{}')", "function 'json_patch'"),
])
def test_reading_outside_the_callers_tables_is_refused(sandbox, sql, message):
    with pytest.raises(QueryRefused, match=message):
        sandbox.run(OUTSIDER, sql)


WRITES = [
    "ATTACH DATABASE '{tmp}/stolen.db' AS stolen",
    "VACUUM INTO '{tmp}/copy.db'",
    "INSERT INTO posts (id) VALUES (999)",
    "REPLACE INTO scores VALUES (1, 1, 100, 1)",
    "UPDATE scores SET score = 1000",
    "DELETE FROM votes",
    "WITH x AS (SELECT 1) INSERT INTO posts (id) SELECT 1000 FROM x",
    "WITH x AS (SELECT 1) DELETE FROM votes",
    "WITH x AS (SELECT 1) UPDATE scores SET score = 1000",
    "CREATE TABLE t (x)", "CREATE TEMP TABLE t (x)", "CREATE VIEW v AS SELECT 1", "CREATE INDEX i ON votes (voter)",
    "CREATE TRIGGER t AFTER INSERT ON votes BEGIN SELECT 1; END", "DROP TABLE votes", "ALTER TABLE votes ADD x",
    "BEGIN", "SAVEPOINT s", "ANALYZE", "REINDEX", "VACUUM", "PRAGMA query_only = 0", "PRAGMA writable_schema = 1",
    "DETACH DATABASE main",
]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_of_every_kind_and_attach_are_refused(board, sandbox, tmp_path, sql):
    before = sandbox.run(ALICE, "SELECT count(*), sum(score) FROM scores").rows
    with pytest.raises(QueryRefused, match="only SELECT runs here|ATTACH"):
        sandbox.run(ALICE, sql.format(tmp=tmp_path))
    assert sandbox.run(ALICE, "SELECT count(*), sum(score) FROM scores").rows == before
    assert list(tmp_path.iterdir()) == []


def test_the_authorizer_alone_refuses_every_write(board, sandbox, tmp_path):
    """Behind the first-word check, the connection itself refuses anything but reading."""
    import sqlite3

    from civitas_drafts.query import _Guard

    key, connection = sandbox.images.take(ALICE)
    try:
        for sql in WRITES:
            connection.set_authorizer(_Guard())
            with pytest.raises(sqlite3.DatabaseError, match="not authorized|authorization denied|prohibited"):
                connection.execute(sql.format(tmp=tmp_path))
            connection.set_authorizer(None)
            assert connection.execute("SELECT count(*) FROM votes").fetchone() == (1_800,)
    finally:
        sandbox.images.give(key, connection)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "SELECT 1; DROP TABLE votes", "SELECT 1;; SELECT 2"])
def test_only_one_statement_runs(sandbox, sql):
    with pytest.raises(QueryError, match="one statement at a time"):
        sandbox.run(ALICE, sql)
    assert sandbox.run(ALICE, "SELECT 1; -- a comment after it").rows == [[1]]


def assert_cut_off(sandbox, sql, error, within: float, match: str | None = None) -> None:
    started = time.monotonic()
    with pytest.raises(error, match=match):
        sandbox.run(ALICE, sql)
    assert time.monotonic() - started < within
    assert sandbox.run(ALICE, "SELECT count(*) FROM posts").rows == [[60]]  # and the next query is answered


def test_an_endless_recursive_query_is_stopped_at_the_deadline(sandbox):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    assert_cut_off(sandbox, endless, QueryTimeout, 3.0, "ran past its 0.5 s limit")
    rows = sandbox.run(ALICE, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n")
    assert len(rows.rows) == 1_000 and rows.truncated  # an endless answer is cut at the row limit


def test_a_cartesian_product_of_large_tables_is_stopped_at_the_deadline(sandbox):
    assert_cut_off(sandbox, "SELECT count(*) FROM votes a, votes b, votes c", QueryTimeout, 3.0)
    # 3.4 million rows sorted take about the deadline itself on a quiet machine, so sort 6 billion: the sort of what
    # was gathered is one step and may overrun a little, the gathering is stopped
    assert_cut_off(sandbox, "SELECT a.voter FROM votes a, votes b, votes c ORDER BY a.total * b.total * c.total, "
                            "a.voter LIMIT 1", QueryTimeout, 4.0)


@pytest.mark.parametrize("sql", [
    "WITH RECURSIVE d(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM d) SELECT length(s) FROM d",
    "SELECT printf('%.*c', 2000000000, 'x')",
    "SELECT format('%2000000000d', 1)",
    "SELECT printf(replace(hex(zeroblob(100000)), '00', '%.9999c'), 'x')",  # many small widths: too many in all
    "SELECT zeroblob(2000000)",
    "SELECT replace(hex(zeroblob(400000)), '0', 'abcdefghij')",
])
def test_values_past_the_length_limit_are_refused_at_once(sandbox, sql):
    assert_cut_off(sandbox, sql, QueryTooLarge, 3.0)


def test_functions_that_compare_at_every_position_answer_in_linear_time(sandbox):
    big = "replace(hex(zeroblob(450000)), '0', 'a')"  # 900,000 times 'a'
    needle = "replace(hex(zeroblob(200000)), '0', 'a') || 'b'"
    started = time.monotonic()
    answer = sandbox.run(ALICE, f"SELECT instr({big}, {needle}), length(replace({big}, {needle}, 'x')), "
                                f"length(ltrim({big}, {needle})), instr('hello', 'll'), replace('abcabc', 'b', 'XY'), "
                                "trim('xxhixx', 'x'), rtrim('hi  ', ' ')")
    assert answer.rows == [[0, 900_000, 0, 3, "aXYcaXYc", "hi", "hi"]]
    assert time.monotonic() - started < 4.0  # SQLite's own take about ten seconds on these, past any deadline


def test_answers_are_cut_at_a_thousand_rows_and_at_the_byte_cap(board):
    sandbox = QuerySandbox(board.state, QueryLimits(max_answer_bytes=50_000))
    rows = sandbox.run(ALICE, "SELECT voter, total FROM votes")
    assert len(rows.rows) == 1_000 and rows.truncated
    wide = sandbox.run(ALICE, "SELECT printf('%.5000c', 'x') FROM votes")
    assert wide.truncated and 9 <= len(wide.rows) <= 10
    assert not sandbox.run(ALICE, "SELECT voter FROM votes LIMIT 999").truncated


def test_blobs_come_back_as_base64_and_every_value_as_json(sandbox):
    answer = sandbox.run(ALICE, "SELECT x'00ff10', 1e999, -1e999, NULL, 1.5, 'text'")
    assert answer.rows == [["AP8Q", "inf", "-inf", None, 1.5, "text"]]


def test_a_syntax_error_says_what_sqlite_says(sandbox):
    with pytest.raises(QueryError, match="near \"SELEC\""):
        sandbox.run(ALICE, "WITH x AS (SELECT 1) SELEC * FROM x")
    with pytest.raises(QueryRefused, match="start the query with SELECT"):
        sandbox.run(ALICE, "/* hello */ EXPLAIN SELECT 1")
    with pytest.raises(QueryTooLarge, match="at most 100,000 characters"):
        sandbox.run(ALICE, "SELECT 1" + " " * 100_000)


def test_the_site_answers_while_an_endless_query_runs(board):
    sandbox = QuerySandbox(board.state, QueryLimits(deadline_s=3.0))
    sandbox.run(ALICE, "SELECT 1")  # the image is built
    failures = []

    def endless() -> None:
        try:
            sandbox.run(ALICE, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n")
        except QueryTimeout as e:
            failures.append(e)

    thread = threading.Thread(target=endless)
    thread.start()
    time.sleep(0.1)
    answer = sandbox.run(CAROL, "SELECT count(*) FROM posts")
    still_running = thread.is_alive()
    thread.join()
    assert answer.rows == [[60]] and still_running and len(failures) == 1


def test_an_image_and_its_connections_are_kept_until_a_visible_group_changes():
    board = Board()
    board.hall, board.council = board.create(ALICE, others_weight=1), board.create(BOB, private=True, name="Council")
    sandbox = QuerySandbox(board.state)
    key, connection = sandbox.images.take(OUTSIDER)
    sandbox.images.give(key, connection)
    assert sandbox.images.take(OUTSIDER) == (key, connection)  # the same ready connection
    sandbox.images.give(key, connection)
    board.post(board.council, BOB, "Another secret.")  # outside what OUTSIDER sees
    assert sandbox.images.key(OUTSIDER) == key and sandbox.images.key(BOB) != key
    pid = board.post(board.hall, CAROL, "A new public post.")
    assert sandbox.images.key(OUTSIDER) != key
    assert sandbox.run(OUTSIDER, f"SELECT count(*) FROM posts WHERE hash = '{pid}'").rows == [[1]]
    assert sandbox.run(BOB, "SELECT count(*) FROM paragraphs WHERE text = 'Another secret.'").rows == [[1]]
