"""How the register's replies read: short and human, like Votorola's."""

from __future__ import annotations


def shown(value: str | None) -> str:
    return "(none)" if value is None else value


def describe_list(voter: str, subject: str, verb: str, items: list[str]) -> str:
    """`you trust nobody` / `bob@x.org doubts:` followed by one item a line."""
    who = "you" if subject == voter else subject
    verb_form = verb if who == "you" else verb + "s"
    if not items:
        return f"{who} {verb_form} nobody"
    return f"{who} {verb_form} {len(items)}:\n" + "\n".join(f"  {item}" for item in items)
