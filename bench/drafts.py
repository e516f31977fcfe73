"""Drafts figures: scoring a large group, and the read-only query API on it.

A group of 10,000 members (weights 1 to 10, one in fifty banned) with 100,000 posts and 1,000,000 votes,
folded from draft events as a replay would fold them. Then:
- the scores of all its posts (the score rule over current weights), goal <= 1 s, and the top 50 by the domain;
- building the query database of what a voter sees (once; then it follows each change);
- median and p99 answer time of "the group's top 50 posts with their paragraphs", and the same query's time
  just after a vote and just after a member joins (the query database follows, and a fresh copy is made);
- how long an endless query runs before the deadline stops it.
Run: .venv/bin/python bench/drafts.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Timer, percentile, save, show  # noqa: E402

from civitas_drafts.domain.decisions import first_version, next_version  # noqa: E402
from civitas_drafts.domain.groups import Member  # noqa: E402
from civitas_drafts.domain.ids import paragraph_hash  # noqa: E402
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


def fold_group(members: int, posts: int, votes: int, seed: int = 19) -> tuple[DraftState, str, float]:
    """The draft events of one big group, folded through DraftState.evolve; the state, group id and seconds."""
    rng = random.Random(seed)
    state = DraftState()
    founder = "founder@bench.example.org"
    voters = [f"m{i}@bench.example.org" for i in range(members - 1)]
    version = first_version(founder, "Big hall", "founder", weight=10, others_weight=1, made_at_us=1)
    weights = [-rng.randint(1, 5) if rng.random() < 0.02 else rng.randint(1, 10) for _ in voters]
    version = version.__class__(**{**version.__dict__, "members": version.members + tuple(
        Member(v, f"m{i}", w) for i, (v, w) in enumerate(zip(voters, weights)))})
    everyone = [founder, *voters]
    started = time.perf_counter()
    state.evolve("civitas.v1.DraftGroupVersioned", version.to_message(), founder)
    gid = version.hash
    ids = []
    for i in range(posts):
        author = everyone[rng.randrange(members)]
        texts = [f"Post {i}, paragraph {k}: " + " ".join(["words"] * rng.randint(3, 30))
                 for k in range(rng.randint(1, 4))]
        message = draft_pb2.DraftPosted(group=gid, author=author, paragraphs=[paragraph_hash(t) for t in texts],
                                        texts=texts, posted_at_us=i + 2)
        state.evolve("civitas.v1.DraftPosted", message, author)
        ids.append(next(reversed(state.items)))
    values = [UNIT, UNIT, UNIT, -UNIT, -UNIT, UNIT // 2]
    for _ in range(votes):
        voter = everyone[rng.randrange(members)]
        message = draft_pb2.DraftVoted(group=gid, voter=voter, post=ids[rng.randrange(posts)],
                                       value_micro=values[rng.randrange(len(values))])
        state.evolve("civitas.v1.DraftVoted", message, voter)
    elapsed = time.perf_counter() - started
    counted = len(state.post_votes[gid])
    assert len(state.items) == posts and len(state.groups[gid].members) == members and counted > posts, "refused"
    return state, gid, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
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
    rank_s = t.seconds

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

    figures = {
        "members": members, "posts": posts, "votes": votes,
        "fold_events_per_s": round((1 + posts + votes) / fold_s),
        "scores_ms_median": round(statistics.median(score_runs) * 1000, 1),
        "scores_ms_max": round(max(score_runs) * 1000, 1),
        "top50_ranking_ms (domain, for the shell)": round(rank_s * 1000, 1),
        "first_query_s (builds the query database)": round(build_s, 2), "query_image_mb": round(image_mb, 1),
        "top50_query_ms_median": round(statistics.median(answers), 1),
        "top50_query_ms_p99": round(percentile(answers, 99), 1),
        "top50_query_after_a_vote_ms_median": round(statistics.median(after_vote), 1),
        "top50_query_after_a_join_ms_median": round(statistics.median(after_join), 1),
        "endless_query_stopped_after_ms_max": round(max(deadlines) * 1000, 1),
    }
    show(f"drafts: a group of {members:,} members, {posts:,} posts, {votes:,} votes", ["figure", "value"],
         [[k, v] for k, v in figures.items() if k not in ("members", "posts", "votes")])
    save("drafts", figures)


if __name__ == "__main__":
    main()
