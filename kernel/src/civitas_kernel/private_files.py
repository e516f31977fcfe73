"""Files a civitas process creates are its owner's alone (kept apart from settings, so the CLI sets it cheaply)."""

from __future__ import annotations

import os

PRIVATE_UMASK = 0o077


def keep_files_private() -> None:
    """Files this process creates are its owner's alone: keys, tokens, sign-in stores and their SQLite companions."""
    os.umask(PRIVATE_UMASK)
