"""Voted maintenance actions: maintenance.toml names what may be run, a request file asks for one run (pure).

A request is a proposal that adds `maintenance/runs/NAME.toml` (`action = "vacuum"`, `why = "..."`); the action
it names is read from maintenance.toml at the proposal's base, so no proposal adds an action and runs it at once,
and maintenance.toml itself is constitutional. Built-ins are code of the deployer's own; a command is run in a
sandbox with no credential. Only a built-in may be stop-only: a command could do anything its sandbox allows.
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass

from civitas_deployer.domain.rules import RulesError

ACTIONS_FILE = "maintenance.toml"
RUNS_DIR = "maintenance/runs/"
# The built-ins, and whether each only stops something (those may have a shorter window).
# Resuming deployments lets approved changes be applied again, so it is no stop: it has the full vote.
BUILTINS = {"compile": False, "vacuum": False, "restart": False, "pause-deployments": True,
            "resume-deployments": False, "roll-back": True}
DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S = 600, 3600
ACTION_KEYS, REQUEST_KEYS = {"title", "runs", "command", "timeout_s"}, {"action", "why"}


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    builtin: str | None
    command: tuple[str, ...]
    timeout_s: int

    @property
    def stop_only(self) -> bool:
        return self.builtin is not None and BUILTINS[self.builtin]

    @property
    def runs(self) -> str:
        return self.builtin if self.builtin is not None else shlex.join(self.command)


@dataclass(frozen=True)
class Request:
    path: str
    action: str
    why: str


def _toml(text: bytes, where: str) -> dict:
    try:
        return tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"{where} is not valid TOML ({error}); fix it with a proposal") from None


def _action(name: str, table: object, where: str) -> Action:
    if not isinstance(table, dict):
        raise RulesError(f"{where}: [actions.{name}] must be a table")
    unknown = set(table) - ACTION_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} in [actions.{name}]; "
                         f"it takes {', '.join(sorted(ACTION_KEYS))}")
    title, runs, command = table.get("title"), table.get("runs"), table.get("command")
    if not isinstance(title, str) or not title.strip():
        raise RulesError(f"{where}: [actions.{name}] needs a title, a line saying what it does")
    if (runs is None) == (command is None):
        raise RulesError(f"{where}: [actions.{name}] takes either runs = a built-in "
                         f"({', '.join(sorted(BUILTINS))}) or command = [\"/usr/bin/...\", ...], not both or neither")
    if runs is not None and runs not in BUILTINS:
        raise RulesError(f"{where}: [actions.{name}] runs = {runs!r} is no built-in; they are "
                         f"{', '.join(sorted(BUILTINS))}")
    words = command if isinstance(command, list) else []
    if command is not None and (not words or not all(isinstance(w, str) and w for w in words)
                                or not words[0].startswith("/")):
        raise RulesError(f"{where}: [actions.{name}] command must be a list of words whose first is an absolute "
                         "path, like [\"/usr/bin/df\", \"-h\"]")
    timeout = table.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_S:
        raise RulesError(f"{where}: [actions.{name}] timeout_s must be whole seconds from 1 to {MAX_TIMEOUT_S}")
    return Action(name, title.strip(), runs, tuple(command or ()), timeout)


def parse_actions(text: bytes | None, where: str = ACTIONS_FILE) -> dict[str, Action]:
    """The actions maintenance.toml names (none where the file is absent)."""
    if text is None:
        return {}
    table = _toml(text, where)
    unknown = set(table) - {"actions"}
    if unknown:
        raise RulesError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}; it takes [actions.NAME]")
    actions = table.get("actions", {})
    if not isinstance(actions, dict):
        raise RulesError(f"{where}: actions must be tables, written [actions.NAME]")
    return {name: _action(name, body, where) for name, body in sorted(actions.items())}


def request_paths(changed_paths: tuple[str, ...] | list[str]) -> list[str]:
    return sorted(p for p in changed_paths if p.startswith(RUNS_DIR))


def parse_request(path: str, text: bytes, actions: dict[str, Action]) -> tuple[Request, Action]:
    """A request file and the action it asks for; RulesError saying what to write instead."""
    if not path.endswith(".toml") or "/" in path[len(RUNS_DIR):]:
        raise RulesError(f"{path}: a request to run an action is a file maintenance/runs/NAME.toml")
    table = _toml(text, path)
    unknown = set(table) - REQUEST_KEYS
    if unknown:
        raise RulesError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; it takes action and why")
    name, why = table.get("action"), table.get("why", "")
    if not isinstance(why, str):
        raise RulesError(f"{path}: why must be text")
    if name not in actions:
        known = ", ".join(sorted(actions)) or "none yet: add one to maintenance.toml (a constitutional change)"
        raise RulesError(f"{path}: action = {name!r} is not in maintenance.toml at this proposal's base; "
                         f"the actions are: {known}")
    return Request(path, name, why.strip()), actions[name]


def check_requests(changed_paths, at_base, at_result) -> list[tuple[Request, Action]]:
    """Every request a revision makes, checked; at_base/at_result(path) read a file at the base and result commits.

    A request is a new file: one edited or removed would ask for a run already asked for, which runs only once.
    """
    paths = request_paths(changed_paths)
    if not paths:
        return []
    actions = parse_actions(at_base(ACTIONS_FILE))
    found = []
    for path in paths:
        text = at_result(path)
        if at_base(path) is not None or text is None:
            raise RulesError(f"{path} already asked for its run, which happens once; ask again with a new file "
                             "under maintenance/runs/")
        found.append(parse_request(path, text, actions))
    return found


def only_stops(changed_paths, requests: list[tuple[Request, Action]]) -> bool:
    """Whether a revision does nothing but ask for stop-only actions: those may be decided in a shorter window."""
    return bool(requests) and len(requests) == len(changed_paths) and all(a.stop_only for _, a in requests)
