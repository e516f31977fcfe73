"""The site operator's credential: CIVITAS_OPERATOR_TOKEN, or a token generated once into HOME/operator-token."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from civitas_kernel.lockdown import lockdown_of

from civitas_gateway.auth.settings import AuthSettings
from civitas_gateway.auth.tokens import new_token

TOKEN_FILE = "operator-token"


def operator_token_path(settings: AuthSettings) -> Path:
    return settings.HOME / TOKEN_FILE


def operator_token(settings: AuthSettings) -> str:
    """The operator's bearer token: the configured one, else the stored one, else a new one stored 0600.

    A site that governs itself makes no new token: whatever is sent is refused anyway (require_operator).
    """
    if settings.OPERATOR_TOKEN is not None:
        return settings.OPERATOR_TOKEN.get_secret_value()
    path = operator_token_path(settings)
    if lockdown_of(settings.HOME) is not None and not path.exists():
        return new_token()  # held nowhere, so nobody has it
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path, new_token())
    return _read(path)


def _create(path: Path, token: str) -> None:
    # Written aside, then linked into place: of two processes starting at once, one wins and
    # both read the same whole token, never a half-written file.
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{path} can be read by others (mode {mode:o}); run `chmod 600 {path}` or delete it")
    token = path.read_text().strip()
    if not token:
        raise ValueError(f"{path} is empty; delete it and a new operator token is made at the next start")
    return token
