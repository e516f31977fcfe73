"""A proposal's diff as the page shows it: git's unified diff read into files and hunks, each side highlighted by
Pygments for its file's language, laid out unified or side by side.

Pygments writes class names only (the colours are the `/static/change.css` it made), so the page needs no inline
style; every line it makes is escaped by Pygments itself. A diff longer than MAX_LINES is cut, saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

MAX_LINES = 5000  # lines drawn for one proposal; the rest is in `git diff`, which the page names
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_FORMATTER = HtmlFormatter(nowrap=True)


@dataclass
class Line:
    kind: str  # "context", "add", "del"
    old: int | None
    new: int | None
    html: Markup


@dataclass
class Hunk:
    header: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str
    status: str  # "added", "deleted", "changed"
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int]:
        lines = [line for h in self.hunks for line in h.lines]
        return sum(1 for x in lines if x.kind == "add"), sum(1 for x in lines if x.kind == "del")

    def side_by_side(self, hunk: Hunk) -> list[tuple[Line | None, Line | None]]:
        """Rows of (old, new): context on both sides, a run of deletions beside the additions that follow it."""
        rows: list[tuple[Line | None, Line | None]] = []
        deleted: list[Line] = []
        added: list[Line] = []

        def flush() -> None:
            for i in range(max(len(deleted), len(added))):
                rows.append((deleted[i] if i < len(deleted) else None, added[i] if i < len(added) else None))
            deleted.clear()
            added.clear()

        for line in hunk.lines:
            if line.kind == "del":
                if added:
                    flush()
                deleted.append(line)
            elif line.kind == "add":
                added.append(line)
            else:
                flush()
                rows.append((line, line))
        flush()
        return rows


@dataclass
class RenderedDiff:
    files: list[FileDiff]
    cut: bool  # more lines than the page draws, or than the deployer sends


@lru_cache(maxsize=256)
def _lexer_for(name: str):
    """The lexer of a file name's kind (finding one scans every lexer Pygments has: once per kind, not per file)."""
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _lexer(path: str):
    name = path.rsplit("/", 1)[-1]
    suffix = name.rpartition(".")[2] if "." in name else name
    return _lexer_for(f"x.{suffix}" if "." in name else name)


def _highlighted(lexer, lines: list[str]) -> list[Markup]:
    """Each line highlighted in the context of the lines around it (a string or comment spanning lines stays one)."""
    if not lines:
        return []
    out = highlight("\n".join(lines) + "\n", lexer, _FORMATTER).split("\n")
    if len(out) < len(lines):  # a lexer that swallowed line ends: fall back to plain, escaped text
        return [Markup(escape(line)) for line in lines]
    return [Markup(x) for x in out[: len(lines)]]


def _file_path(header: str) -> str:
    parts = header.split(" b/", 1)
    return parts[1] if len(parts) == 2 else header.removeprefix("diff --git ")


def parse_diff(text: str, cut: bool = False, max_lines: int = MAX_LINES) -> RenderedDiff:
    files: list[FileDiff] = []
    raw: list[tuple[FileDiff, Hunk, list[tuple[str, int | None, int | None, str]]]] = []
    drawn = 0
    current: FileDiff | None = None
    hunk: tuple | None = None
    old = new = 0
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            current, hunk = FileDiff(_file_path(line), "changed"), None
            files.append(current)
        elif current is None:
            continue
        elif hunk is None and line.startswith("new file mode"):
            current.status = "added"
        elif hunk is None and line.startswith("deleted file mode"):
            current.status = "deleted"
        elif match := HUNK.match(line):
            old, new = int(match[1]), int(match[3])
            hunk = (current, Hunk(line), [])
            current.hunks.append(hunk[1])
            raw.append(hunk)
        elif hunk is not None and line[:1] in (" ", "+", "-") and drawn < max_lines:
            sign, body = line[0], line[1:]
            if sign == " ":
                hunk[2].append(("context", old, new, body))
                old, new = old + 1, new + 1
            elif sign == "+":
                hunk[2].append(("add", None, new, body))
                new += 1
            else:
                hunk[2].append(("del", old, None, body))
                old += 1
            drawn += 1
        elif hunk is not None and line[:1] in (" ", "+", "-"):
            cut = True
    for file, h, lines in raw:
        lexer = _lexer(file.path)
        # Each side highlighted as one text: the old side is context and deletions, the new context and additions.
        olds = _highlighted(lexer, [b for k, _, _, b in lines if k != "add"])
        news = _highlighted(lexer, [b for k, _, _, b in lines if k != "del"])
        i = j = 0
        for kind, o, n, _ in lines:
            if kind == "add":
                h.lines.append(Line(kind, o, n, news[j]))
                j += 1
            elif kind == "del":
                h.lines.append(Line(kind, o, n, olds[i]))
                i += 1
            else:
                h.lines.append(Line(kind, o, n, news[j]))
                i, j = i + 1, j + 1
    return RenderedDiff(files, cut)


def stylesheet() -> str:
    """The highlighting's colours, for /static/change.css (made once, by `python -m civitas_gateway.change_diff`)."""
    return HtmlFormatter(style="default").get_style_defs(".code")


if __name__ == "__main__":
    print(stylesheet())
