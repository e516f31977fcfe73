"""The documented tables a voter's query reads, and their rows derived from the folded state."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from civitas_drafts.domain.numbers import UNIT
from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.scores import score
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.views import group_scores, post_scores
from civitas_drafts.domain.votes import VoteTable

# Every id is an integer of the query database, every hash a lasting id that other sites share.
SCHEMA = {
    "groups": "id INTEGER PRIMARY KEY, hash TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, "
              "private INTEGER NOT NULL, others_members_weight INTEGER NOT NULL, "
              "moderation_default_score REAL NOT NULL, versions INTEGER NOT NULL, subject TEXT, founder TEXT",
    "members": "group_id INTEGER NOT NULL, voter TEXT NOT NULL, nickname TEXT NOT NULL, weight INTEGER NOT NULL, "
               "PRIMARY KEY (group_id, voter)",
    "posts": "id INTEGER PRIMARY KEY, hash TEXT NOT NULL, group_id INTEGER NOT NULL, author TEXT NOT NULL, "
             "amends INTEGER, reply_to INTEGER, reply_to_paragraph INTEGER, posted_at_us INTEGER NOT NULL, "
             "revisions INTEGER NOT NULL, anchor_file TEXT, anchor_hunk TEXT, anchor_revision TEXT",
    "paragraphs": "id INTEGER PRIMARY KEY, hash TEXT NOT NULL, text TEXT NOT NULL",
    "post_paragraphs": "post_id INTEGER NOT NULL, position INTEGER NOT NULL, paragraph_id INTEGER NOT NULL, "
                       "status TEXT NOT NULL, replaces INTEGER, replaced_by INTEGER, PRIMARY KEY (post_id, position)",
    "votes": "group_id INTEGER NOT NULL, post_id INTEGER NOT NULL, paragraph_id INTEGER, voter TEXT NOT NULL, "
             "total REAL NOT NULL",
    "scores": "group_id INTEGER NOT NULL, post_id INTEGER NOT NULL, score REAL NOT NULL, shown INTEGER NOT NULL, "
              "PRIMARY KEY (group_id, post_id)",
    "paragraph_scores": "group_id INTEGER NOT NULL, post_id INTEGER NOT NULL, paragraph_id INTEGER NOT NULL, "
                        "score REAL NOT NULL, PRIMARY KEY (group_id, post_id, paragraph_id)",
}
WITHOUT_ROWID = {"members", "post_paragraphs", "scores", "paragraph_scores"}
INDEXES = [
    "CREATE INDEX posts_by_group ON posts (group_id, posted_at_us)",
    "CREATE INDEX posts_by_reply ON posts (reply_to)",
    "CREATE INDEX votes_by_post ON votes (post_id, group_id)",
    "CREATE INDEX scores_by_rank ON scores (group_id, score DESC)",
]
NOTES = (
    "A post's alternatives (others' amendments) are rows of posts with amends = the post's id. status is live, "
    "deleted or replaced; a live paragraph with replaces stands in for that one. votes.total is the sum of a "
    "member's votes (paragraph_id NULL: on the post); a score counts each member's total clamped to +-1 times their "
    "weight. A paragraph without votes scores its group's default. groups.subject is what a group discusses (like "
    "change:12; anyone may name any, the proposer's group founded first is the proposal's discussion); a post with "
    "anchor_file answers that file's hunk anchor_hunk in the revision whose content hash is anchor_revision. "
    "Each answer is at most 1,000 rows."
)
TABLE_COLUMNS = {table: [c.split()[0] for c in columns.split(", PRIMARY KEY")[0].split(", ")]
                 for table, columns in SCHEMA.items()}
INSERT = {table: f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * len(columns))})"
          for table, columns in TABLE_COLUMNS.items()}


def create_tables(db: sqlite3.Connection, *, indexes: bool = True) -> None:
    for table, columns in SCHEMA.items():
        db.execute(f"CREATE TABLE {table} ({columns})" + (" WITHOUT ROWID" if table in WITHOUT_ROWID else ""))
    if indexes:
        create_indexes(db)


def create_indexes(db: sqlite3.Connection) -> None:
    for index in INDEXES:
        db.execute(index)


@dataclass
class Rows:
    """Rows for each table, and the paragraphs they name."""

    tables: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in SCHEMA if t != "paragraphs"})
    paragraphs: set[str] = field(default_factory=set)

    def insert(self, db: sqlite3.Connection, state: DraftState) -> None:
        for table, rows in self.tables.items():
            db.executemany(INSERT[table], rows)
        db.executemany("INSERT OR IGNORE INTO paragraphs VALUES (?, ?, ?)", paragraph_rows(state, self.paragraphs))


def paragraph_rows(state: DraftState, hashes) -> list[tuple]:
    numbers, texts = state.paragraph_numbers, state.paragraphs
    return sorted((numbers[h], h, texts[h]) for h in hashes)


def group_row(state: DraftState, gid: str) -> tuple:
    group = state.group(gid)
    return (state.group_numbers[gid], gid, group.head, group.name, int(group.private), group.others_members_weight,
            group.moderation_default_score / UNIT, group.versions, group.subject or None, group.founder or None)


def member_rows(state: DraftState, gid: str) -> list[tuple]:
    number = state.group_numbers[gid]
    return [(number, m.voter, m.nickname, m.weight) for m in state.group(gid).members.values()]


def item_rows(state: DraftState, item: Item, rows: Rows) -> None:
    """A post's (or alternative's) row and its paragraphs' rows."""
    para, items = state.paragraph_numbers, state.items
    reply = items.get(item.reply_to)
    rows.tables["posts"].append((
        item.order + 1, item.id, state.group_numbers[item.group], item.author,
        items[item.amends].order + 1 if item.amends else None, reply.order + 1 if reply else None,
        para.get(item.reply_to_paragraph), item.posted_at_us, item.revisions,
        *((a.file, a.hunk, a.revision) if (a := item.anchor) else (None, None, None))))
    for position, e in enumerate(item.entries, 1):
        rows.tables["post_paragraphs"].append((item.order + 1, position, para[e.paragraph], e.status,
                                               para.get(e.replaces), para.get(e.replaced_by)))
        rows.paragraphs.add(e.paragraph)


def score_rows(state: DraftState, gid: str, pids=None) -> list[tuple]:
    """Score rows of a group: every post in it, or only pids."""
    number, items = state.group_numbers[gid], state.items
    points = group_scores(state, gid) if pids is None else post_scores(state, gid, pids)
    return [(number, items[pid].order + 1, value / UNIT, int(value > 0)) for pid, value in points.items()]


def paragraph_score_rows(state: DraftState, gid: str, keys=None) -> list[tuple]:
    """Score rows of the voted paragraphs of a group: all, or only keys (post id, paragraph hash)."""
    group, number = state.group(gid), state.group_numbers[gid]
    weights = {voter: m.weight for voter, m in group.members.items()}
    votes = state.paragraph_votes.get(gid, {})
    return [(number, state.items[pid].order + 1, state.paragraph_numbers[paragraph],
             score(group.moderation_default_score, weights, votes[(pid, paragraph)]) / UNIT)
            for pid, paragraph in (votes if keys is None else keys)]


def group_rows(state: DraftState, gid: str) -> Rows:
    """Every row of one group."""
    rows = Rows()
    t = rows.tables
    number = state.group_numbers[gid]
    t["groups"].append(group_row(state, gid))
    t["members"].extend(member_rows(state, gid))
    for pid in state.in_group.get(gid, {}):
        if state.items[pid].group == gid:  # one voted in from another group has its rows with that group
            item_rows(state, state.items[pid], rows)
    voters = list(state.voter_numbers)  # by number
    t["votes"].extend((number, post + 1, None, voters[voter], total / UNIT)
                      for post, voter, total in (state.post_votes.get(gid) or VoteTable()).rows())
    for (pid, paragraph), sums in state.paragraph_votes.get(gid, {}).items():
        t["votes"].extend((number, state.items[pid].order + 1, state.paragraph_numbers[paragraph], voter,
                           total / UNIT) for voter, total in sums.items())
    t["scores"].extend(score_rows(state, gid))
    t["paragraph_scores"].extend(paragraph_score_rows(state, gid))
    return rows
