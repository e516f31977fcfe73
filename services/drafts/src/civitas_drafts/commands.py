"""The drafts service's commands, as the voter shell types them: groups, posts, amendments, votes, queries."""

from __future__ import annotations

import time
from collections.abc import Callable

from civitas_kernel.addresses import normalise_address
from civitas_kernel.application import StreamFolder
from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.events import NewEvent
from civitas_kernel.idempotency import callers_key
from civitas_kernel.log import EventLog

from civitas_drafts.domain.decisions import (
    decide_amend, decide_post, decide_version, decide_vote, decide_vote_to, first_version, next_version,
)
from civitas_drafts.domain.errors import TooLargeError
from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.numbers import UNIT, parse_default_score, parse_vote_value, parse_weight
from civitas_drafts.domain.posts import MAX_POST_BYTES, Anchor, clean_paragraphs
from civitas_drafts.domain.state import DraftState
from civitas_drafts.query import QueryLimits, QuerySandbox
from civitas_drafts.refs import group_ref, post_ref, short
from civitas_drafts.render import group_data, members_text, post_text, ranking_text

DRAFT_STREAMS = ("draft",)

HELP = {
    "group": "group create NAME [--private] [--others-weight N] [--default-score S] [--nickname NICK] [--weight W] "
    "[--subject SUBJECT]\n"
    "group join GROUP [--nickname NICK] [--weight W]   group leave GROUP   group members GROUP   group list\n"
    "group add GROUP VOTER NICKNAME WEIGHT   group set-weight GROUP MEMBER WEIGHT   group remove GROUP MEMBER\n"
    "group nickname GROUP MEMBER NICKNAME   group change GROUP MEMBER [--weight W] [--nickname NICK] (one version)\n"
    "group set GROUP [--name NAME] [--others-weight N] [--default-score S]",
    "post": "post GROUP [--file PATH --revision HASH [--hunk HEADER]] [--] PARAGRAPH...: post into GROUP, one quoted "
            "argument per paragraph (counts as your +1 vote); --file...: in answer to that hunk of a diff.",
    "reply": "reply POST[#N] [--group GROUP] [--] PARAGRAPH...: reply to a post, or to its paragraph N (`--` before "
             "a paragraph that begins with --).",
    "amend": "amend POST PARAGRAPH...: its whole new text; your own post changes in place, another's gets an "
    "alternative.",
    "vote": "vote up|down|clear POST[#N] [--group GROUP]: make your vote +1, -1 or 0 (in the post's group unless "
    "--group).\nvote NUMBER POST[#N] [--group GROUP]: add NUMBER (like 0.5 or -2) to your votes there.",
    "show": "show GROUP [--all]: its 50 best posts (--all: hidden ones too).   show POST [--group GROUP]: a post "
    "with each paragraph's score, its alternatives and replies.",
    "query": "query \"SQL\": one read-only SELECT over the groups you can see, quoted whole (tables: `query --help`).",
    "help": "help: list the commands.   COMMAND --help: explain one.",
}
VOTE_TO = {"up": UNIT, "down": -UNIT, "clear": 0}


def _now_us() -> int:
    return time.time_ns() // 1000


def _options(args: list[str], flags: set[str], valued: set[str]) -> tuple[list[str], dict[str, str | bool]]:
    positional, options, it = [], {}, iter(args)
    for arg in it:
        if arg == "--":  # the end of the options: what follows is text, even a paragraph that begins with --
            positional.extend(it)
            break
        if arg in flags:
            options[arg] = True
        elif arg in valued:
            value = next(it, None)
            if value is None:
                raise CommandError(f"{arg} needs a value")
            options[arg] = value
        elif arg.startswith("--") and len(arg) > 2 and not arg[2:3].isdigit():
            raise CommandError(f"unknown option {arg}; `help` lists the commands")
        else:
            positional.append(arg)
    return positional, options


def _text_after(args: list[str]) -> list[str]:
    """TARGET [--] PARAGRAPH...: the `--` that may end the options (none here) is not a paragraph."""
    return args[:1] + args[2:] if args[1:2] == ["--"] else args


class DraftCommands:
    def __init__(self, log: EventLog, clock: Callable[[], int] = _now_us, limits: QueryLimits | None = None, *,
                 max_post_bytes: int = MAX_POST_BYTES, ready_copies: int = 2, private_copies: int = 4) -> None:
        self.log, self.clock, self.max_post_bytes = log, clock, min(max_post_bytes, MAX_POST_BYTES)
        self.state = DraftState()
        self.folder = StreamFolder(log, DRAFT_STREAMS, self.state.evolve)
        self.sandbox = QuerySandbox(self.state, limits or QueryLimits(), ready_copies=ready_copies,
                                    private_copies=private_copies)

    def catch_up(self) -> None:
        self.folder.catch_up()

    def prepare_queries(self) -> None:
        """Fold, then build the query database (seconds on a big site): at startup, not at a voter's first query."""
        self.catch_up()
        self.sandbox.prepare()

    def run(self, voter: str, args: list[str], *, idempotency_key: str | None = None) -> Reply:
        voter = normalise_address(voter)
        self.catch_up()
        command, rest = (args[0], list(args[1:])) if args else ("help", [])
        if command not in HELP:
            raise CommandError(f"drafts has no command {command!r}; `help` lists them")
        if command == "query" and rest == ["--help"]:
            return Reply(self.sandbox.tables_help())
        if command != "query" and "--help" in rest:
            return Reply(HELP[command])
        if command == "help":
            return Reply("drafts: groups, posts and moderation. Commands:\n" + "\n".join(HELP.values()))
        if command == "query":
            return self.query(voter, " ".join(rest))
        handler = getattr(self, f"_{command}")
        return handler(voter, rest, callers_key(voter, idempotency_key))

    def query(self, voter: str, sql: str) -> Reply:
        self.catch_up()
        answer = self.sandbox.run(normalise_address(voter), sql)
        return Reply(answer.as_text(), answer.as_dict())

    def _append(self, decide: Callable[[], tuple[NewEvent, str]], key: str | None) -> str | None:
        """Append the event decide makes; its result (an id), or None if a retried command was done already."""
        out: list[str] = []

        def events() -> list[NewEvent]:
            event, result = decide()
            out[:] = [result]
            return [event]

        self.folder.append("draft", events, idempotency_key=key)
        return out[0] if out else None

    # -- groups ---------------------------------------------------------------------------------

    def _group(self, voter: str, args: list[str], key: str | None) -> Reply:
        sub, rest = (args[0], args[1:]) if args else ("", [])
        if sub == "create":
            return self._create(voter, rest, key)
        if sub == "list":
            groups = [self.state.groups[g] for g in self.state.visible_groups(voter)]
            rows = [group_data(g) for g in groups]
            return Reply("\n".join(f"{short(g.id)}  {g.describe()}" for g in groups) or "no groups yet", rows)
        if not rest:
            raise CommandError(HELP["group"])
        gid = group_ref(self.state, voter, rest[0])
        group, rest = self.state.group(gid), rest[1:]
        if sub == "members":
            text, rows = members_text(group, self.state.moved)
            return Reply(text, {"group": gid, "members": rows})
        changes: dict = {}
        if sub == "join":
            positional, opts = _options(rest, set(), {"--nickname", "--weight"})
            self._no_more(positional, "group join GROUP [--nickname NICK] [--weight W]")
            weight = parse_weight(opts["--weight"]) if "--weight" in opts else group.others_members_weight
            changes["members"] = (Member(voter, str(opts.get("--nickname") or voter.split("@")[0]), weight),)
        elif sub == "leave":
            self._no_more(rest, "group leave GROUP")
            changes["removed"] = (voter,)
        elif sub == "add":
            if len(rest) != 3:
                raise CommandError("write `group add GROUP VOTER NICKNAME WEIGHT`")
            changes["members"] = (Member(normalise_address(rest[0]), rest[1], parse_weight(rest[2])),)
        elif sub == "change":
            positional, opts = _options(rest, set(), {"--weight", "--nickname"})
            if len(positional) != 1 or not opts:
                raise CommandError("write `group change GROUP MEMBER [--weight W] [--nickname NICK]`, one or both")
            member = self._member(group, positional[0])
            changes["members"] = (Member(member.voter, str(opts.get("--nickname", member.nickname)),
                                         parse_weight(opts["--weight"]) if "--weight" in opts else member.weight),)
        elif sub in ("set-weight", "nickname", "remove"):
            if len(rest) != (1 if sub == "remove" else 2):
                raise CommandError(HELP["group"])
            member = self._member(group, rest[0])
            if sub == "remove":
                changes["removed"] = (member.voter,)
            elif sub == "set-weight":
                changes["members"] = (Member(member.voter, member.nickname, parse_weight(rest[1])),)
            else:
                changes["members"] = (Member(member.voter, rest[1], member.weight),)
        elif sub == "set":
            positional, opts = _options(rest, set(), {"--name", "--others-weight", "--default-score"})
            self._no_more(positional, HELP["group"])
            changes = {"name": opts.get("--name"),
                       "others_weight": parse_weight(opts["--others-weight"]) if "--others-weight" in opts else None,
                       "default_score": (parse_default_score(opts["--default-score"])
                                         if "--default-score" in opts else None)}
        else:
            raise CommandError(HELP["group"])
        self._append(lambda: decide_version(self.state, next_version(
            self.state.group(gid), voter, made_at_us=self.clock(), **changes)), key)
        group = self.state.group(gid)
        return Reply(f"{group.name} is at version {short(group.head)}: {group.describe()}", group_data(group))

    @staticmethod
    def _member(group, who: str) -> Member:
        member = group.member(who)
        if member is None:
            raise NotFoundError(f"{who!r} is not a member of {group.name}; `group members` lists them")
        return member

    def _create(self, voter: str, rest: list[str], key: str | None) -> Reply:
        positional, opts = _options(rest, {"--private"}, {"--others-weight", "--default-score", "--nickname",
                                                          "--weight", "--subject"})
        version = first_version(
            voter, " ".join(positional), str(opts.get("--nickname") or voter.split("@")[0]),
            weight=parse_weight(opts.get("--weight", "1")), private=bool(opts.get("--private")),
            others_weight=parse_weight(opts.get("--others-weight", "0")),
            default_score=parse_default_score(opts.get("--default-score", "0")), made_at_us=self.clock(),
            subject=str(opts.get("--subject", "")),
        )
        gid = self._append(lambda: decide_version(self.state, version), key)
        if gid is None:
            return Reply("done already (a retried command)")
        group = self.state.group(gid)
        return Reply(f"created group {short(gid)}: {group.describe()}", group_data(group))

    @staticmethod
    def _no_more(args: list[str], usage: str) -> None:
        if args:
            raise CommandError(f"unexpected {args[0]!r}; write `{usage}`")

    # -- posts and votes ------------------------------------------------------------------------

    def _check_size(self, texts: list[str]) -> None:
        """This site's post size limit, which may be below the one every site folds."""
        size = sum(len(t.encode("utf-8")) for t in clean_paragraphs(texts))
        if size > self.max_post_bytes:
            raise TooLargeError(f"a post here is at most {self.max_post_bytes:,} bytes; this one has {size:,}: "
                                "split it into several posts")

    def _post(self, voter: str, args: list[str], key: str | None) -> Reply:
        args, opts = _options(args, set(), {"--file", "--hunk", "--revision"})
        if len(args) < 2:
            raise CommandError("write `post GROUP PARAGRAPH...`, each paragraph in quotes")
        anchor = None
        if opts:
            if "--file" not in opts or "--revision" not in opts:
                raise CommandError("a post in answer to a diff names --file PATH and --revision HASH (and --hunk)")
            anchor = Anchor(str(opts["--file"]), str(opts.get("--hunk", "")), str(opts["--revision"]))
        self._check_size(args[1:])
        gid = group_ref(self.state, voter, args[0])
        pid = self._append(lambda: decide_post(self.state, voter, gid, args[1:], now_us=self.clock(), anchor=anchor),
                           key)
        return self._posted(pid, "posted")

    def _reply(self, voter: str, args: list[str], key: str | None) -> Reply:
        positional, opts = _options(args, set(), {"--group"})
        if len(positional) < 2:
            raise CommandError("write `reply POST[#N] PARAGRAPH...`")
        self._check_size(positional[1:])
        parent, paragraph = post_ref(self.state, voter, positional[0])
        gid = group_ref(self.state, voter, str(opts["--group"])) if "--group" in opts else parent.group
        pid = self._append(lambda: decide_post(self.state, voter, gid, positional[1:], reply_to=parent.id,
                                               reply_to_paragraph=paragraph, now_us=self.clock()), key)
        return self._posted(pid, "replied")

    def _amend(self, voter: str, args: list[str], key: str | None) -> Reply:
        args = _text_after(args)
        if len(args) < 2:
            raise CommandError("write `amend POST PARAGRAPH...` with the whole new text")
        self._check_size(args[1:])
        target, paragraph = post_ref(self.state, voter, args[0])
        if paragraph:
            raise CommandError("amend a whole post: write its id without #, then its whole new text")
        changed = self._append(lambda: decide_amend(self.state, voter, target.id, args[1:], now_us=self.clock()), key)
        if changed is None:
            return Reply("done already (a retried command)")
        post = short(target.amends or target.id)
        text = f"amended {short(changed)} in place" if changed == target.id else (
            f"proposed alternative {short(changed)} of post {post}")
        return Reply(text, {"post": target.amends or target.id, "changed": changed})

    def _posted(self, pid: str | None, verb: str) -> Reply:
        if pid is None:
            return Reply("done already (a retried command)")
        return Reply(f"{verb} {short(pid)}", {"post": pid, "group": self.state.items[pid].group})

    def _vote(self, voter: str, args: list[str], key: str | None) -> Reply:
        positional, opts = _options(args, set(), {"--group"})
        if len(positional) != 2:
            raise CommandError(HELP["vote"])
        how, ref = positional
        item, paragraph = post_ref(self.state, voter, ref)
        gid = group_ref(self.state, voter, str(opts["--group"])) if "--group" in opts else item.group
        if how in VOTE_TO:
            decide = lambda: decide_vote_to(self.state, voter, gid, item.id, VOTE_TO[how], paragraph)  # noqa: E731
        else:
            value = parse_vote_value(how)
            decide = lambda: decide_vote(self.state, voter, gid, item.id, value, paragraph)  # noqa: E731
        self._append(lambda: (decide(), item.id), key)
        target = f"paragraph {short(paragraph)} of post {short(item.id)}" if paragraph else f"post {short(item.id)}"
        group = self.state.group(gid)
        return Reply(f"voted {how} on {target} in {group.name}", {"group": gid, "post": item.id,
                                                                    "paragraph": paragraph})

    def _show(self, voter: str, args: list[str], key: str | None) -> Reply:
        positional, opts = _options(args, {"--all"}, {"--group"})
        if len(positional) != 1:
            raise CommandError(HELP["show"])
        try:
            gid = group_ref(self.state, voter, positional[0])
        except NotFoundError:
            item, _ = post_ref(self.state, voter, positional[0])
            gid = group_ref(self.state, voter, str(opts["--group"])) if "--group" in opts else item.group
            text, data = post_text(self.state, item, gid, voter)
            return Reply(text, data)
        text, rows = ranking_text(self.state, gid, bool(opts.get("--all")))
        return Reply(text, {"group": gid, "posts": rows})
