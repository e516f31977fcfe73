"""How voters name things in commands: groups and posts by a short id, paragraphs by number or hash."""

from __future__ import annotations

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError

from civitas_drafts.domain.errors import GroupNotFound, PostNotFound
from civitas_drafts.domain.ids import PERSONAL_PREFIX, personal_group_id
from civitas_drafts.domain.posts import Item
from civitas_drafts.domain.state import DraftState

MIN_PREFIX = 6


def short(ident: str) -> str:
    return ident if ident.startswith(PERSONAL_PREFIX) else ident[:12]


def group_ref(state: DraftState, voter: str, ref: str) -> str:
    """A group the voter can see: `me`, voter:ADDRESS, its id or a unique prefix of it, or its exact name."""
    if ref == "me":
        return personal_group_id(voter)
    if ref.startswith(PERSONAL_PREFIX):
        return state.group(personal_group_id(normalise_address(ref[len(PERSONAL_PREFIX):]))).id
    visible = [gid for gid in state.visible_groups(voter) if not gid.startswith(PERSONAL_PREFIX)]
    found = _unique(ref, [gid for gid in visible if len(ref) >= MIN_PREFIX and gid.startswith(ref.lower())], "group")
    if found is None:
        found = _unique(ref, [gid for gid in visible if state.groups[gid].name == ref], "group")
    if found is None:
        raise GroupNotFound(f"there is no group {ref!r} that you can see; `group list` shows them")
    return found


def post_ref(state: DraftState, voter: str, ref: str) -> tuple[Item, str]:
    """A post the voter can see, and a paragraph of it or '': POST, POST#2 (second paragraph), POST#HASHPREFIX."""
    post, _, paragraph = ref.partition("#")
    matches = [pid for pid in state.items if len(post) >= MIN_PREFIX and pid.startswith(post.lower())]
    found = _unique(post, [pid for pid in matches if state.may_see(voter, state.items[pid].group)], "post")
    if found is None:
        raise PostNotFound(f"there is no post {post!r} that you can see; write at least {MIN_PREFIX} characters "
                           "of its id")
    item = state.items[found]
    return item, _paragraph(item, paragraph) if paragraph else ""


def _paragraph(item: Item, ref: str) -> str:
    if ref.isdigit():
        text = item.text
        if not 1 <= int(ref) <= len(text):
            raise CommandError(f"post {short(item.id)} has paragraphs 1 to {len(text)}, not {ref}")
        return text[int(ref) - 1]
    hashes = sorted({e.paragraph for e in item.entries if e.paragraph.startswith(ref.lower())})
    if len(hashes) != 1:
        raise CommandError(f"no single paragraph of post {short(item.id)} starts with {ref!r}; "
                           "name it by its number, like POST#2")
    return hashes[0]


def _unique(ref: str, candidates: list[str], what: str) -> str | None:
    if len(candidates) > 1:
        raise CommandError(f"{ref!r} names {len(candidates)} {what}s; write more of the id")
    return candidates[0] if candidates else None
