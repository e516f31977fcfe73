"""The register's commands as the voter sees them: one line of help each, and their usage."""

from __future__ import annotations

from civitas_registry.domain.values import ATTRIBUTES, MAX_LENGTH, MAX_REASON

_ATTRIBUTES = "|".join(ATTRIBUTES)
_LIMITS = ", ".join(f"{a} {n}" for a, n in MAX_LENGTH.items())

USAGE = {
    "set": f"set [--alter VOTER] {_ATTRIBUTES} VALUE",
    "unset": f"unset [--alter VOTER] {_ATTRIBUTES}",
    "trust": "trust VOTER",
    "untrust": "untrust VOTER",
    "doubt": "doubt VOTER [REASON]",
    "undoubt": "undoubt VOTER",
    "primary": "primary VOTER [EDGES]",
    "hello": "hello",
    "help": "help",
    "confirm": "confirm",
    "accept-move": "accept-move SITE",
    "move": "move SITE",
    "moves": "moves",
}

HELP = {
    "set": f"{USAGE['set']}: set one of your attributes (at most: {_LIMITS} characters; a link is an "
    "http(s) address). With --alter VOTER, pre-register another voter who has not yet set their own.",
    "unset": f"{USAGE['unset']}: remove one of your attributes (or a pre-registered voter's).",
    "trust": f"{USAGE['trust']}: vouch for a neighbour.   trust: list whom you trust.   "
    "trust --alter VOTER: list whom VOTER trusts.",
    "untrust": f"{USAGE['untrust']}: withdraw your trust.",
    "doubt": f"{USAGE['doubt']}: signal doubt about a registrant (reason at most {MAX_REASON} characters; "
    "it never changes a trust level).   doubt: list whom you doubt.   doubt --alter VOTER: list VOTER's doubts.",
    "undoubt": f"{USAGE['undoubt']}: withdraw your doubt.",
    "primary": f"{USAGE['primary']}: as a registrar (registrars.toml names them), extend EDGES primary edges "
    "(default 1) to a voter you met; 0 withdraws them.",
    "hello": "hello: say hello; shows whom you trust and your standing in the reported voter list.",
    "help": "help: list the commands.   COMMAND --help: explain one.",
    "confirm": "confirm: on a fork, choose it: your registration and trust inherited from its parent count here "
    "from now on (votes and delegations never carry over).",
    "accept-move": f"{USAGE['accept-move']}: on the site you move to, signed in there: let your move from SITE in.",
    "move": f"{USAGE['move']}: move to SITE (run `accept-move` there first): it records your events here by hash, "
    "and this site stops counting you. Once moved, you wait the cooling-off period before moving again.",
    "moves": "moves: your history of moves to and from this site.",
}


def usage(command: str) -> str:
    return f"write `{USAGE[command]}`"
