"""The draft stream folded: groups, posts and their paragraphs, and every member's votes.

Each check_* raises when an event breaks a rule; evolve applies only what passes, so an event that a rule
refuses (from a site that did not check it) has no effect anywhere, in the same way on every site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from civitas_kernel.addresses import AddressError, normalise_address
from civitas_kernel.commands import CommandError
from civitas_schema.v1 import draft_pb2

from civitas_drafts.domain.errors import DraftError, GroupNotFound, NotAllowed, PostNotFound
from civitas_drafts.domain.groups import Group, Version, advance, check_first, check_next, found, personal_group
from civitas_drafts.domain.ids import PERSONAL_PREFIX, alternative_id, paragraph_hash, post_id
from civitas_drafts.domain.numbers import UNIT, check_vote_value
from civitas_drafts.domain.posts import Anchor, Entry, Item, amended, check_anchor, check_text, first_entries
from civitas_drafts.domain.rankings import Rankings
from civitas_drafts.domain.votes import VoteTable

VERSIONED = draft_pb2.DraftGroupVersioned.DESCRIPTOR.full_name
POSTED = draft_pb2.DraftPosted.DESCRIPTOR.full_name
AMENDED = draft_pb2.DraftAmended.DESCRIPTOR.full_name
VOTED = draft_pb2.DraftVoted.DESCRIPTOR.full_name
MEMBER_MOVED = draft_pb2.DraftMemberMoved.DESCRIPTOR.full_name



@dataclass
class DraftState:
    groups: dict[str, Group] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # version hash -> group id
    items: dict[str, Item] = field(default_factory=dict)  # posts and alternatives by id
    paragraphs: dict[str, str] = field(default_factory=dict)  # hash -> text, each stored once
    post_votes: dict[str, VoteTable] = field(default_factory=dict)  # group -> (post, member) -> sum
    paragraph_votes: dict[str, dict[tuple[str, str], dict[str, int]]] = field(default_factory=dict)
    in_group: dict[str, dict[str, None]] = field(default_factory=dict)  # group -> posts posted or voted into it
    replies: dict[str, list[str]] = field(default_factory=dict)  # post id -> its replies, in order
    revisions: dict[str, int] = field(default_factory=dict)  # group -> events that changed what it shows
    # numbers in the order things first appeared: the same on every site, short keys for the query tables
    group_numbers: dict[str, int] = field(default_factory=dict)
    voter_numbers: dict[str, int] = field(default_factory=dict)
    # told of every change as it is folded: (what, group, post, paragraph, voter), for caches to follow
    listeners: list[Callable[[str, str, str, str, str], None]] = field(default_factory=list, compare=False, repr=False)
    paragraph_numbers: dict[str, int] = field(default_factory=dict)
    by_subject: dict[str, list[str]] = field(default_factory=dict)  # subject -> its groups, first made first
    anchored: dict[str, list[str]] = field(default_factory=dict)  # group -> its posts answering a place elsewhere
    rankings: Rankings | None = field(default=None, compare=False, repr=False)  # views.rankings_of: kept in step
    moved: dict[str, str] = field(default_factory=dict)  # voter -> the site their registration moved to

    # -- folding --------------------------------------------------------------------------------

    def evolve(self, event_type: str, message, actor: str = "") -> None:
        try:
            if event_type == VERSIONED:
                self._version(Version.from_message(message), actor)
            elif event_type == POSTED:
                self._post(message, actor)
            elif event_type == AMENDED:
                self._amend(message, actor)
            elif event_type == VOTED:
                self._vote(message, actor)
            elif event_type == MEMBER_MOVED:
                self._member_moved(message, actor)
        except CommandError:
            pass  # refused by a rule: it changes nothing (the commands never write such events)

    def _version(self, v: Version, actor: str) -> None:
        check_actor(actor, v.author)
        gid = self.check_version(v)
        if v.parent:
            advance(self.groups[gid], v)
        else:
            self.groups[gid] = found(v)
            self.group_numbers[gid] = len(self.group_numbers) + 1
            if v.subject:
                self.by_subject.setdefault(v.subject, []).append(gid)
        self.versions[v.hash] = gid
        self._touch(gid)
        self._tell("group", gid)

    def _post(self, m: draft_pb2.DraftPosted, actor: str) -> None:
        check_actor(actor, m.author)
        pid = self.check_post(m)
        self._store_texts(m.texts)
        anchor = anchor_of(m)
        self._add_item(Item(pid, m.group, m.author, first_entries(list(m.paragraphs)), m.posted_at_us,
                            len(self.items), m.reply_to, m.reply_to_paragraph, anchor=anchor))
        if anchor is not None:
            self.anchored.setdefault(m.group, []).append(pid)
        if m.reply_to:
            self.replies.setdefault(m.reply_to, []).append(pid)

    def _amend(self, m: draft_pb2.DraftAmended, actor: str) -> None:
        check_actor(actor, m.author)
        target, entries = self.check_amend(m)
        self._store_texts(m.texts)
        if target.author == m.author:
            target.entries, target.revisions = entries, target.revisions + 1
            self._touch(target.group)
            self._tell("post", target.group, target.id)
            return
        post = self.items[target.amends or target.id]
        alternative = Item(alternative_id(m), post.group, m.author, entries, m.made_at_us, len(self.items),
                           amends=post.id)
        post.alternatives.append(alternative.id)
        self._add_item(alternative)

    def _vote(self, m: draft_pb2.DraftVoted, actor: str) -> None:
        check_actor(actor, m.voter)
        self.check_vote(m)
        if m.paragraph:
            sums = self.paragraph_votes.setdefault(m.group, {}).setdefault((m.post, m.paragraph), {})
            sums[m.voter] = sums.get(m.voter, 0) + m.value_micro
        else:
            self.votes_in(m.group).add(self.items[m.post].order, self.voter_number(m.voter), m.value_micro)
        self.in_group.setdefault(m.group, {})[m.post] = None
        self._keep(m.group)
        self._tell("vote", m.group, m.post, m.paragraph, m.voter)

    def _member_moved(self, m: draft_pb2.DraftMemberMoved, actor: str) -> None:
        """Only the moving voter's own mark counts; their memberships and posts stay, only where they went changes."""
        if actor != m.voter:
            return
        if m.to_site:
            self.moved[m.voter] = m.to_site
        else:
            self.moved.pop(m.voter, None)

    def moved_to(self, voter: str) -> str | None:
        """The site a member's registration moved to, if it left this one."""
        return self.moved.get(voter)

    def _add_item(self, item: Item) -> None:
        self.items[item.id] = item
        self.in_group.setdefault(item.group, {})[item.id] = None
        self.votes_in(item.group).add(item.order, self.voter_number(item.author), UNIT)  # posting is a +1
        self._keep(item.group)
        self._tell("post", item.group, item.id)
        self._tell("vote", item.group, item.id, "", item.author)

    def votes_in(self, gid: str) -> VoteTable:
        table = self.post_votes.get(gid)
        if table is None:
            table = self.post_votes[gid] = VoteTable()
        return table

    def voter_number(self, voter: str) -> int:
        number = self.voter_numbers.get(voter)
        if number is None:
            number = self.voter_numbers[voter] = len(self.voter_numbers)
        return number

    def _keep(self, gid: str) -> None:
        if gid not in self.groups:
            self.groups[gid] = self.group(gid)  # a voter's own group, from its first use on
            self.group_numbers[gid] = len(self.group_numbers) + 1
            self._tell("group", gid)
        self._touch(gid)

    def _tell(self, what: str, gid: str, post: str = "", paragraph: str = "", voter: str = "") -> None:
        for listener in self.listeners:
            listener(what, gid, post, paragraph, voter)

    def _store_texts(self, texts) -> None:
        for text in texts:
            h = paragraph_hash(text)
            if h not in self.paragraphs:
                self.paragraphs[h] = text
                self.paragraph_numbers[h] = len(self.paragraph_numbers) + 1

    def _touch(self, gid: str) -> None:
        self.revisions[gid] = self.revisions.get(gid, 0) + 1

    # -- the rules ------------------------------------------------------------------------------

    def check_version(self, v: Version) -> str:
        """The id of the group v is a version of, or an error saying why it cannot be."""
        if not v.parent:
            check_first(v)
            if v.hash in self.groups:
                raise DraftError("this group exists already")
            return v.hash
        gid = self.versions.get(v.parent)
        if v.parent.startswith(PERSONAL_PREFIX):
            check_next(self.group(v.parent), v)
        if gid is None:
            raise DraftError(f"there is no group version {v.parent[:12]!r} to follow")
        check_next(self.groups[gid], v)
        return gid

    def check_post(self, m: draft_pb2.DraftPosted) -> str:
        group = self.group(m.group)
        self.check_may_post(m.author, group)
        self.check_paragraphs(m.paragraphs, m.texts)
        if m.reply_to:
            parent = self.item(m.reply_to)
            self.check_may_see(m.author, parent)
            if self.group(parent.group).private and parent.group != m.group:
                raise NotAllowed("a reply to a post of a private group stays in that group")
            if m.reply_to_paragraph and not parent.has_paragraph(m.reply_to_paragraph):
                raise DraftError("that paragraph is not in the post you reply to")
        elif m.reply_to_paragraph:
            raise DraftError("a reply to a paragraph names its post too")
        if (anchor := anchor_of(m)) is not None:
            check_anchor(anchor)
        pid = post_id(m)
        if pid in self.items:
            raise DraftError("this post exists already")
        return pid

    def check_amend(self, m: draft_pb2.DraftAmended) -> tuple[Item, tuple[Entry, ...]]:
        target = self.item(m.post)
        self.check_may_see(m.author, target)
        self.check_may_post(m.author, self.group(target.group))
        self.check_paragraphs(m.paragraphs, m.texts)
        entries = amended(target.entries, list(m.paragraphs))
        if target.author != m.author and alternative_id(m) in self.items:
            raise DraftError("this alternative exists already")
        return target, entries

    def check_vote(self, m: draft_pb2.DraftVoted) -> None:
        group = self.group(m.group)
        if m.voter not in group.members:
            raise NotAllowed(f"only members vote in {group.name}; join it first")
        post = self.item(m.post)
        if self.group(post.group).private and post.group != m.group:
            raise NotAllowed("a post of a private group cannot be voted into another group")
        if m.paragraph and not post.has_paragraph(m.paragraph):
            raise DraftError("that paragraph is not in the post")
        check_vote_value(m.value_micro)

    def check_may_post(self, voter: str, group: Group) -> None:
        if (group.private or group.personal) and voter not in group.members:
            raise NotAllowed(f"only members post in {group.name}")

    def check_may_see(self, voter: str, item: Item) -> None:
        if not self.may_see(voter, item.group):
            raise PostNotFound(f"there is no post {item.id[:12]}")

    def check_paragraphs(self, paragraphs, texts) -> None:
        """Every paragraph is stored already or given now; texts carry only new ones; the whole within limits."""
        given = {paragraph_hash(text): text for text in texts}
        if len(given) != len(texts) or not set(given) <= set(paragraphs):
            raise DraftError("an event carries each new paragraph's text once, and only for its own paragraphs")
        if any(h in self.paragraphs for h in given):
            raise DraftError("a paragraph's text is stored once; name a stored paragraph by its hash")
        missing = [h for h in paragraphs if h not in given and h not in self.paragraphs]
        if missing:
            raise DraftError(f"no paragraph {missing[0][:12]!r} is stored; give its text")
        check_text([given.get(h) or self.paragraphs[h] for h in paragraphs])

    # -- looking up -----------------------------------------------------------------------------

    def group(self, gid: str) -> Group:
        if gid in self.groups:
            return self.groups[gid]
        if gid.startswith(PERSONAL_PREFIX):
            try:
                voter = normalise_address(gid[len(PERSONAL_PREFIX):])
            except AddressError:
                voter = ""
            if voter and PERSONAL_PREFIX + voter == gid:
                return personal_group(voter)  # kept in groups once something is posted or voted in it
        raise GroupNotFound(f"there is no group {gid[:20]!r}; `group list` shows the groups you can see")

    def item(self, pid: str) -> Item:
        if pid not in self.items:
            raise PostNotFound(f"there is no post {pid[:12]!r}")
        return self.items[pid]

    def may_see(self, voter: str, gid: str) -> bool:
        group = self.groups.get(gid)
        return group is not None and (not group.private or voter in group.members)

    def visible_groups(self, voter: str) -> list[str]:
        """The groups whose posts, members and votes a voter may read, in a fixed order."""
        return sorted(gid for gid, group in self.groups.items() if not group.private or voter in group.members)


def anchor_of(m: draft_pb2.DraftPosted) -> Anchor | None:
    if not m.HasField("anchor"):
        return None
    return Anchor(m.anchor.file, m.anchor.hunk, m.anchor.revision)


def check_actor(actor: str, author: str) -> None:
    if actor and actor != author:
        raise DraftError("an event's actor is its author")
