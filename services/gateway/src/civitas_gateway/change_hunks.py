"""Replies to a change proposal's files and hunks: posts of the proposal's discussion group (discussions.py) that name a
file, a hunk header (none: the file whole) and the content hash of the revision they were written on, shown under
that hunk (or file) on the proposal's page.

A reply written on an earlier revision stays under the hunk of the same file and header if the diff still has one,
saying which revision it answered; one whose hunk is gone is listed after the diff with its file and header. Replies
the group's votes hide are counted, not drawn (the group's page shows them).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from civitas_kernel.commands import CommandError, NotFoundError
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.change_desk import changes_of
from civitas_gateway.change_diff import RenderedDiff, parse_diff
from civitas_gateway.discussions import change_subject, discussion_of, open_discussion
from civitas_gateway.drafts_forms import paragraphs, refused
from civitas_gateway.page_kit import FormKey, FormToken, signed_in

router = APIRouter(include_in_schema=False)
MAX_REPLIES = 500  # hunk replies read for one page


@dataclass
class HunkReply:
    post: str
    author: str
    nickname: str
    texts: list[str]
    file: str
    hunk: str
    revision: str
    outdated: bool  # written on another revision than the one shown
    under_hunk: bool = False  # drawn under its hunk (else after the diff, naming its file and hunk)


@dataclass
class HunkReplies:
    """Each drawn hunk's replies by (file, header), those whose hunk is gone, and how many the votes hide."""

    by_hunk: dict[tuple[str, str], list[HunkReply]] = field(default_factory=dict)
    elsewhere: list[HunkReply] = field(default_factory=list)
    hidden: int = 0
    group: dict | None = None  # the discussion group, if opened

    def of(self, file: str, header: str) -> list[HunkReply]:
        return self.by_hunk.get((file, header), [])


def _reply(post: dict, revision_shown: str) -> HunkReply:
    anchor = post["anchor"]
    chosen = next(v for v in post["versions"] if v["id"] == post["chosen"])
    texts = [e["text"] for e in chosen["entries"] if e["status"] == "live"]
    return HunkReply(post["post"], post["author"], post["nickname"], texts, anchor["file"], anchor["hunk"],
                     anchor["revision"], anchor["revision"] != revision_shown)


def drawn_places(diff: RenderedDiff) -> set[tuple[str, str]]:
    """What a reply can answer on the page: each file whole (hunk "") and each of its hunks."""
    return {(f.path, "") for f in diff.files} | {(f.path, h.header) for f in diff.files for h in f.hunks}


def place_replies(posts: list[dict], diff: RenderedDiff, revision_shown: str) -> HunkReplies:
    """Sort the discussion's hunk replies under the hunks the page draws (pure: the posts as the drafts reads give)."""
    drawn = drawn_places(diff)
    placed = HunkReplies()
    for post in posts:
        if not post.get("anchor"):
            continue
        if not post["shown"]:
            placed.hidden += 1
            continue
        reply = _reply(post, revision_shown)
        if (reply.file, reply.hunk) in drawn:
            reply.under_hunk = True
            placed.by_hunk.setdefault((reply.file, reply.hunk), []).append(reply)
        else:
            placed.elsewhere.append(reply)
    return placed


def hunk_replies(site, voter: str | None, proposal: dict, diff: RenderedDiff) -> HunkReplies:
    """The replies to the proposal's hunks as `voter` sees them (blocking: the drafts' reads)."""
    reads = site.draft_reads
    group = discussion_of(reads, voter, change_subject(proposal["proposal"]), proposal["proposer"])
    if group is None:
        return HunkReplies()
    placed = place_replies(reads.anchored(voter, group["id"], limit=MAX_REPLIES)["posts"], diff,
                           proposal["content_hash"])
    placed.group = group
    return placed


def _drawn_hunks(site, proposal: str) -> tuple[dict, set[tuple[str, str]]]:
    desk = changes_of(site)
    shown, diff = desk.show(None, proposal).data, desk.diff(proposal).data
    return shown, drawn_places(parse_diff(diff["diff"], diff["cut"]))


@router.post("/changes/{proposal}/hunks/reply")
async def reply_to_hunk(request: Request, proposal: str, file: str = Form(..., max_length=1000),
                        hunk: str = Form("", max_length=500), revision: str = Form(..., max_length=128),
                        text: str = Form(..., max_length=300_000), target: str = Form("", max_length=40),
                        csrf: FormToken = "", key: FormKey = ""):
    """Post a reply to a hunk into the proposal's discussion (opened first if its proposer is the one replying)."""
    voter = signed_in(request, csrf)
    site, page = request.app.state.site, f"/changes/{proposal}"
    try:
        shown, drawn = await asyncio.to_thread(_drawn_hunks, site, proposal)
        if revision == shown["content_hash"] and (file, hunk) not in drawn:
            raise NotFoundError(f"this revision of proposal {proposal} has no hunk {hunk!r} in {file}; reload the "
                                "page and reply under a hunk it shows")
        subject, owner = change_subject(shown["proposal"]), shown["proposer"]
        group = await asyncio.to_thread(discussion_of, site.draft_reads, voter, subject, owner)
        if group is None and voter == owner:
            group = await open_discussion(site, owner, subject, key and f"{key}:discussion")
        if group is None:
            raise NotFoundError(f"{owner} has not opened the discussion of proposal {proposal} yet; only its "
                                "proposer can, so that nobody else can take it over")
        found = paragraphs(text)
        if not found:
            raise CommandError("write the reply: at least one paragraph (blank lines part paragraphs)")
        reply = await site.submit(VoterCommand(voter, "drafts", ("post", group["id"], "--file", file, "--hunk", hunk,
                                                                 "--revision", revision, "--", *found), key or None))
    except CommandError as error:
        return refused(request, error, "post", page)
    fragment = f"#{target}" if re.fullmatch(r"(hunk-\d+-|file-)\d+", target) else ""
    message = f"replied to {file} {hunk}".strip() + f" ({reply.text})"
    return RedirectResponse(f"{page}?message={quote(message)}{fragment}", status_code=303)
