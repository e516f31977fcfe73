"""Path patterns of modules.toml and [constitutional] paths, and which of several is the most specific.

A pattern is a path from the repository's root. `*` matches within one path segment, `**` across segments,
`?` one character other than `/`; a pattern ending in `/` matches everything beneath that directory. Its
literal prefix (the text before its first `*` or `?`) says how specific it is: the longest one wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WILDCARDS = re.compile(r"\*\*|\*|\?")


class PatternError(ValueError):
    """A pattern that cannot name paths of the repository; the message says why."""


@dataclass(frozen=True)
class Pattern:
    text: str
    _regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_pattern(self.text)
        body = self.text + "**" if self.text.endswith("/") else self.text
        parts, at = [], 0
        for wildcard in WILDCARDS.finditer(body):
            parts.append(re.escape(body[at:wildcard.start()]))
            parts.append({"**": ".*", "*": "[^/]*", "?": "[^/]"}[wildcard.group()])
            at = wildcard.end()
        parts.append(re.escape(body[at:]))
        object.__setattr__(self, "_regex", re.compile("".join(parts), re.DOTALL))

    @property
    def literal_prefix(self) -> str:
        found = WILDCARDS.search(self.text)
        return self.text if found is None else self.text[:found.start()]

    @property
    def specificity(self) -> tuple[int, int, str]:
        """Sorts the most specific last: longest literal prefix, then the longer pattern, then by text (for ties)."""
        return len(self.literal_prefix), len(self.text), self.text

    def matches(self, path: str) -> bool:
        return self._regex.fullmatch(path) is not None


def check_pattern(text: str) -> None:
    if not isinstance(text, str) or not text:
        raise PatternError(f"a path pattern must be a non-empty string, not {text!r}")
    if text.startswith("/") or any(part in ("..", ".") for part in text.rstrip("/").split("/")):
        raise PatternError(f"path pattern {text!r} must be relative to the repository's root, without . or ..")
    if "//" in text or any(ord(c) < 32 for c in text) or "\\" in text:
        raise PatternError(f"path pattern {text!r} holds an empty segment, a backslash or a control character")


def matches_any(patterns: tuple[Pattern, ...], path: str) -> bool:
    return any(p.matches(path) for p in patterns)
