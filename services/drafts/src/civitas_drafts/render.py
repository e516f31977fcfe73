"""What the voter shell prints for groups and posts, and the same as JSON-ready data."""

from __future__ import annotations

from civitas_drafts.domain.groups import Group
from civitas_drafts.domain.numbers import format_micro
from civitas_drafts.domain.posts import LIVE, Item
from civitas_drafts.domain.state import DraftState
from civitas_drafts.domain.views import Ranked, group_scores, paragraph_scores, ranking
from civitas_drafts.refs import short

PREVIEW = 70


def group_data(group: Group) -> dict:
    return {"id": group.id, "version": group.head, "name": group.name, "private": group.private,
            "others_members_weight": group.others_members_weight,
            "moderation_default_score": format_micro(group.moderation_default_score), "members": len(group.members),
            "subject": group.subject or None, "founder": group.founder or None}


def members_text(group: Group, moved: dict[str, str] | None = None) -> tuple[str, list[dict]]:
    """moved: members whose registration moved to another site (kept, weight and all), and where to."""
    moved = moved or {}
    rows = [{"voter": m.voter, "nickname": m.nickname, "weight": m.weight, "moved_to": moved.get(m.voter)}
            for m in group.members.values()]
    rows.sort(key=lambda r: (-r["weight"], r["nickname"]))
    lines = [f"{r['weight']:>8}  {r['nickname']:<20} {r['voter']}" + (f"  (moved to {r['moved_to']})"
                                                                       if r["moved_to"] else "") for r in rows]
    return f"{group.describe()}\n" + "\n".join(lines), rows


def _preview(state: DraftState, item: Item) -> str:
    first = state.paragraphs[item.text[0]] if item.text else ""
    first = " ".join(first.split())
    return first if len(first) <= PREVIEW else first[:PREVIEW - 1] + "…"


def _nickname(group: Group, voter: str) -> str:
    member = group.members.get(voter)
    return member.nickname if member else voter


def ranking_text(state: DraftState, gid: str, hidden: bool, limit: int = 50) -> tuple[str, list[dict]]:
    group = state.group(gid)
    ranked = ranking(state, gid, hidden=hidden, limit=limit)
    rows = [_ranked_data(state, r) for r in ranked]
    lines = [f"{format_micro(r.score):>8}  {short(r.post.id)}  {_nickname(group, r.chosen.author):<16} "
             f"{_preview(state, r.chosen)}" + ("" if r.shown else "  (hidden)") for r in ranked]
    if not lines:
        lines = ["no posts shown yet; `post GROUP TEXT` writes one" if not hidden else "no posts yet"]
    return f"{group.describe()}\n" + "\n".join(lines), rows


def _ranked_data(state: DraftState, r: Ranked) -> dict:
    return {"post": r.post.id, "chosen": r.chosen.id, "author": r.chosen.author, "score": format_micro(r.score),
            "shown": r.shown, "paragraphs": [state.paragraphs[h] for h in r.chosen.text],
            "replies": len(state.replies.get(r.post.id, []))}


def post_text(state: DraftState, item: Item, gid: str, voter: str) -> tuple[str, dict]:
    """A post with each paragraph's score in gid, its alternatives beside it, and its replies."""
    post = state.items[item.amends] if item.amends else item
    points = group_scores(state, gid)
    group = state.group(gid)
    lines = [f"post {short(post.id)} by {_nickname(group, post.author)} in {group.name}: "
             f"score {format_micro(points.get(post.id, group.moderation_default_score))}"]
    data = {"post": post.id, "group": gid, "versions": []}
    for version in [post] + [state.items[a] for a in post.alternatives if state.may_see(voter, post.group)]:
        label = "text" if version is post else f"alternative {short(version.id)} by {_nickname(group, version.author)}"
        score = points.get(version.id, group.moderation_default_score)
        lines.append(f"-- {label}: score {format_micro(score)}")
        paragraph_points = paragraph_scores(state, gid, version.id)
        entries, number = [], 0
        for e in version.entries:
            number += e.status == LIVE
            mark = f"{number:>3}." if e.status == LIVE else f"  [{e.status}]"
            lines.append(f"{mark} ({format_micro(paragraph_points[e.paragraph])}) {state.paragraphs[e.paragraph]}")
            entries.append({"paragraph": e.paragraph, "status": e.status, "text": state.paragraphs[e.paragraph],
                            "score": format_micro(paragraph_points[e.paragraph]), "replaces": e.replaces})
        data["versions"].append({"id": version.id, "author": version.author, "score": format_micro(score),
                                 "entries": entries})
    replies = [r for r in state.replies.get(post.id, []) if state.may_see(voter, state.items[r].group)]
    if replies:
        lines.append(f"-- {len(replies)} replies:")
        lines.extend(f"  {short(r)}  {_nickname(group, state.items[r].author):<16} {_preview(state, state.items[r])}"
                     for r in replies)
    data["replies"] = replies
    return "\n".join(lines), data
