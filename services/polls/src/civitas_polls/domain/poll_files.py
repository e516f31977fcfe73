"""polls/NAME.toml in the live release: a poll and its configuration; and what the poll stream must record so that
the polls in force are the files' (pure: the caller reads the files and gives the time).

    title = "Who should be mayor?"
    kind = "electoral"        # or "normative"
    district = ""             # a postal-code prefix; empty: everyone
    min_trust = 1
    opens = ""                # "2027-03-01T08:00:00Z"; empty: open from creation
    closes = ""               # empty: never closes

A poll a release made that the files no longer hold is closed (its configuration with a close at the release's
time), never left open; polls made otherwise (`civitas poll create`) are the operator's and stay as they are.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import datetime, timezone

from civitas_kernel.commands import CommandError
from civitas_kernel.events import NewEvent

from civitas_polls.domain.polls import KINDS, PollConfig, PollError, check_name, checked
from civitas_polls.domain.votes import PollsState

POLLS_FOLDER = "polls"
RELEASE_ACTOR = "release:"  # the actor of a poll's configuration from the live release: release:<commit>
KEYS = {"title", "kind", "district", "min_trust", "opens", "closes"}


class PollFileError(CommandError):
    """A poll's file cannot be read; the message names the file and what to fix."""


def release_actor(commit: str) -> str:
    return RELEASE_ACTOR + commit


def poll_name_of(file: str) -> str | None:
    """The poll a file of polls/ configures (NAME.toml), or None: a file that is not a poll (the README)."""
    return file[: -len(".toml")] if file.endswith(".toml") else None


def _time(value: object, key: str, where: str) -> int:
    if value == "":
        return 0
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise PollFileError(f"{where}: {key} = {value!r} is no date and time; write it like "
                                '"2027-03-01T08:00:00Z", or "" for none') from None
    else:
        raise PollFileError(f'{where}: {key} is a date and time in quotes, like "2027-03-01T08:00:00Z"')
    if moment.tzinfo is None:
        raise PollFileError(f"{where}: {key} = {value!r} says no time zone; end it with Z (UTC) or an offset")
    return int(moment.astimezone(timezone.utc).timestamp()) * 1_000_000 + moment.microsecond


def parse_poll_file(name: str, text: str) -> PollConfig:
    """The poll polls/NAME.toml configures, checked as every poll is; PollFileError saying what to fix."""
    where = f"polls/{name}.toml"
    try:
        check_name(name)
    except PollError as error:
        raise PollFileError(f"{where}: {error}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PollFileError(f"{where} is not valid TOML ({error}); fix the line it names") from None
    unknown = set(table) - KEYS
    if unknown:
        raise PollFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a poll takes "
                            f"{', '.join(sorted(KEYS))}")
    title, kind, district = table.get("title", name), table.get("kind", "electoral"), table.get("district", "")
    min_trust = table.get("min_trust", 0)
    if not all(isinstance(v, str) for v in (title, kind, district)):
        raise PollFileError(f"{where}: title, kind and district are text in quotes")
    if kind not in KINDS:
        raise PollFileError(f"{where}: kind is \"electoral\" or \"normative\", not {kind!r}")
    if isinstance(min_trust, bool) or not isinstance(min_trust, int):
        raise PollFileError(f"{where}: min_trust is a whole number, like 1")
    config = PollConfig(name, title, kind, district, min_trust, _time(table.get("opens", ""), "opens", where),
                        _time(table.get("closes", ""), "closes", where))
    try:
        return checked(config)
    except PollError as error:
        raise PollFileError(f"{where}: {error}") from None


def plan_release_polls(state: PollsState, files: dict[str, PollConfig], commit: str, now_us: int) -> list[NewEvent]:
    """The events that make the poll stream hold the files' polls: each new poll created, each changed one
    configured, each poll a release made and the files dropped closed; nothing when the stream agrees already
    (a replay or a restart plans nothing)."""
    actor, events = release_actor(commit), []
    for name in sorted(files):
        wanted, held = files[name], state.polls.get(name)
        if held is not None and held.kind != wanted.kind:
            raise PollFileError(f"polls/{name}.toml: the poll {name} is {held.kind} and a poll's kind never "
                                f"changes; make a new poll under another name")
        if held != wanted:
            events.append(NewEvent.of(wanted.to_message(), actor))
    for name in sorted(state.polls):
        held = state.polls[name]
        made_by_release = state.configured_by.get(name, "").startswith(RELEASE_ACTOR)
        close = max(now_us, held.opens_at_us + 1)  # a poll closes after it opens
        closed = 0 < held.closes_at_us <= close
        if name not in files and made_by_release and not closed:
            events.append(NewEvent.of(replace(held, closes_at_us=close).to_message(), actor))
    return events
