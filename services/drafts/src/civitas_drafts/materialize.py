"""The tables a voter's query reads: only the rows of the groups that voter can see, in a database of their own.

Rows are derived per group and kept while the group's revision stands (any event that changes what a group
shows makes a new revision); a whole database is built once per set of (group, revision) and kept as a
serialized image, so a query costs one copy of the image, not a rebuild.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass, field

from civitas_drafts.domain.numbers import UNIT
from civitas_drafts.domain.scores import score as rule_score
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.views import group_scores

# Documented for voters by `query --help`; every id is an integer of this database, every hash a lasting id.
SCHEMA = {
    "groups": "id INTEGER PRIMARY KEY, hash TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, "
              "private INTEGER NOT NULL, others_members_weight INTEGER NOT NULL, "
              "moderation_default_score REAL NOT NULL, versions INTEGER NOT NULL",
    "members": "group_id INTEGER NOT NULL, voter TEXT NOT NULL, nickname TEXT NOT NULL, weight INTEGER NOT NULL, "
               "PRIMARY KEY (group_id, voter)",
    "posts": "id INTEGER PRIMARY KEY, hash TEXT NOT NULL, group_id INTEGER NOT NULL, author TEXT NOT NULL, "
             "amends INTEGER, reply_to INTEGER, reply_to_paragraph INTEGER, posted_at_us INTEGER NOT NULL, "
             "revisions INTEGER NOT NULL",
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
    "weight. A paragraph without votes scores its group's default. Each answer is at most 1,000 rows."
)
TABLE_COLUMNS = {table: [c.split()[0] for c in columns.split(", PRIMARY KEY")[0].split(", ")]
                 for table, columns in SCHEMA.items()}


@dataclass
class Rows:
    """One group's rows for each table, and the paragraphs they name."""

    tables: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in SCHEMA if t != "paragraphs"})
    paragraphs: set[str] = field(default_factory=set)


def group_rows(state: DraftState, gid: str) -> Rows:
    rows = Rows()
    t = rows.tables
    group, number = state.group(gid), state.group_numbers[gid]
    default = group.moderation_default_score
    para = state.paragraph_numbers
    post_number = {pid: state.items[pid].order + 1 for pid in state.in_group.get(gid, {})}
    t["groups"].append((number, gid, group.head, group.name, int(group.private), group.others_members_weight,
                        default / UNIT, group.versions))
    t["members"].extend((number, m.voter, m.nickname, m.weight) for m in group.members.values())
    for pid in state.in_group.get(gid, {}):
        item = state.items[pid]
        if item.group != gid:
            continue  # voted in from another group: its rows belong to that group
        reply = state.items.get(item.reply_to)
        t["posts"].append((item.order + 1, item.id, number, item.author,
                           state.items[item.amends].order + 1 if item.amends else None,
                           reply.order + 1 if reply else None, para.get(item.reply_to_paragraph), item.posted_at_us,
                           item.revisions))
        for position, e in enumerate(item.entries, 1):
            t["post_paragraphs"].append((item.order + 1, position, para[e.paragraph], e.status,
                                         para.get(e.replaces), para.get(e.replaced_by)))
            rows.paragraphs.add(e.paragraph)
    for pid, sums in state.post_votes.get(gid, {}).items():
        t["votes"].extend((number, post_number[pid], None, voter, total / UNIT) for voter, total in sums.items())
    for pid, points in group_scores(state, gid).items():
        t["scores"].append((number, post_number[pid], points / UNIT, int(points > 0)))
    weights = {voter: m.weight for voter, m in group.members.items()}
    for (pid, paragraph), sums in state.paragraph_votes.get(gid, {}).items():
        t["votes"].extend((number, post_number[pid], para[paragraph], voter, total / UNIT)
                          for voter, total in sums.items())
        t["paragraph_scores"].append((number, post_number[pid], para[paragraph],
                                      rule_score(default, weights, sums) / UNIT))
    return rows


class Images:
    """Serialized databases of visible rows, one per set of (group, revision), the last few kept."""

    def __init__(self, state: DraftState, keep: int = 8) -> None:
        self.state, self.keep = state, keep
        self._rows: dict[str, tuple[int, Rows]] = {}
        self._images: OrderedDict[tuple, bytes] = OrderedDict()

    def image(self, groups: list[str]) -> bytes:
        key = tuple((gid, self.state.revisions.get(gid, 0)) for gid in groups)
        found = self._images.get(key)
        if found is None:
            found = self._images[key] = self._build([self._group_rows(gid, rev) for gid, rev in key])
            while len(self._images) > self.keep:
                self._images.popitem(last=False)
        self._images.move_to_end(key)
        return found

    def _group_rows(self, gid: str, revision: int) -> Rows:
        cached = self._rows.get(gid)
        if cached is None or cached[0] != revision:
            cached = self._rows[gid] = (revision, group_rows(self.state, gid))
        return cached[1]

    def _build(self, parts: list[Rows]) -> bytes:
        db = sqlite3.connect(":memory:")
        try:
            for table, columns in SCHEMA.items():
                db.execute(f"CREATE TABLE {table} ({columns})" + (" WITHOUT ROWID" if table in WITHOUT_ROWID else ""))
            for table in TABLE_COLUMNS:
                if table == "paragraphs":
                    continue
                marks = ", ".join("?" * len(TABLE_COLUMNS[table]))
                for part in parts:
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", part.tables[table])
            hashes = set().union(*(p.paragraphs for p in parts)) if parts else set()
            numbers, texts = self.state.paragraph_numbers, self.state.paragraphs
            db.executemany("INSERT INTO paragraphs VALUES (?, ?, ?)",
                           sorted((numbers[h], h, texts[h]) for h in hashes))
            for index in INDEXES:
                db.execute(index)
            db.commit()
            return db.serialize()
        finally:
            db.close()
