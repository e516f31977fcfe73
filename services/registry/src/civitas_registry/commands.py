"""The registry's application layer: `VOTER register COMMAND ARGS`, the registrar, and reads for the API.

State is folded from this site's registration, trust and doubt streams. A command is decided
against the state at a known position and appended with that position expected; if another
writer moved the stream first, the state catches up and the command is decided again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from civitas_kernel.application import StreamFolder
from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.events import NewEvent
from civitas_kernel.idempotency import request_digest, run_once
from civitas_kernel.log import EventLog
from civitas_kernel.site_rules import SiteRules
from civitas_kernel.voter_list import VoterList

from civitas_registry.domain import register as r
from civitas_registry.domain.addresses import normalise_address
from civitas_registry.domain.register import RegisterState
from civitas_registry.domain.voter_list import ListConfig, list_config_of
from civitas_registry.help import HELP, usage
from civitas_registry.lineage_commands import LineageCommands, MoveOptions
from civitas_registry.replies import describe_list, shown

REGISTER_STREAMS = ("registration", "trust", "doubt")
STAYS_WITH_THE_VOTER = ("set", "unset", "trust", "untrust", "doubt", "undoubt", "confirm")  # refused once moved away


class RegistryCommands:
    def __init__(self, log: EventLog, config: ListConfig = ListConfig(),
                 reported_list: Callable[[], VoterList | None] = lambda: None,
                 moves: MoveOptions | None = None, rules: Callable[[], SiteRules] | None = None) -> None:
        self.log, self._config, self.reported_list = log, config, reported_list
        self.rules = rules  # the rules in force (the live release's, else the settings'), asked at each command
        self.state = RegisterState()
        self.lineage = LineageCommands(self, moves or MoveOptions(clock=lambda: 0))  # forks and moves
        self.folder = StreamFolder(log, REGISTER_STREAMS, self._evolve)

    def _evolve(self, type, message, actor) -> None:
        self.state.evolve(type, message, actor)
        self.lineage.state.evolve(type, message, actor)

    @property
    def config(self) -> ListConfig:
        """The voter lists' rules in force now."""
        return list_config_of(self.rules()) if self.rules else self._config

    def registrars(self) -> tuple[str, ...]:
        """Who may give primary trust besides the site's operator (registrars.toml in the live release)."""
        return self.rules().registrars if self.rules else ()

    def catch_up(self) -> int:
        """Fold this site's new register events into the state; returns how many."""
        return self.folder.catch_up()

    def _append(self, stream: str, decide: Callable[[], Sequence[NewEvent]]) -> bool:
        """Decide and append; False when the register already said so and nothing was written."""
        return self.folder.append(stream, decide) is not None

    def _fresh(self):
        """A new, empty state to fold into again; its evolve."""
        self.state = RegisterState()
        self.lineage.state = type(self.lineage.state)()
        return self._evolve

    # -- reads for the HTTP API --------------------------------------------------------------

    def attributes(self, voter: str) -> dict[str, str]:
        return dict(self.state.attributes.get(normalise_address(voter), {}))

    def trusted_by(self, voter: str) -> list[str]:
        return self.state.trusted_by(normalise_address(voter))

    def doubted_by(self, voter: str) -> list[tuple[str, str]]:
        """Whom voter doubts, with the reasons given, by address."""
        return self.state.doubts_by(normalise_address(voter))

    doubts_by = doubted_by  # the name the gateway uses

    def trusters_of(self, voter: str) -> list[str]:
        """Who trusts voter, by address."""
        return self.state.trusters_of(normalise_address(voter))

    def doubters_of(self, voter: str) -> list[tuple[str, str]]:
        """Who doubts voter, with their reasons, by address."""
        return self.state.doubters_of(normalise_address(voter))

    def primary_edges(self, voter: str) -> int:
        """How many primary edges the registrar extends to voter."""
        return self.state.primary.get(normalise_address(voter), 0)

    def where_moved(self, voter: str) -> dict:
        """Where a voter who left this site went, and their page there: {} if they did not."""
        return self.lineage.where_moved(normalise_address(voter))

    def moves_record(self, voter: str) -> dict:
        """A voter's moves to and from this site, where they went and the trust they brought as evidence (what the
        moves page shows); `known`: this site registered them, was asked to let them in, or saw them move."""
        voter = normalise_address(voter)
        moves = self.lineage.moves_of(voter)
        known = bool(moves) or voter in self.state.registrants or bool(self.lineage.state.accepted.get(voter))
        return {"voter": voter, "known": known, "moves": moves, "evidence": self.lineage.evidence_of(voter),
                "moved_to": None, "moved_url": None, **self.lineage.where_moved(voter)}

    def site_lineage(self) -> dict:
        """The site's parent, the cut it was forked at and how many inherited voters chose it (the lineage page)."""
        return self.lineage.lineage()

    def registrants(self) -> list[str]:
        return sorted(self.state.registrants)

    # -- the registrar --------------------------------------------------------------------------

    def registrar_trust(self, voter: str, edges: int = 1) -> Reply:
        voter = normalise_address(voter)
        before = self.state.primary.get(voter, 0)
        changed = self._append("trust", lambda: r.decide_primary_trust(self.state, voter, edges))
        note = "" if changed else " (unchanged)"
        return Reply(f"primary trust in {voter}: {before} -> {edges} edges{note}",
                     {"voter": voter, "before": before, "edges": edges, "changed": changed})

    def registrar_untrust(self, voter: str) -> Reply:
        voter = normalise_address(voter)
        before = self.state.primary.get(voter, 0)
        changed = self._append("trust", lambda: r.decide_primary_untrust(self.state, voter))
        note = "" if changed else " (the registrar gave none; nothing changed)"
        return Reply(f"primary trust in {voter}: {before} -> 0 edges{note}",
                     {"voter": voter, "before": before, "edges": 0, "changed": changed})

    # -- voters ---------------------------------------------------------------------------------

    def run(self, voter: str, args: list[str], *, idempotency_key: str | None = None) -> Reply:
        """`VOTER register COMMAND ARGS`; with an idempotency key, once per key (a retry gets the first reply)."""
        voter = normalise_address(voter)
        if idempotency_key is not None:
            return run_once(self.folder, voter, idempotency_key, request_digest("register", args),
                            lambda: self._run(voter, args), self._fresh)
        return self._run(voter, args)

    def _run(self, voter: str, args: list[str]) -> Reply:
        self.catch_up()
        command, rest = (args[0], list(args[1:])) if args else ("help", [])
        if command not in HELP:
            raise CommandError(f"the register has no command {command!r}; `help` lists them")
        if _asks_for_help(command, rest):
            return Reply(HELP[command], {"command": command, "help": HELP[command]})
        gone = self.lineage.state.moved_to(voter)
        if gone is not None and command in STAYS_WITH_THE_VOTER:
            raise CommandError(f"{voter} moved from {self.log.site} to {gone}: your register is there now, and this "
                               f"site no longer counts you. To come back, run `register accept-move {gone}` here and "
                               f"`register move {self.log.site}` there once the cooling-off period has passed")
        handler = getattr(self, "_" + command.replace("-", "_"))
        return handler(voter, rest)

    # -- forks and moves (lineage_commands.py) ----------------------------------------------------

    def _confirm(self, voter: str, rest: list[str]) -> Reply:
        _no_args("confirm", rest)
        return self.lineage.confirm(voter)

    def _move(self, voter: str, rest: list[str]) -> Reply:
        if len(rest) != 1:
            raise CommandError(usage("move"))
        return self.lineage.move(voter, rest[0])

    def _accept_move(self, voter: str, rest: list[str]) -> Reply:
        if len(rest) != 1:
            raise CommandError(usage("accept-move"))
        return self.lineage.accept_move(voter, rest[0])

    def _moves(self, voter: str, rest: list[str]) -> Reply:
        _no_args("moves", rest)
        moves = self.lineage.moves_of(voter)
        lines = [f"{'to' if m['direction'] == 'out' else 'from'} {m['site']} at {m['at_us']} µs" for m in moves]
        text = "\n".join(lines) if lines else f"{voter} has never moved to or from {self.log.site}"
        return Reply(text, {"voter": voter, "moves": moves, "evidence": self.lineage.evidence_of(voter)})

    def _hello(self, voter: str, rest: list[str]) -> Reply:
        _no_args("hello", rest)
        reported = self.reported_list()
        entry = reported.get(voter) if reported else None
        standing = ("no voter list is reported yet" if reported is None else
                    "you are not on the reported voter list" if entry is None else
                    f"in the reported voter list your trust level is {entry.trust_level}"
                    + (f" (barred: {entry.bar})" if entry.bar else ""))
        trusts = len(self.state.trusts.get(voter, ()))
        gone = self.lineage.state.moved_to(voter)
        if gone is not None:
            standing = f"you moved to {gone} and vote there; this site no longer counts you"
        return Reply(f"hello {voter}, this is the voter register of {self.log.site}; you trust {trusts} "
                     f"voter{'s' if trusts != 1 else ''}; {standing}. `help` lists the commands.",
                     {"voter": voter, "site": self.log.site, "trusts": trusts, "moved_to": gone,
                      "trust_level": entry.trust_level if entry else None, "bar": entry.bar if entry else None})

    def _primary(self, voter: str, rest: list[str]) -> Reply:
        """A registrar named in registrars.toml extends (or, with 0, withdraws) primary trust, under their name."""
        if len(rest) not in (1, 2) or (len(rest) == 2 and not rest[1].isdigit()):
            raise CommandError(usage("primary"))
        target, edges = normalise_address(rest[0]), int(rest[1]) if len(rest) == 2 else 1
        before = self.state.primary.get(target, 0)
        changed = self._append("trust", lambda: r.decide_registrar_primary(self.state, voter, self.registrars(),
                                                                           target, edges))
        note = "" if changed else " (unchanged)"
        return Reply(f"primary trust in {target}: {before} -> {edges} edges, given by registrar {voter}{note}",
                     {"voter": target, "before": before, "edges": edges, "registrar": voter, "changed": changed})

    def _help(self, voter: str, rest: list[str]) -> Reply:
        _no_args("help", rest)
        return Reply("Commands of the voter register:\n" + "\n".join(HELP.values()), {"commands": list(HELP)})

    def _target(self, voter: str, rest: list[str]) -> tuple[str, list[str]]:
        """Whose attributes a set/unset changes: `--alter VOTER` names another registrant."""
        if rest[:1] == ["--alter"]:
            if len(rest) < 2:
                raise CommandError("write `--alter VOTER` with the other voter's email address")
            return normalise_address(rest[1]), rest[2:]
        return voter, rest

    def _level(self, voter: str) -> int | None:
        reported = self.reported_list()
        if reported is None:
            return None
        entry = reported.get(voter)
        return entry.trust_level if entry else 0

    def _set(self, voter: str, rest: list[str]) -> Reply:
        target, rest = self._target(voter, rest)
        if len(rest) < 2:
            raise CommandError(usage("set"))
        attribute, value = rest[0], _words(rest[1:])
        return self._change(voter, target, attribute, value)

    def _unset(self, voter: str, rest: list[str]) -> Reply:
        target, rest = self._target(voter, rest)
        if len(rest) != 1:
            raise CommandError(usage("unset"))
        return self._change(voter, target, rest[0], None)

    def _change(self, voter: str, target: str, attribute: str, value: str | None) -> Reply:
        level = self._level(voter) if target != voter else None
        minimum = self.config.pre_registration_min
        before = self.state.attribute(target, attribute)

        def decide() -> list[NewEvent]:
            nonlocal before
            before = self.state.attribute(target, attribute)  # as of the state this attempt decides on
            if value is None:
                return r.decide_unset(self.state, voter, target, attribute, level=level, minimum=minimum)
            return r.decide_set(self.state, voter, target, attribute, value, level=level, minimum=minimum)

        changed = self._append("registration", decide)
        whose = "" if target == voter else f"{target} "
        note = "" if changed else " (unchanged)"
        return Reply(f"{whose}{attribute}: {shown(before)} -> {shown(value)}{note}",
                     {"voter": target, "attribute": attribute, "before": before, "after": value, "changed": changed})

    def _listing_subject(self, voter: str, command: str, rest: list[str]) -> str | None:
        """`trust` / `doubt` alone list your own; `--alter VOTER` lists another's; None: not a listing."""
        if not rest:
            return voter
        if rest[0] == "--alter":
            if len(rest) != 2:
                raise CommandError(f"write `{command} --alter VOTER` to see whom VOTER {command}s")
            return normalise_address(rest[1])
        return None

    def _trust(self, voter: str, rest: list[str]) -> Reply:
        subject = self._listing_subject(voter, "trust", rest)
        if subject is not None:
            trusted = self.state.trusted_by(subject)
            return Reply(describe_list(voter, subject, "trust", trusted), {"voter": subject, "trusts": trusted})
        if len(rest) != 1:
            raise CommandError(usage("trust"))
        trustee = normalise_address(rest[0])
        changed = self._append("trust", lambda: r.decide_trust(self.state, voter, trustee))
        text = f"you trust {trustee}" + ("" if changed else " already; nothing changed")
        return Reply(text, {"truster": voter, "trustee": trustee, "trusts": True, "changed": changed})

    def _untrust(self, voter: str, rest: list[str]) -> Reply:
        if len(rest) != 1:
            raise CommandError(usage("untrust"))
        trustee = normalise_address(rest[0])
        changed = self._append("trust", lambda: r.decide_untrust(self.state, voter, trustee))
        text = f"you no longer trust {trustee}" if changed else f"you did not trust {trustee}; nothing changed"
        return Reply(text, {"truster": voter, "trustee": trustee, "trusts": False, "changed": changed})

    def _doubt(self, voter: str, rest: list[str]) -> Reply:
        subject = self._listing_subject(voter, "doubt", rest)
        if subject is not None:
            doubts = self.state.doubts_by(subject)
            lines = [f"{d}: {reason}" if reason else d for d, reason in doubts]
            return Reply(describe_list(voter, subject, "doubt", lines),
                         {"voter": subject, "doubts": [{"doubted": d, "reason": why} for d, why in doubts]})
        doubted, reason = normalise_address(rest[0]), _words(rest[1:])
        changed = self._append("doubt", lambda: r.decide_doubt(self.state, voter, doubted, reason))
        text = f"you doubt {doubted}" + (f": {reason}" if reason else "") + ("" if changed else " (already; nothing changed)")
        return Reply(text, {"doubter": voter, "doubted": doubted, "reason": reason, "changed": changed})

    def _undoubt(self, voter: str, rest: list[str]) -> Reply:
        if len(rest) != 1:
            raise CommandError(usage("undoubt"))
        doubted = normalise_address(rest[0])
        changed = self._append("doubt", lambda: r.decide_undoubt(self.state, voter, doubted))
        text = f"you no longer doubt {doubted}" if changed else f"you did not doubt {doubted}; nothing changed"
        return Reply(text, {"doubter": voter, "doubted": doubted, "changed": changed})


def _asks_for_help(command: str, rest: list[str]) -> bool:
    """`COMMAND --help`; a later `--help` inside a VALUE or REASON is just a word of it."""
    if command == "set":
        head = rest[:4] if rest[:1] == ["--alter"] else rest[:2]  # up to the value's first word
    elif command == "doubt":
        head = rest[:2]  # VOTER and the reason's first word
    else:
        head = rest
    return "--help" in head


def _words(args: list[str]) -> str:
    """A multi-word VALUE or REASON: the remaining arguments joined by single spaces."""
    return " ".join(word for arg in args if (word := arg.strip(" ")))


def _no_args(command: str, rest: list[str]) -> None:
    if rest:
        raise CommandError(f"`{command}` takes no arguments; {usage(command)}")
