"""Whether a change is content (files the running site reads: its rules, pages, polls) or code (anything else,
which host mode builds and starts as a new process); the embedded site deploys both as content."""

from __future__ import annotations

CONTENT_FILES = ("governance.toml", "modules.toml", "registrars.toml", "rules.toml", "maintenance.toml")
CONTENT_FOLDERS = ("site/", "polls/")


def kind_of(paths) -> str:
    content = all(p in CONTENT_FILES or p.startswith(CONTENT_FOLDERS) for p in paths)
    return "content" if content else "code"
