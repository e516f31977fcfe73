"""The databases voters' queries run on: only the rows each voter may see, never the application's database.

The public groups' rows live in one private master database that follows the state as it is folded: a vote
rewrites one votes row and one score row, a post adds its rows, a group version rewrites that group's members
and scores. A query runs on a copy of the master (a serialized image), made once per change and kept, with its
ready connections, until the next change. A voter in private groups gets the public image plus their groups'
rows, kept per set of (group, revision).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable

from civitas_drafts.domain.numbers import UNIT
from civitas_drafts.domain.state import DraftState
from civitas_drafts.tables import (
    INSERT, Rows, create_indexes, create_tables, group_row, group_rows, item_rows, member_rows, paragraph_score_rows,
    score_rows,
)

Prepare = Callable[[sqlite3.Connection], None]


class PublicMaster:
    """A writable database of every public group's rows, kept current by the state's change notes."""

    def __init__(self, state: DraftState) -> None:
        self.state = state
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = OFF")
        create_tables(self.db, indexes=False)  # made after the first rows: a bulk load is faster without them
        self.indexed = False
        self.groups: set[str] = set()
        self.built = False  # until the first refresh writes every group whole, changes need no notes
        self._groups_changed: set[str] = set()
        self._posts: dict[str, None] = {}
        self._votes: dict[tuple[str, str, str, str], None] = {}
        self._weights: dict[str, dict[str, int]] = {}  # group -> the weights its score rows were written with
        self._defaults: dict[str, int] = {}
        self.revision = 0
        state.listeners.append(self._note)

    def _note(self, what: str, gid: str, post: str, paragraph: str, voter: str) -> None:
        if not self.built:
            return  # a replay's million votes would wait here as notes for nothing
        if what == "group":
            self._groups_changed.add(gid)
        elif what == "post":
            self._posts[post] = None
        else:
            self._votes[(gid, post, paragraph, voter)] = None

    def refresh(self) -> int:
        """Apply what changed since the last refresh; the revision, which moves when anything did."""
        if not self.built:
            self.built, self._groups_changed = True, set(self.state.groups)
        if not (self._groups_changed or self._posts or self._votes):
            return self.revision
        state, db = self.state, self.db
        changed, self._groups_changed = self._groups_changed, set()
        posts, self._posts = self._posts, {}
        votes, self._votes = self._votes, {}
        wrote = False
        fresh = set()  # groups whose every row is written now
        for gid in sorted(changed, key=state.group_numbers.__getitem__):
            if state.groups[gid].private:
                continue
            wrote = True
            if gid not in self.groups:
                self.groups.add(gid)
                fresh.add(gid)
                group_rows(state, gid).insert(db, state)
                group = state.groups[gid]
                self._weights[gid] = {voter: m.weight for voter, m in group.members.items()}
                self._defaults[gid] = group.moderation_default_score
            else:
                self._rewrite_group(gid)
        rows = Rows()
        for pid in posts:
            item = state.items[pid]
            if item.group in self.groups and item.group not in fresh:
                wrote = True
                db.execute("DELETE FROM post_paragraphs WHERE post_id = ?", (item.order + 1,))
                item_rows(state, item, rows)
        touched: dict[str, set[str]] = {}
        touched_paragraphs: dict[str, set[tuple[str, str]]] = {}
        for gid, pid, paragraph, voter in votes:
            if gid in self.groups and gid not in fresh:
                wrote = True
                self._write_vote(gid, pid, paragraph, voter)
                (touched_paragraphs.setdefault(gid, set()).add((pid, paragraph)) if paragraph
                 else touched.setdefault(gid, set()).add(pid))
        for gid, pids in touched.items():
            rows.tables["scores"].extend(score_rows(state, gid, sorted(pids)))
        for gid, keys in touched_paragraphs.items():
            rows.tables["paragraph_scores"].extend(paragraph_score_rows(state, gid, sorted(keys)))
        rows.insert(db, state)
        if not self.indexed:
            create_indexes(db)
            self.indexed = True
        db.commit()
        self.revision += wrote
        return self.revision

    def _rewrite_group(self, gid: str) -> None:
        """A new version: its members, and the scores its weights or default change (they apply at once)."""
        state, db, number = self.state, self.db, self.state.group_numbers[gid]
        group = state.groups[gid]
        weights = {voter: m.weight for voter, m in group.members.items()}
        before, default = self._weights.get(gid, {}), self._defaults.get(gid)
        self._weights[gid], self._defaults[gid] = weights, group.moderation_default_score
        db.execute(INSERT["groups"], group_row(state, gid))
        db.execute("DELETE FROM members WHERE group_id = ?", (number,))
        db.executemany(INSERT["members"], member_rows(state, gid))
        moved = {v for v in before.keys() | weights.keys() if before.get(v) != weights.get(v)}
        if default != group.moderation_default_score:
            db.execute("DELETE FROM scores WHERE group_id = ?", (number,))
            db.executemany(INSERT["scores"], score_rows(state, gid))
        elif moved:
            db.executemany(INSERT["scores"], score_rows(state, gid, self._posts_moved(gid, moved)))
        if moved or default != group.moderation_default_score:
            db.execute("DELETE FROM paragraph_scores WHERE group_id = ?", (number,))
            db.executemany(INSERT["paragraph_scores"], paragraph_score_rows(state, gid))

    def _posts_moved(self, gid: str, voters: set[str]) -> list[str]:
        """The posts whose score in gid a change of these voters' weights can move: voted on or written by them."""
        state, table = self.state, self.state.post_votes.get(gid)
        numbers = {state.voter_numbers[v] for v in voters if v in state.voter_numbers}
        orders = {post for n in numbers for post in (table.posts_of(n) if table else ())}
        return [pid for pid in state.in_group.get(gid, {})
                if state.items[pid].order in orders or state.items[pid].author in voters]

    def size_bytes(self) -> int:
        return self.db.execute("PRAGMA page_count").fetchone()[0] * self.db.execute("PRAGMA page_size").fetchone()[0]

    def _write_vote(self, gid: str, pid: str, paragraph: str, voter: str) -> None:
        state = self.state
        post, number = state.items[pid].order + 1, state.group_numbers[gid]
        if paragraph:
            total = state.paragraph_votes[gid][(pid, paragraph)][voter]
            paragraph_id = state.paragraph_numbers[paragraph]
        else:
            total = state.post_votes[gid].sum_of(post - 1, state.voter_numbers[voter])
            paragraph_id = None
        key = (number, post, paragraph_id, voter)
        updated = self.db.execute("UPDATE votes SET total = ? WHERE group_id = ? AND post_id = ? AND "
                                  "paragraph_id IS ? AND voter = ?", (total / UNIT, *key)).rowcount
        if not updated:
            self.db.execute("INSERT INTO votes VALUES (?, ?, ?, ?, ?)", (*key, total / UNIT))

class Images:
    """Ready connections on copies of what each voter sees; a copy is made per change, not per query."""

    def __init__(self, state: DraftState, prepare: Prepare, keep: int = 4, idle: int = 2) -> None:
        self.state, self.prepare, self.keep, self.idle = state, prepare, keep, idle
        self.master = PublicMaster(state)
        self._lock = threading.Lock()
        self._private: OrderedDict[tuple, sqlite3.Connection] = OrderedDict()  # public copy + private groups' rows
        self._ready: dict[tuple, list[sqlite3.Connection]] = {}

    def key(self, voter: str) -> tuple:
        """What a voter's copy depends on: the public revision and their private groups' revisions."""
        revision = self.master.refresh()
        private = tuple((gid, self.state.revisions.get(gid, 0)) for gid in self.state.visible_groups(voter)
                        if self.state.groups[gid].private)
        return (revision, private)

    def take(self, voter: str) -> tuple[tuple, sqlite3.Connection]:
        """A ready connection on the voter's copy, and the copy's key (give both back with give)."""
        with self._lock:
            key = self.key(voter)
            ready = self._ready.get(key)
            if ready:
                return key, ready.pop()
            connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self._source(key).backup(connection)  # SQLite's page copy: a third of serialize and deserialize
        self.prepare(connection)
        return key, connection

    def ready(self) -> int:
        """How many connections wait, ready for the next query."""
        with self._lock:
            return sum(len(connections) for connections in self._ready.values())

    def give(self, key: tuple, connection: sqlite3.Connection) -> None:
        with self._lock:
            current = key[0] == self.master.revision and (not key[1] or key in self._private)
            ready = self._ready.setdefault(key, []) if current else None
            if ready is not None and len(ready) < self.idle:
                ready.append(connection)
                return
        connection.close()

    def _source(self, key: tuple) -> sqlite3.Connection:
        for old in [k for k in self._ready if k[0] != key[0]]:
            for connection in self._ready.pop(old):
                connection.close()
        for old in [k for k in self._private if k[0] != key[0]]:
            self._private.pop(old).close()
        if not key[1]:
            return self.master.db
        source = self._private.get(key)
        if source is None:
            source = self._private[key] = sqlite3.connect(":memory:", check_same_thread=False)
            self.master.db.backup(source)
            for gid, _ in key[1]:
                group_rows(self.state, gid).insert(source, self.state)
            source.commit()
            while len(self._private) > self.keep:
                old, connection = self._private.popitem(last=False)
                connection.close()
                for ready in self._ready.pop(old, []):
                    ready.close()
        self._private.move_to_end(key)
        return source
