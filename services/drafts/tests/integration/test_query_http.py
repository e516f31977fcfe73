"""POST /query over real HTTP: one voter's read-only SELECT answers rows, columns and truncated; every refusal and
cut-off is a problem document with a 4xx status, and the service goes on answering."""

from __future__ import annotations

import threading

import httpx
import pytest

from ..service import ok, problem

ALICE, BOB, CAROL, DAVE = "alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def hall(service, posts: int = 0) -> tuple[str, list[str]]:
    gid = ok(service.command(ALICE, "group", "create", "Town", "hall", "--weight", "5", "--others-weight", "1"))["id"]
    if not posts:
        return gid, []
    with service.client() as client:
        results = service.commands(client, [(ALICE, "post", gid, f"Idea {n}.", f"Why {n}.") for n in range(posts)])
    return gid, [ok(r)["post"] for r in results]


def test_a_query_answers_columns_rows_and_whether_it_was_cut(start_drafts):
    service = start_drafts(QUERY_MAX_ROWS=3)
    gid, posts = hall(service, 5)
    answer = service.query(BOB, "SELECT p.hash, s.score FROM posts p JOIN scores s ON s.post_id = p.id "
                                "ORDER BY p.id").json()
    assert answer["columns"] == ["hash", "score"] and answer["truncated"] is True
    assert answer["rows"] == [[pid, 5.0] for pid in posts[:3]]
    whole = service.query(BOB, f"SELECT name, x'00ff' AS raw FROM groups WHERE hash = '{gid}'").json()
    assert whole == {"columns": ["name", "raw"], "rows": [["Town hall", "AP8="]], "truncated": False,
                     "elapsed_ms": whole["elapsed_ms"]}


def test_a_query_sees_each_command_as_soon_as_it_is_answered(start_drafts):
    service = start_drafts()
    gid, _ = hall(service)
    top = f"SELECT count(*) FROM posts JOIN groups g ON g.id = posts.group_id WHERE g.hash = '{gid}'"
    for n in range(1, 4):
        ok(service.command(ALICE, "post", gid, f"Point {n}."))
        assert service.query(DAVE, top).json()["rows"] == [[n]]


def test_a_private_group_is_in_its_members_queries_only(start_drafts):
    service = start_drafts()
    gid = ok(service.command(ALICE, "group", "create", "Council", "--private"))["id"]
    ok(service.command(ALICE, "post", gid, "Secret plan."))
    names = "SELECT g.name, pa.text FROM groups g JOIN posts p ON p.group_id = g.id " \
            "JOIN post_paragraphs pp ON pp.post_id = p.id JOIN paragraphs pa ON pa.id = pp.paragraph_id"
    assert service.query(ALICE, names).json()["rows"] == [["Council", "Secret plan."]]
    assert service.query(DAVE, names).json()["rows"] == []


REFUSED = [
    ("SELECT * FROM sqlite_master", 403, "query-refused"),
    ("WITH posts AS (SELECT * FROM sqlite_master) SELECT * FROM posts", 403, "query-refused"),
    ("SELECT * FROM pragma_table_info('posts')", 403, "query-refused"),
    ("SELECT * FROM pragma_database_list", 403, "query-refused"),
    ("SELECT load_extension('/tmp/x')", 403, "query-refused"),
    ("ATTACH DATABASE ':memory:' AS other", 403, "query-refused"),
    ("SELECT 1; ATTACH DATABASE ':memory:' AS other", 400, "query-invalid"),
    ("INSERT INTO groups (id) VALUES (99)", 403, "query-refused"),
    ("WITH x AS (SELECT 1) DELETE FROM posts", 403, "query-refused"),
    ("UPDATE scores SET score = 100", 403, "query-refused"),
    ("CREATE TABLE mine (x)", 403, "query-refused"),
    ("DROP TABLE posts", 403, "query-refused"),
    ("PRAGMA query_only = 0", 403, "query-refused"),
    ("SELECT 1; SELECT 2", 400, "query-invalid"),
    ("SELECT nothing FROM nowhere", 400, "query-invalid"),
    (ENDLESS, 400, "query-timeout"),
    ("WITH RECURSIVE s(x) AS (SELECT 'ab' UNION ALL SELECT x || x FROM s) SELECT length(x) FROM s", 400,
     "query-too-large"),
    ("SELECT printf('%2000000000d', 1)", 400, "query-too-large"),
    ("SELECT zeroblob(2000000000)", 400, "query-too-large"),
    ("SELECT count(*) FROM post_paragraphs a, post_paragraphs b, post_paragraphs c, post_paragraphs d, "
     "post_paragraphs e", 400, "query-timeout"),
    ("SELECT 1 " + " " * 100_000, 400, "query-too-large"),
    ("SELECT CAST(x'ff' AS TEXT)", 400, "query-invalid"),
]


@pytest.fixture
def busy_hall(start_drafts):
    service = start_drafts(QUERY_DEADLINE_S=0.3)
    hall(service, 30)  # 60 paragraphs of posts: five of them crossed are 777 million rows
    return service


def test_every_refusal_and_cut_off_is_a_clear_problem_and_the_service_answers_on(busy_hall):
    titles = {}
    for sql, status, kind in REFUSED:
        body = problem(busy_hall.query(DAVE, sql), status, kind)
        titles.setdefault(kind, set()).add(body["title"])
        assert busy_hall.query(DAVE, "SELECT count(*) FROM posts").json()["rows"] == [[30]], sql
    assert titles == {"query-refused": {"Query refused"}, "query-invalid": {"Query cannot run"},
                      "query-timeout": {"Query stopped at its time limit"},
                      "query-too-large": {"Query past the size limits"}}


def test_requests_that_are_not_queries_are_problems_too(start_drafts):
    service = start_drafts()
    with service.client() as client:
        problem(client.post("/query", json={"voter": DAVE}), 422, "invalid-request")
        problem(client.post("/query", content=b"{not json", headers={"content-type": "application/json"}), 422)
        problem(client.post("/query", json={"voter": DAVE, "sql": "x" * 1_000_001}), 422, "invalid-request")
        problem(client.post("/query", json={"voter": "not an address", "sql": "SELECT 1"}), 400)
        problem(client.post("/query", json={"voter": DAVE, "sql": ""}), 422)


def test_the_query_database_is_built_at_startup_not_at_the_first_query(start_drafts):
    first = start_drafts()
    gid, posts = hall(first, 3)
    first.stop()
    again = start_drafts(log_url=first.log_url)  # a restart over the same log of record
    images = again.app.state.owner.commands.sandbox.images
    assert images.master.built and images.master.indexed and images.ready() == 1  # before anyone asked
    answer = again.query(DAVE, "SELECT hash FROM posts ORDER BY id").json()
    assert answer["rows"] == [[pid] for pid in posts]


def test_a_query_waits_while_a_batch_of_commands_folds_what_is_not_written_yet(start_drafts):
    service = start_drafts()
    gid, _ = hall(service)
    owner = service.app.state.owner
    count = "SELECT count(*) FROM posts"
    answers: list[httpx.Response] = []
    asking = threading.Thread(target=lambda: answers.append(service.query(DAVE, count)))
    with owner.batch():  # what the group writer does with a batch of commands: fold now, write at the end
        owner.commands.run(ALICE, ["post", gid, "Not written yet."])
        asking.start()
        asking.join(0.5)
        assert asking.is_alive() and not answers  # the query waits for the lock the state is folded under
    asking.join(30)
    assert answers[0].json()["rows"] == [[1]]
    assert service.get("/streams").json()[0]["seq"] == 2  # the group and the post: written before it answered


def test_commands_and_queries_at_once_see_a_settled_state(start_drafts):
    """Commands fold while queries take their connections, under the one lock: every answer is whole and the last
    one shows every vote."""
    service = start_drafts(QUERY_AT_ONCE=2, QUERY_WAIT_S=30)
    gid, (pid,) = hall(service, 1)
    score = f"SELECT s.score FROM scores s JOIN posts p ON p.id = s.post_id WHERE p.hash = '{pid}'"
    statuses: list[int] = []
    voters = [f"v{n}@example.org" for n in range(40)]

    def vote(chunk: list[str]) -> None:
        with service.client() as client:
            for voter in chunk:
                for result in service.commands(client, [(voter, "group", "join", gid), (voter, "vote", "up", pid)]):
                    ok(result)

    def ask(times: int) -> None:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for _ in range(times):
                response = client.post("/query", json={"voter": DAVE, "sql": score})
                statuses.append(response.status_code)
                assert 5.0 <= response.json()["rows"][0][0] <= 45.0

    threads = [threading.Thread(target=vote, args=(voters[n::4],)) for n in range(4)]
    threads += [threading.Thread(target=ask, args=(25,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * 50
    assert service.query(DAVE, score).json()["rows"] == [[45.0]]  # alice's post (5) and forty joiners' +1
    assert service.get(f"/posts/{pid}").json()["score"] == "45"


def test_queries_past_the_ones_running_are_refused_not_queued_forever(start_drafts):
    service = start_drafts(QUERY_AT_ONCE=1, QUERY_WAIT_S=0, QUERY_DEADLINE_S=2)
    hall(service)
    endless: list[httpx.Response] = []

    def run_endless() -> None:
        while not endless or endless[-1].status_code == 429:  # until it has its turn, which the probes below contend for
            endless.append(service.query(DAVE, ENDLESS))

    runner = threading.Thread(target=run_endless)
    runner.start()
    answers = []
    with service.client() as client:
        while runner.is_alive():
            answers.append(client.post("/query", json={"voter": DAVE, "sql": "SELECT 1"}))
    runner.join()
    problem(endless[-1], 400, "query-timeout")
    busy = [a for a in answers if a.status_code == 429]
    assert busy and all(a.status_code in (200, 429) for a in answers)
    assert problem(busy[0], 429, "queries-busy")["title"] == "Too many queries at once"
    assert busy[0].headers["retry-after"] == "1"
    assert service.query(DAVE, "SELECT 1").json()["rows"] == [[1]]
