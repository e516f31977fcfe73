"""Decisions: a voter's intent, checked against the folded state, becomes one event (or an error)."""

from __future__ import annotations

from civitas_kernel.events import NewEvent
from civitas_schema.v1 import draft_pb2

from civitas_drafts.domain.errors import VoteValueError
from civitas_drafts.domain.groups import Group, Member, Version
from civitas_drafts.domain.ids import alternative_id, paragraph_hash
from civitas_drafts.domain.numbers import MAX_VOTE, UNIT, format_micro
from civitas_drafts.domain.posts import Anchor, clean_paragraphs
from civitas_drafts.domain.state import DraftState


def first_version(author: str, name: str, nickname: str, *, weight: int = 1, private: bool = False,
                  others_weight: int = 0, default_score: int = 0, made_at_us: int = 0, subject: str = "") -> Version:
    return Version("", author, " ".join(name.split()), (Member(author, nickname, weight),), (), others_weight,
                   default_score, private, made_at_us, subject)


def next_version(group: Group, author: str, *, members: tuple[Member, ...] = (), removed: tuple[str, ...] = (),
                 name: str | None = None, others_weight: int | None = None, default_score: int | None = None,
                 made_at_us: int = 0) -> Version:
    return Version(
        group.head, author, group.name if name is None else " ".join(name.split()), members, removed,
        group.others_members_weight if others_weight is None else others_weight,
        group.moderation_default_score if default_score is None else default_score, False, made_at_us,
    )


def decide_version(state: DraftState, version: Version) -> tuple[NewEvent, str]:
    """The event of a group version, and the group's id."""
    gid = state.check_version(version)
    return NewEvent.of(version.to_message(), version.author), gid


def _paragraphs(state: DraftState, texts: list[str]) -> tuple[list[str], list[str]]:
    """Paragraph hashes of a text, and the texts of those not stored yet (each once)."""
    hashes, new = [], {}
    for text in clean_paragraphs(texts):
        h = paragraph_hash(text)
        hashes.append(h)
        if h not in state.paragraphs:
            new.setdefault(h, text)
    return hashes, list(new.values())


def decide_post(state: DraftState, author: str, group: str, texts: list[str], *, reply_to: str = "",
                reply_to_paragraph: str = "", now_us: int = 0, anchor: Anchor | None = None) -> tuple[NewEvent, str]:
    """The event of a post (or reply, or answer to a place in a diff), and the post's id."""
    hashes, new = _paragraphs(state, texts)
    message = draft_pb2.DraftPosted(group=group, author=author, paragraphs=hashes, texts=new, reply_to=reply_to,
                                    reply_to_paragraph=reply_to_paragraph, posted_at_us=now_us)
    if anchor is not None:
        message.anchor.CopyFrom(draft_pb2.DraftAnchor(file=anchor.file, hunk=anchor.hunk, revision=anchor.revision))
    pid = state.check_post(message)
    return NewEvent.of(message, author), pid


def decide_amend(state: DraftState, author: str, post: str, texts: list[str], *, now_us: int = 0
                 ) -> tuple[NewEvent, str]:
    """The event of an amendment, and the id of what it changes: the post itself, or its new alternative."""
    hashes, new = _paragraphs(state, texts)
    message = draft_pb2.DraftAmended(post=post, author=author, paragraphs=hashes, texts=new, made_at_us=now_us)
    target, _ = state.check_amend(message)
    return NewEvent.of(message, author), target.id if target.author == author else alternative_id(message)


def decide_vote(state: DraftState, voter: str, group: str, post: str, value_micro: int, paragraph: str = ""
                ) -> NewEvent:
    message = draft_pb2.DraftVoted(group=group, voter=voter, post=post, paragraph=paragraph, value_micro=value_micro)
    state.check_vote(message)
    return NewEvent.of(message, voter)


def own_sum(state: DraftState, voter: str, group: str, post: str, paragraph: str = "") -> int:
    """The sum of a member's votes on a post or paragraph in a group, in millionths."""
    if paragraph:
        return state.paragraph_votes.get(group, {}).get((post, paragraph), {}).get(voter, 0)
    table, number = state.post_votes.get(group), state.voter_numbers.get(voter)
    return 0 if table is None or number is None else table.sum_of(state.items[post].order, number)


def decide_vote_to(state: DraftState, voter: str, group: str, post: str, target: int, paragraph: str = ""
                   ) -> NewEvent:
    """The vote that brings a member's sum to target (up: +1, down: -1, clear: 0)."""
    difference = target - own_sum(state, voter, group, post, paragraph)
    if difference == 0:
        raise VoteValueError(f"your vote there is {format_micro(target)} already; nothing changed")
    if abs(difference) > MAX_VOTE:
        raise VoteValueError(f"your votes there sum to {format_micro(target - difference)}; cast a vote of at most "
                             f"{MAX_VOTE // UNIT:,} toward {format_micro(target)} first")
    return decide_vote(state, voter, group, post, difference, paragraph)
