"""Drafts figures: scoring a large group, and the read-only query API on it.

A group of 10,000 members (weights 1 to 10, one in fifty banned) with 100,000 posts and 1,000,000 votes,
folded from draft events as a replay would fold them. Then:
- the scores of all its posts (the score rule over current weights), goal <= 1 s, and the top 50 by the domain
  (the whole ranking derived, then the same revision's again: remembered);
- building the query database of what a voter sees (once; then it follows each change);
- median and p99 answer time of "the group's top 50 posts with their paragraphs", and the same query's time
  just after a vote and just after a member joins (the query database follows, and a fresh copy is made);
- how long an endless query runs before the deadline stops it.
Then the same events are written to a SQLite log of record and the drafts service's app is served over real HTTP in
this process: its startup (fold and query database), and POST /query's median and p99 for the same query, the first
query after startup, the query just after a vote through POST /commands, the endless query's answer, and the read
route of a group's 50 best posts (as read again, and just after a vote).
Run: .venv/bin/python bench/drafts.py [--quick] [--no-http]
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import Timer, percentile, save, show  # noqa: E402

from civitas_drafts.domain.decisions import first_version, next_version  # noqa: E402
from civitas_drafts.domain.groups import Member  # noqa: E402
from civitas_drafts.domain.ids import paragraph_hash, post_id  # noqa: E402
from civitas_drafts.http import create_drafts_app  # noqa: E402
from civitas_drafts.settings import DraftsSettings  # noqa: E402
from civitas_kernel.events import NewEvent  # noqa: E402
from civitas_kernel.kafka import KafkaSettings  # noqa: E402
from civitas_kernel.service.keys import shared_site_key  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402
from civitas_kernel.testing.serving import ServerThread  # noqa: E402
from civitas_drafts.domain.numbers import UNIT  # noqa: E402
from civitas_drafts.domain.state import DraftState  # noqa: E402
from civitas_drafts.domain.views import group_scores, ranking  # noqa: E402
from civitas_drafts.query import QueryLimits, QuerySandbox, QueryTimeout  # noqa: E402
from civitas_schema.v1 import draft_pb2  # noqa: E402

TOP_POSTS = """
    SELECT p.hash, p.author, s.score, json_group_array(pa.text) AS paragraphs
    FROM (SELECT post_id, score FROM scores JOIN posts ON posts.id = scores.post_id
          WHERE scores.group_id = (SELECT id FROM groups WHERE hash = '{gid}') AND shown
          ORDER BY score DESC, posts.hash LIMIT 50) s
    JOIN posts p ON p.id = s.post_id
    JOIN post_paragraphs pp ON pp.post_id = p.id AND pp.status = 'live'
    JOIN paragraphs pa ON pa.id = pp.paragraph_id
    GROUP BY p.id ORDER BY s.score DESC, p.hash
"""
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def draft_events(members: int, posts: int, votes: int, seed: int = 19) -> Iterator[tuple[str, object, str]]:
    """The draft events of one big group, (type, message, actor), the same on every run."""
    rng = random.Random(seed)
    founder = "founder@bench.example.org"
    voters = [f"m{i}@bench.example.org" for i in range(members - 1)]
    version = first_version(founder, "Big hall", "founder", weight=10, others_weight=1, made_at_us=1)
    weights = [-rng.randint(1, 5) if rng.random() < 0.02 else rng.randint(1, 10) for _ in voters]
    version = version.__class__(**{**version.__dict__, "members": version.members + tuple(
        Member(v, f"m{i}", w) for i, (v, w) in enumerate(zip(voters, weights)))})
    everyone = [founder, *voters]
    yield "civitas.v1.DraftGroupVersioned", version.to_message(), founder
    gid = version.hash
    ids = []
    for i in range(posts):
        author = everyone[rng.randrange(members)]
        texts = [f"Post {i}, paragraph {k}: " + " ".join(["words"] * rng.randint(3, 30))
                 for k in range(rng.randint(1, 4))]
        message = draft_pb2.DraftPosted(group=gid, author=author, paragraphs=[paragraph_hash(t) for t in texts],
                                        texts=texts, posted_at_us=i + 2)
        ids.append(post_id(message))
        yield "civitas.v1.DraftPosted", message, author
    values = [UNIT, UNIT, UNIT, -UNIT, -UNIT, UNIT // 2]
    for _ in range(votes):
        voter = everyone[rng.randrange(members)]
        message = draft_pb2.DraftVoted(group=gid, voter=voter, post=ids[rng.randrange(posts)],
                                       value_micro=values[rng.randrange(len(values))])
        yield "civitas.v1.DraftVoted", message, voter


def fold_group(members: int, posts: int, votes: int) -> tuple[DraftState, str, float]:
    """The draft events of one big group, folded through DraftState.evolve; the state, group id and seconds."""
    state = DraftState()
    started = time.perf_counter()
    for event_type, message, actor in draft_events(members, posts, votes):
        state.evolve(event_type, message, actor)
    elapsed = time.perf_counter() - started
    gid = next(iter(state.groups))
    counted = len(state.post_votes[gid])
    assert len(state.items) == posts and len(state.groups[gid].members) == members and counted > posts, "refused"
    return state, gid, elapsed


def write_log(url: str, key_file: Path, members: int, posts: int, votes: int) -> float:
    """The same events appended to a log of record, 20,000 an append; the seconds it took."""
    log = open_log(url, "localhost", shared_site_key(key_file))
    started, seq, batch = time.perf_counter(), 0, []
    for event_type, message, actor in draft_events(members, posts, votes):
        batch.append(NewEvent.of(message, actor))
        if len(batch) == 20_000:
            seq, batch = log.append("draft", batch, expected_seq=seq).last_seq, []
    if batch:
        log.append("draft", batch, expected_seq=seq)
    log.engine.dispose()
    return time.perf_counter() - started


def over_http(members: int, posts: int, votes: int, gid: str, expected: list[str], runs: int) -> dict:
    """The drafts service's app over a SQLite log of these events, served over real HTTP in this process."""
    for noisy in ("aiokafka", "civitas.outbox"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)  # no broker here: its retries say nothing of queries
    with tempfile.TemporaryDirectory(prefix="civitas-bench-drafts-") as home:
        url = f"sqlite:///{home}/drafts.sqlite"
        write_s = write_log(url, Path(home) / "site-key.pem", members, posts, votes)
        settings = DraftsSettings(SERVICE="drafts", HOME=home, SITE="localhost", LOG_URL=url, PUBLISH_WAIT_S=0)
        app = create_drafts_app(settings, kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
        started = time.perf_counter()
        serving = ServerThread().serving(app, start_timeout_s=900)
        with serving as base, httpx.Client(base_url=base, timeout=60) as client:
            startup_s = time.perf_counter() - started
            reader, sql = "reader@bench.example.org", TOP_POSTS.format(gid=gid)

            def ask(text: str = sql) -> tuple[float, httpx.Response]:
                with Timer() as t:
                    response = client.post("/query", json={"voter": reader, "sql": text})
                return t.seconds * 1000, response

            first_ms, first = ask()
            assert first.status_code == 200, first.text
            assert [row[0] for row in first.json()["rows"]] == expected, "the service and the domain disagree"
            answers = [ask()[0] for _ in range(runs)]
            after_vote = []
            for i in range(5):
                vote = {"voter": f"m{i}@bench.example.org", "service": "drafts", "args": ["vote", "0.5", expected[i]]}
                (result,) = client.post("/commands", json={"commands": [vote]}).json()["results"]
                assert "status" not in result, result
                after_vote.append(ask()[0])
            read_after_vote: dict[str, list[float]] = {"flat": [], "threaded": []}
            for i, view in enumerate(("flat", "threaded") * 5, 5):
                vote = {"voter": f"m{i}@bench.example.org", "service": "drafts", "args": ["vote", "0.5", expected[i]]}
                (result,) = client.post("/commands", json={"commands": [vote]}).json()["results"]
                assert "status" not in result, result
                with Timer() as t:
                    listed = client.get(f"/groups/{gid}/posts", params={"view": view, "voter": reader})
                assert listed.status_code == 200
                read_after_vote[view].append(t.seconds * 1000)
            reads: dict[str, list[float]] = {"flat": [], "threaded": []}
            for view in ("flat", "threaded") * 5:
                with Timer() as t:
                    listed = client.get(f"/groups/{gid}/posts", params={"view": view, "voter": reader})
                assert listed.status_code == 200 and len(listed.json()["posts"]) == 50
                reads[view].append(t.seconds * 1000)
            endless = []
            for _ in range(3):
                elapsed, response = ask(ENDLESS)
                assert response.status_code == 400 and response.json()["type"].endswith("query-timeout")
                endless.append(elapsed)
    return {
        "http_log_written_s (1 SQLite append per 20,000 events)": round(write_s, 1),
        "http_service_startup_s (fold + query database)": round(startup_s, 1),
        "http_first_query_ms": round(first_ms, 1),
        "http_top50_query_ms_median": round(statistics.median(answers), 1),
        "http_top50_query_ms_p99": round(percentile(answers, 99), 1),
        "http_top50_query_after_a_vote_ms_median": round(statistics.median(after_vote), 1),
        "http_endless_query_answered_after_ms_max": round(max(endless), 1),
        "http_group_posts_top50_ms_median (GET, flat)": round(statistics.median(reads["flat"]), 1),
        "http_group_posts_top50_ms_median (GET, threaded)": round(statistics.median(reads["threaded"]), 1),
        "http_group_posts_top50_after_a_vote_ms_median (GET, flat)": round(
            statistics.median(read_after_vote["flat"]), 1),
        "http_group_posts_top50_after_a_vote_ms_median (GET, threaded)": round(
            statistics.median(read_after_vote["threaded"]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="leave out the service over HTTP")
    args = parser.parse_args()
    members, posts, votes = (1_000, 10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    state, gid, fold_s = fold_group(members, posts, votes)

    score_runs = []
    for _ in range(5):
        with Timer() as t:
            points = group_scores(state, gid)
        score_runs.append(t.seconds)
    assert len(points) == posts
    with Timer() as t:
        ranked = ranking(state, gid, limit=50)
    rank_s = t.seconds  # derives the whole ranking: the first read after each change pays this
    cached_rank = []
    for _ in range(20):
        with Timer() as t:
            ranking(state, gid, limit=50)
        cached_rank.append(t.seconds * 1000)

    sandbox = QuerySandbox(state, QueryLimits())
    reader = "reader@bench.example.org"
    sql = TOP_POSTS.format(gid=gid)
    with Timer() as t:
        first = sandbox.run(reader, sql)
    build_s = t.seconds
    image_mb = sandbox.images.master.size_bytes() / 1e6
    assert [row[0] for row in first.rows] == [r.post.id for r in ranked[:50]], "the query and the domain disagree"
    answers = []
    for _ in range(50 if args.quick else 200):
        with Timer() as t:
            sandbox.run(reader, sql)
        answers.append(t.seconds * 1000)
    after_vote, after_join = [], []
    rng = random.Random(7)
    voters = list(state.groups[gid].members)
    for i in range(5):
        voter = voters[rng.randrange(len(voters))]
        state.evolve("civitas.v1.DraftVoted", draft_pb2.DraftVoted(
            group=gid, voter=voter, post=ranked[rng.randrange(50)].post.id, value_micro=UNIT), voter)
        with Timer() as t:
            sandbox.run(reader, sql)
        after_vote.append(t.seconds * 1000)
        joiner = f"joiner{i}@bench.example.org"
        state.evolve("civitas.v1.DraftGroupVersioned", next_version(
            state.groups[gid], joiner, members=(Member(joiner, f"joiner{i}", 1),), made_at_us=i).to_message(), joiner)
        with Timer() as t:
            sandbox.run(reader, sql)
        after_join.append(t.seconds * 1000)
    assert len(state.groups[gid].members) == members + 5
    deadlines = []
    for _ in range(3):
        with Timer() as t:
            try:
                sandbox.run(reader, ENDLESS)
            except QueryTimeout:
                pass
        deadlines.append(t.seconds)

    expected = [r.post.id for r in ranked[:50]]
    del state, sandbox, points, ranked, first
    gc.collect()  # the service folds its own copy
    http = {} if args.no_http else over_http(members, posts, votes, gid, expected, 50 if args.quick else 200)
    figures = {
        "members": members, "posts": posts, "votes": votes,
        "fold_events_per_s": round((1 + posts + votes) / fold_s),
        "scores_ms_median": round(statistics.median(score_runs) * 1000, 1),
        "scores_ms_max": round(max(score_runs) * 1000, 1),
        "top50_ranking_ms (domain: derives the group's whole ranking)": round(rank_s * 1000, 1),
        "top50_ranking_again_ms_median (domain: the same revision, remembered)": round(
            statistics.median(cached_rank), 3),
        "first_query_s (builds the query database)": round(build_s, 2), "query_image_mb": round(image_mb, 1),
        "top50_query_ms_median": round(statistics.median(answers), 1),
        "top50_query_ms_p99": round(percentile(answers, 99), 1),
        "top50_query_after_a_vote_ms_median": round(statistics.median(after_vote), 1),
        "top50_query_after_a_join_ms_median": round(statistics.median(after_join), 1),
        "endless_query_stopped_after_ms_max": round(max(deadlines) * 1000, 1),
        **http,
    }
    show(f"drafts: a group of {members:,} members, {posts:,} posts, {votes:,} votes", ["figure", "value"],
         [[k, v] for k, v in figures.items() if k not in ("members", "posts", "votes")])
    save("drafts", figures)


if __name__ == "__main__":
    main()
