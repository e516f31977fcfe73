"""Groups as chains of versions, and who may change a group.

A version is accepted only if its author may make every change in it; otherwise it is refused whole.
A version names the members it adds or changes (each whole) and those it removes; the rest keep their
entries, so a join into a group of 10,000 members is one entry, not 10,001.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from civitas_kernel.addresses import AddressError, normalise_address
from civitas_schema.v1 import draft_pb2

from civitas_drafts.domain.errors import DraftError, ForkError, GroupChangeRefused, TooLargeError
from civitas_drafts.domain.ids import personal_group_id, version_hash
from civitas_drafts.domain.numbers import MAX_DEFAULT_SCORE, check_weight, format_micro

MAX_NAME, MAX_NICKNAME, MAX_SUBJECT = 100, 40, 200
MAX_ENTRIES = 10_000  # member entries in one version


@dataclass(frozen=True, slots=True)
class Member:
    voter: str
    nickname: str
    weight: int


@dataclass(frozen=True)
class Version:
    parent: str
    author: str
    name: str
    members: tuple[Member, ...] = ()
    removed: tuple[str, ...] = ()
    others_members_weight: int = 0
    moderation_default_score: int = 0  # millionths of a vote
    private: bool = False
    made_at_us: int = 0
    subject: str = ""  # first version only: what the group discusses, e.g. "change:12"

    def to_message(self) -> draft_pb2.DraftGroupVersioned:
        return draft_pb2.DraftGroupVersioned(
            parent=self.parent, author=self.author, name=self.name,
            members=[draft_pb2.DraftMember(voter=m.voter, nickname=m.nickname, weight=m.weight) for m in self.members],
            removed=list(self.removed), others_members_weight=self.others_members_weight,
            moderation_default_score_micro=self.moderation_default_score, private=self.private,
            made_at_us=self.made_at_us, subject=self.subject,
        )

    @classmethod
    def from_message(cls, m: draft_pb2.DraftGroupVersioned) -> Version:
        return cls(
            m.parent, m.author, m.name, tuple(Member(e.voter, e.nickname, e.weight) for e in m.members),
            tuple(m.removed), m.others_members_weight, m.moderation_default_score_micro, m.private, m.made_at_us,
            m.subject,
        )

    @property
    def hash(self) -> str:
        return version_hash(self.to_message())


def nickname_key(nickname: str) -> str:
    """Two nicknames that look alike are one nickname: 'Alice' and 'ａｌｉｃｅ' cannot both be taken."""
    return unicodedata.normalize("NFKC", nickname).casefold()


@dataclass
class Group:
    """A group at its current version (its head), folded from its chain."""

    id: str
    head: str
    name: str
    private: bool
    others_members_weight: int
    moderation_default_score: int
    members: dict[str, Member] = field(default_factory=dict)  # in the order they joined
    by_nickname: dict[str, str] = field(default_factory=dict)  # nickname key -> the member holding it now
    holders: dict[str, str] = field(default_factory=dict)  # nickname key -> its last holder, kept after they leave
    versions: int = 1
    personal: bool = False
    subject: str = ""  # set by the first version, never changed
    founder: str = ""  # who made the first version: a page trusts a subject's group only from its subject's owner

    def weight(self, voter: str) -> int | None:
        member = self.members.get(voter)
        return None if member is None else member.weight

    def member(self, who: str) -> Member | None:
        """A member named by address or nickname."""
        found = self.members.get(who)
        if found is None and (voter := self.by_nickname.get(nickname_key(who))) is not None:
            found = self.members[voter]
        return found

    def highest_weight(self) -> int:
        return max((m.weight for m in self.members.values()), default=0)

    def may_join(self) -> bool:
        return not self.private and not self.personal and self.others_members_weight > 0

    def describe(self) -> str:
        kind = "private" if self.private else "public" if self.others_members_weight > 0 else "closed"
        return (f"{self.name} ({kind}; {len(self.members)} members; joiners weigh {self.others_members_weight}; "
                f"default score {format_micro(self.moderation_default_score)})")


def personal_group(voter: str) -> Group:
    """Every voter's own group: themselves alone, weight 1; it has no versions and never changes."""
    nickname = voter.split("@", 1)[0]
    member = Member(voter, nickname, 1)
    gid = personal_group_id(voter)
    return Group(gid, gid, voter, False, 0, 0, {voter: member},
                 {nickname_key(nickname): voter}, {nickname_key(nickname): voter}, 0, personal=True)


def check_shape(v: Version) -> None:
    """What every version must be, whoever makes it: well-formed names, weights and members."""
    name = " ".join(v.name.split())
    if not name or name != v.name or len(name) > MAX_NAME or not name.isprintable():
        raise DraftError(f"a group's name is 1 to {MAX_NAME} printable characters, single-spaced")
    if len(v.members) + len(v.removed) > MAX_ENTRIES:
        raise TooLargeError(f"a version adds, changes or removes at most {MAX_ENTRIES:,} members")
    check_weight(v.others_members_weight)
    if abs(v.moderation_default_score) > MAX_DEFAULT_SCORE:
        raise DraftError(f"a default score is at most {MAX_DEFAULT_SCORE // 1_000_000:,} either way")
    if v.subject and (len(v.subject) > MAX_SUBJECT or not v.subject.isprintable() or v.subject != "".join(
            v.subject.split())):
        raise DraftError(f"a group's subject is 1 to {MAX_SUBJECT} printable characters without spaces, like change:12")
    voters, nicknames = set(), set()
    for m in v.members:
        _check_address(m.voter)
        check_nickname(m.nickname)
        check_weight(m.weight)
        if m.voter in voters:
            raise DraftError(f"{m.voter} is listed twice: a voter is a member at most once")
        key = nickname_key(m.nickname)
        if key in nicknames:
            raise DraftError(f"the nickname {m.nickname!r} is given twice: each member has their own")
        voters.add(m.voter)
        nicknames.add(key)
    for voter in v.removed:
        _check_address(voter)
        if voter in voters:
            raise DraftError(f"{voter} is both removed and set: a version does one or the other")
        voters.add(voter)


def _check_address(voter: str) -> None:
    try:
        normalised = normalise_address(voter)
    except AddressError:
        raise DraftError(f"{voter[:60]!r} is not a voter's email address") from None
    if normalised != voter:
        raise DraftError(f"write the address {voter!r} as {normalised!r}")


def check_nickname(nickname: str) -> None:
    if (not nickname or nickname != nickname.strip() or len(nickname) > MAX_NICKNAME or not nickname.isprintable()
            or "@" in nickname):
        raise DraftError(f"a nickname is 1 to {MAX_NICKNAME} printable characters without '@' or outer spaces")


def check_first(v: Version) -> None:
    """A group's first version: its author is a founding member, and adds nobody weightier than themselves."""
    check_shape(v)
    if v.parent:
        raise DraftError("a group's first version has no parent")
    if v.removed:
        raise DraftError("a new group has nobody to remove")
    founder = next((m for m in v.members if m.voter == v.author), None)
    if founder is None:
        raise DraftError("whoever makes a group is one of its first members")
    for m in v.members:
        if m.weight > founder.weight:
            raise GroupChangeRefused(f"you may add members with a weight up to your own ({founder.weight}), "
                                     f"not {m.nickname} with {m.weight}")


def check_next(group: Group, v: Version) -> None:
    """A later version: it follows the head, and its author may make every change in it."""
    if group.personal:
        raise GroupChangeRefused("a voter's own group has no versions; make a group of your own")
    check_shape(v)
    if v.parent != group.head:
        raise ForkError(f"this version follows {v.parent[:12] or 'nothing'}, but {group.name}'s current version "
                        f"is {group.head[:12]}; make your change again on the current version")
    if v.private:
        raise GroupChangeRefused("whether a group is private is chosen when it is made and never changes")
    if v.subject:
        raise GroupChangeRefused("a group's subject is chosen when it is made and never changes")
    author = group.members.get(v.author)
    if author is None:
        _check_join(group, v)
    else:
        _check_member_changes(group, v, author.weight)
    _check_nicknames(group, v)


def _settings_changed(group: Group, v: Version) -> bool:
    return (v.name, v.others_members_weight, v.moderation_default_score) != (
        group.name, group.others_members_weight, group.moderation_default_score)


def _check_join(group: Group, v: Version) -> None:
    if group.private:
        raise GroupChangeRefused(f"{group.name} is private: only a member can add you")
    if not group.may_join():
        raise GroupChangeRefused(f"{group.name} takes nobody who joins by themselves; ask a member to add you")
    if len(v.members) != 1 or v.members[0].voter != v.author or v.removed or _settings_changed(group, v):
        raise GroupChangeRefused(f"you are not a member of {group.name}: joining, a version adds only yourself "
                                 "and changes nothing else; join first, then ask a member for the rest")
    if v.members[0].weight > group.others_members_weight:
        raise GroupChangeRefused(f"you may join {group.name} with a weight up to {group.others_members_weight}")


def _check_member_changes(group: Group, v: Version, own: int) -> None:
    changed = bool(v.removed) or _settings_changed(group, v)
    for m in v.members:
        current = group.members.get(m.voter)
        if current == m:
            continue
        changed = True
        if current is None:
            if m.weight > own:
                raise GroupChangeRefused(f"you may add members with a weight up to your own ({own}), "
                                         f"not {m.nickname} with {m.weight}")
        elif m.voter == v.author:
            if m.weight > current.weight:
                raise GroupChangeRefused(f"nobody raises their own weight: yours is {current.weight}")
        else:
            _check_may_change(current, own, "change")
            if m.weight > own:
                raise GroupChangeRefused(f"you may give {current.nickname} a weight up to your own ({own}), "
                                         f"not {m.weight}")
    for voter in v.removed:
        current = group.members.get(voter)
        if current is None:
            raise DraftError(f"{voter} is not a member of {group.name}")
        if voter == v.author:
            if current.weight < 0:
                raise GroupChangeRefused("a banned member cannot leave: that would lift the ban")
        else:
            _check_may_change(current, own, "remove")
    if v.others_members_weight != group.others_members_weight and v.others_members_weight > own:
        raise GroupChangeRefused(f"you may set the weight of those who join up to your own ({own})")
    if v.moderation_default_score != group.moderation_default_score and own <= 0:
        raise GroupChangeRefused("only a member whose weight is above 0 changes the default score")
    if v.name != group.name and own < group.highest_weight():
        raise GroupChangeRefused(f"only a member with the highest weight ({group.highest_weight()}) renames "
                                 f"{group.name}")
    if not changed:
        raise DraftError("this version changes nothing")


def _check_may_change(current: Member, own: int, what: str) -> None:
    if current.weight >= own:
        raise GroupChangeRefused(f"you may {what} {current.nickname} only if their current weight "
                                 f"({current.weight}) is below yours ({own})")


def _check_nicknames(group: Group, v: Version) -> None:
    """A nickname taken, now or before, is given only by its holder, with the holder's weight."""
    leaving = set(v.removed) | {m.voter for m in v.members}
    for m in v.members:
        key = nickname_key(m.nickname)
        current = group.members.get(m.voter)
        if current is not None and nickname_key(current.nickname) == key:
            continue
        if (holder := group.by_nickname.get(key)) is not None and holder != m.voter and holder not in leaving:
            raise GroupChangeRefused(f"the nickname {m.nickname!r} is taken; choose another")
        holder = group.holders.get(key)
        if holder is None or holder == m.voter:
            continue
        if v.author != holder:
            raise GroupChangeRefused(f"the nickname {m.nickname!r} is taken; only its holder can give it")
        if m.weight != group.members[holder].weight:
            raise GroupChangeRefused(f"a nickname is given with its holder's weight "
                                     f"({group.members[holder].weight}), not {m.weight}")


def found(v: Version) -> Group:
    """The group a first version makes (check_first it before)."""
    group = Group(v.hash, v.hash, v.name, v.private, v.others_members_weight, v.moderation_default_score,
                  subject=v.subject, founder=v.author)
    _set_members(group, v.members)
    return group


def advance(group: Group, v: Version) -> None:
    """Make v the group's head (check_next it before)."""
    for voter in v.removed:
        del group.by_nickname[nickname_key(group.members.pop(voter).nickname)]
    for m in v.members:
        if (current := group.members.get(m.voter)) is not None:
            del group.by_nickname[nickname_key(current.nickname)]
    _set_members(group, v.members)
    group.head, group.name, group.versions = v.hash, v.name, group.versions + 1
    group.others_members_weight, group.moderation_default_score = v.others_members_weight, v.moderation_default_score


def _set_members(group: Group, members: tuple[Member, ...]) -> None:
    for m in members:
        key = nickname_key(m.nickname)
        group.members[m.voter] = m
        group.by_nickname[key] = group.holders[key] = m.voter
