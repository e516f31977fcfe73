"""The drafts pages' forms: found, join and leave a group, add members and change their weights, change the group,
post, reply, amend and vote. Each runs the signed-in voter's `drafts` command once per form drawn; what the command
refuses is an HTML page saying the reason the rules give and what to do about it (never a redirect that loses it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from civitas_kernel.commands import CommandError, KeyReusedError
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.error_pages import back_link
from civitas_gateway.page_kit import FormKey, FormToken, back, page_voter, signed_in, templates

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=300_000)]  # a post's text; the drafts' own limit says more clearly when past
Short = Annotated[str, Form(max_length=200)]
Number = Annotated[str, Form(max_length=40)]

# What to do when the rules refuse an action, by the status of the refusal (403: the rules; 404: not found; 409: the
# group moved on), for each kind of form; "" holds the advice of any form.
ADVICE: dict[str, dict[int, str]] = {
    "": {403: "The group's rules do not let you do this. Its page lists each member's weight.",
         404: "Check the link; the drafts page lists the groups you can see.",
         409: "The group changed meanwhile: reload its page, look again, and send the form again.",
         413: "Send less: split the text into several posts."},
    "member": {403: "You may change a member only if their current weight is below yours, and never to above your "
                    "own weight; nobody raises their own. Ask a member who weighs more than them to make this change."},
    "add": {403: "You may add a member only at a weight no greater than your own, and only once per voter; a "
                 "nickname already taken can be given only by its holder."},
    "join": {403: "This group does not let voters join by themselves, or not at that weight: join at its others' "
                  "weight, or ask a member to add you."},
    "settings": {403: "Renaming the group takes its highest weight; the others' weight can be set at most to your "
                      "weight; the default score takes a weight above 0."},
    "post": {403: "Only members post here: join the group first (its page has a Join button), or post in a group "
                  "you belong to."},
    "vote": {403: "Only members vote in a group: join it first, or vote in a group you belong to."},
}
ON_THIS_SITE = re.compile(r"/drafts/[\w%.:@-]+(/[\w%.:@-]+)*")  # a drafts page's path, never another site's
FALLBACK = "Go back, correct what the message says, and send the form again."


def refused(request: Request, error: CommandError, form: str, page: str) -> HTMLResponse:
    """The page of a refused drafts command: the rules' reason, what to do, and the way back (to `page` when the
    browser sends no Referer)."""
    status = error.status if 400 <= error.status < 500 else 400
    if isinstance(error, KeyReusedError):
        advice = ["Reload the page to send the form again with these values."]
    else:
        advice = [ADVICE.get(form, {}).get(status) or ADVICE[""].get(status) or FALLBACK]
    heading = {403: "Not allowed by the group's rules", 404: "Not found", 409: "The group changed meanwhile"}.get(
        status, "This cannot be done as written")
    body = templates.get_template("problem.html").render({
        "request": request, "site": request.app.state.site.settings.SITE, "voter": page_voter(request), "csrf": "",
        "status": status, "phrase": "Refused", "heading": heading, "detail": str(error), "advice": advice,
        "errors": [], "incident": None, "kind": f"drafts-{form or 'refused'}", "back": back_link(request) or page})
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def act(request: Request, csrf: str, key: str, form: str, then: Callable[[dict | None], str],
              *args: str) -> RedirectResponse | HTMLResponse:
    """Run the signed-in voter's drafts command; on success go to then(data), saying how it went."""
    voter = signed_in(request, csrf)
    try:
        reply = await request.app.state.site.submit(VoterCommand(voter, "drafts", args, key or None))
    except CommandError as error:
        return refused(request, error, form, then(None))  # back to the page the form is on
    return back(then(reply.data if isinstance(reply.data, dict) else None), message=reply.text.split("\n")[0])


def paragraphs(text: str) -> list[str]:
    """A textarea's text as paragraphs: blank lines part them."""
    blocks, current = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _group_page(group: str) -> Callable[[dict | None], str]:
    return lambda data: f"/drafts/groups/{(data or {}).get('id') or group}"


def _post_page(data: dict | None, fallback: str) -> str:
    return f"/drafts/posts/{(data or {}).get('post') or fallback}"


# -- groups ---------------------------------------------------------------------------------


@router.post("/drafts/groups")
async def create(request: Request, name: Short, csrf: FormToken = "", key: FormKey = "", private: str = Form(""),
                 others_weight: Number = "0", default_score: Number = "0", weight: Number = "1",
                 nickname: Short = "", subject: Short = ""):
    args = ["group", "create", name, *(["--private"] if private else []), "--others-weight", others_weight or "0",
            "--default-score", default_score or "0", "--weight", weight or "1",
            *(["--nickname", nickname] if nickname else []), *(["--subject", subject] if subject else [])]
    return await act(request, csrf, key, "create", lambda data: _group_page("")(data) if data else "/drafts", *args)


@router.post("/drafts/groups/{group}/join")
async def join(request: Request, group: str, csrf: FormToken = "", key: FormKey = "", nickname: Short = ""):
    return await act(request, csrf, key, "join", _group_page(group), "group", "join", group,
                     *(["--nickname", nickname] if nickname else []))


@router.post("/drafts/groups/{group}/leave")
async def leave(request: Request, group: str, csrf: FormToken = "", key: FormKey = ""):
    return await act(request, csrf, key, "member", _group_page(group), "group", "leave", group)


@router.post("/drafts/groups/{group}/members")
async def add(request: Request, group: str, member: Short, nickname: Short, weight: Number, csrf: FormToken = "",
              key: FormKey = ""):
    return await act(request, csrf, key, "add", _group_page(group), "group", "add", group, member, nickname, weight)


@router.post("/drafts/groups/{group}/members/{member}")
async def change_member(request: Request, group: str, member: str, csrf: FormToken = "", key: FormKey = "",
                        weight: Number = "", nickname: Short = ""):
    """A member's weight and nickname from one form: one version, changing both or neither."""
    changes = [*(["--weight", weight] if weight else []), *(["--nickname", nickname] if nickname else [])]
    return await act(request, csrf, key, "member", _group_page(group), "group", "change", group, member, *changes)


@router.post("/drafts/groups/{group}/members/{member}/weight")
async def set_weight(request: Request, group: str, member: str, weight: Number, csrf: FormToken = "",
                     key: FormKey = ""):
    return await act(request, csrf, key, "member", _group_page(group), "group", "set-weight", group, member, weight)


@router.post("/drafts/groups/{group}/members/{member}/nickname")
async def set_nickname(request: Request, group: str, member: str, nickname: Short, csrf: FormToken = "",
                       key: FormKey = ""):
    return await act(request, csrf, key, "member", _group_page(group), "group", "nickname", group, member, nickname)


@router.post("/drafts/groups/{group}/members/{member}/remove")
async def remove(request: Request, group: str, member: str, csrf: FormToken = "", key: FormKey = ""):
    return await act(request, csrf, key, "member", _group_page(group), "group", "remove", group, member)


@router.post("/drafts/groups/{group}/settings")
async def settings(request: Request, group: str, csrf: FormToken = "", key: FormKey = "", name: Short = "",
                   others_weight: Number = "", default_score: Number = ""):
    changes = [*(["--name", name] if name else []), *(["--others-weight", others_weight] if others_weight else []),
               *(["--default-score", default_score] if default_score else [])]
    return await act(request, csrf, key, "settings", _group_page(group), "group", "set", group, *changes)


# -- posts and votes ------------------------------------------------------------------------


@router.post("/drafts/groups/{group}/posts")
async def post(request: Request, group: str, text: Text, csrf: FormToken = "", key: FormKey = ""):
    return await act(request, csrf, key, "post",
                     lambda data: _post_page(data, "") if data else f"/drafts/groups/{group}",
                     "post", group, *_text(text))


@router.post("/drafts/posts/{post}/reply")
async def reply(request: Request, post: str, text: Text, csrf: FormToken = "", key: FormKey = "",
                paragraph: Short = ""):
    target = f"{post}#{paragraph}" if paragraph else post
    return await act(request, csrf, key, "post", lambda data: _post_page(data, post), "reply", target, *_text(text))


@router.post("/drafts/posts/{post}/amend")
async def amend(request: Request, post: str, text: Text, csrf: FormToken = "", key: FormKey = ""):
    return await act(request, csrf, key, "post", lambda data: _post_page(data, post), "amend", post, *_text(text))


@router.post("/drafts/posts/{post}/vote")
async def vote(request: Request, post: str, vote: Short, csrf: FormToken = "", key: FormKey = "",
               paragraph: Short = "", group: Short = "", back_to: Short = ""):
    """Up, down or clear on a post or one paragraph, from a group page or a post page (back_to: which, on this site)."""
    target = f"{post}#{paragraph}" if paragraph else post
    path = back_to if ON_THIS_SITE.fullmatch(back_to) else f"/drafts/posts/{post}"
    return await act(request, csrf, key, "vote", lambda _: path, "vote", vote, target,
                     *(["--group", group] if group else []))


def _text(text: str) -> list[str]:
    """The paragraphs as the command's last words, after `--`: a paragraph is never read as an option."""
    found = paragraphs(text)
    if not found:
        raise CommandError("write the text: at least one paragraph (blank lines part paragraphs)")
    return ["--", *found]
