"""The polls service's commands: operators create and configure polls; voters vote, unvote and look."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from civitas_kernel.addresses import normalise_address
from civitas_kernel.application import StreamFolder
from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.idempotency import request_digest, run_once
from civitas_kernel.log import EventLog

from civitas_schema.v1 import poll_pb2

from civitas_polls.domain.poll_files import plan_release_polls
from civitas_polls.domain.polls import PollConfig
from civitas_polls.domain.votes import PollsState, decide_configure, decide_create, decide_unvote, decide_vote

POLL_STREAMS = ("poll", "vote")

HELP = {
    "vote": "vote CANDIDATE: vote for CANDIDATE (a voter's address, or a proposal's URI in a normative poll).\n"
    "vote: show whom you vote for.   vote --alter VOTER: show whom VOTER votes for (votes are public).",
    "unvote": "unvote: withdraw your vote.",
    "hello": "hello: say hello; shows the poll and your vote.",
    "help": "help: list the commands.   COMMAND --help: explain one.",
}


def _now_us() -> int:
    return time.time_ns() // 1000


class PollCommands:
    def __init__(
        self,
        log: EventLog,
        clock: Callable[[], int] = _now_us,
        reported_count: Callable[[], Any] = lambda: None,
    ) -> None:
        self.log, self.clock, self.reported_count = log, clock, reported_count
        self.state = PollsState()
        self.folder = StreamFolder(log, POLL_STREAMS, self.state.evolve)

    def catch_up(self) -> None:
        self.folder.catch_up()

    # -- operators -------------------------------------------------------------------------

    def create(self, name: str, **options) -> Reply:
        config = PollConfig(name, options.pop("title", None) or name, **options)
        self.folder.append("poll", lambda: [decide_create(self.state, config)])
        created = self.state.poll(name)
        return Reply(f"created poll {name}: {created.title}", created.as_dict())

    def configure(self, name: str, **changes) -> Reply:
        self.folder.append("poll", lambda: [decide_configure(self.state, name, changes)])
        config = self.state.poll(name)
        return Reply(f"configured poll {name}", config.as_dict())

    def apply_release(self, commit: str, polls: dict[str, PollConfig]) -> Reply:
        """Make the poll stream hold the live release's polls (polls/*.toml), attributed to release:<commit>."""
        self.catch_up()
        planned: list = []

        def decide() -> list:
            planned[:] = plan_release_polls(self.state, polls, commit, self.clock())
            return list(planned)

        self.folder.append("poll", decide)
        names = [poll_pb2.PollConfigured.FromString(e.body).name for e in planned]
        text = f"release {commit[:12]}: " + (f"configured {', '.join(names)}" if names else "the polls agree already")
        return Reply(text, {"commit": commit, "events": len(planned), "polls": names})

    def list_polls(self) -> Reply:
        self.catch_up()
        polls = [self.state.polls[name] for name in sorted(self.state.polls)]
        if not polls:
            return Reply("no polls yet; `civitas poll create NAME` makes one", [])
        lines = [f"{p.name:<20} {p.kind:<10} votes {len(self.state.votes.get(p.name, {})):>7}  {p.title}" for p in polls]
        return Reply("\n".join(lines), [{**p.as_dict(), "votes": len(self.state.votes.get(p.name, {}))} for p in polls])

    def has_poll(self, name: str) -> bool:
        return name in self.state.polls

    def poll(self, name: str) -> PollConfig:
        self.catch_up()
        return self.state.poll(name)

    def votes(self, poll: str) -> dict[str, str]:
        self.catch_up()
        self.state.poll(poll)
        return dict(self.state.votes.get(poll, {}))

    # -- voters ----------------------------------------------------------------------------

    def run(self, voter: str, poll: str, args: list[str], *, idempotency_key: str | None = None) -> Reply:
        """`VOTER POLL COMMAND ARGS`; with an idempotency key, once per key (a retry gets the first reply)."""
        voter = normalise_address(voter)
        if idempotency_key is not None:
            return run_once(self.folder, voter, idempotency_key, request_digest(poll, args),
                            lambda: self._run(voter, poll, args), self._fresh)
        return self._run(voter, poll, args)

    def _fresh(self):
        """A new, empty state to fold into again; its evolve."""
        self.state = PollsState()
        return self.state.evolve

    def _run(self, voter: str, poll: str, args: list[str]) -> Reply:
        self.catch_up()
        config = self.state.poll(poll)
        command, rest = (args[0], args[1:]) if args else ("help", [])
        if command not in HELP:
            raise CommandError(f"{poll} has no command {command!r}; `help` lists them")
        if "--help" in rest:
            return Reply(HELP[command])
        if command == "help":
            return Reply(f"{config.title} ({poll}, {config.kind}). Commands:\n" + "\n".join(HELP.values()))
        if command == "hello":
            return Reply(f"hello {voter}, this is {config.title} ({poll}). " + self._describe_vote(poll, voter, "you"))
        if command == "unvote":
            self._expect_no_args(command, rest)
            before = self.state.vote_of(poll, voter)
            self.folder.append("vote", lambda: [decide_unvote(self.state, poll, voter, self.clock())])
            return Reply(f"you were voting for {before or 'nobody'}; you now vote for nobody",
                         {"poll": poll, "voter": voter, "before": before, "candidate": None})
        if not rest:
            return Reply(self._describe_vote(poll, voter, "you"), self._vote_data(poll, voter))
        if rest[0] == "--alter":
            if len(rest) != 2:
                raise CommandError("write `vote --alter VOTER` to see whom VOTER votes for")
            other = normalise_address(rest[1])
            return Reply(self._describe_vote(poll, other, other), self._vote_data(poll, other))
        if len(rest) != 1:
            raise CommandError("write `vote CANDIDATE` with one candidate")
        before = self.state.vote_of(poll, voter)
        self.folder.append("vote", lambda: [decide_vote(self.state, poll, voter, rest[0], self.clock())[0]])
        now = self.state.vote_of(poll, voter)
        return Reply(
            f"you were voting for {before or 'nobody'}; you now vote for {now}\n" + self._trace_text(poll, voter),
            {"poll": poll, "voter": voter, "before": before, "candidate": now, "trace": self._trace(poll, voter)},
        )

    @staticmethod
    def _expect_no_args(command: str, rest: list[str]) -> None:
        if rest:
            raise CommandError(f"`{command}` takes no arguments")

    def _describe_vote(self, poll: str, voter: str, who: str) -> str:
        candidate = self.state.vote_of(poll, voter)
        subject = "you vote" if who == "you" else f"{who} votes"
        return (f"{subject} for {candidate}" if candidate else f"{subject} for nobody") + "\n" + self._trace_text(poll, voter)

    def _vote_data(self, poll: str, voter: str) -> dict:
        return {"poll": poll, "voter": voter, "candidate": self.state.vote_of(poll, voter), "trace": self._trace(poll, voter)}

    def _trace(self, poll: str, voter: str) -> list[str] | None:
        count = self.reported_count()
        if count is None or poll not in count.polls:
            return None
        return count.polls[poll].trace(voter)

    def _trace_text(self, poll: str, voter: str) -> str:
        count = self.reported_count()
        if count is None or poll not in count.polls:
            return "(no count of this poll is reported yet)"
        path = count.polls[poll].trace(voter)
        if not path:
            node = count.polls[poll].node(voter)
            why = f": {node.bar}" if node and node.bar else ""
            return f"in the reported count this vote is not cast{why}"
        return "in the reported count: " + " -> ".join(path) + f" (held by {path[-1]})"
