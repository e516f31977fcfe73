"""A mirror's address as CIVITAS_MIRROR_URLS gives it, split into what may be shown and the credentials, which may not.

The shown URL (no user's password, no token) is what the state file, the pages, the logs and git's command line
carry; the credentials reach only the one `git push` that needs them, through its environment and a credential
helper that reads it, so no other process's command line, no file and no repository ever holds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("https", "http", "ssh", "git", "file")
# an scp-like address (user@host:path) as git takes it; a path alone is a local repository
_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)")
# git asks the helper for credentials; it answers from its own environment, never from its command line
CREDENTIAL_HELPER = ('!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
                     '"$CIVITAS_MIRROR_USERNAME" "$CIVITAS_MIRROR_PASSWORD"; }; f')


@dataclass(frozen=True)
class Remote:
    """One mirror: `url` is safe to show; `username` and `password` go only into its push's environment."""

    url: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def push_env(self) -> dict[str, str]:
        """What the push's environment adds: the credentials, when there are any, for CREDENTIAL_HELPER."""
        if self.password is None and self.username is None:
            return {}
        return {"CIVITAS_MIRROR_USERNAME": self.username or "", "CIVITAS_MIRROR_PASSWORD": self.password or ""}

    def push_config(self) -> list[str]:
        """git -c options for the push: the helper only when there are credentials (after clearing any other)."""
        if not self.push_env():
            return []
        return ["-c", "credential.helper=", "-c", "credential.helper=" + CREDENTIAL_HELPER]

    def scrub(self, text: str) -> str:
        """`text` (git's error output, say) with the credentials cut out, should git ever repeat them."""
        for secret in (self.password, self.username):
            if secret:
                text = text.replace(secret, "***")
        return text


def shown(url: str) -> str:
    """The URL with any user and password removed: what a page or a log may say about a mirror."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url


def parse_remote(text: str) -> Remote:
    """One entry of CIVITAS_MIRROR_URLS; ValueError says what is wrong, without repeating a credential."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme in SCHEMES:
        if parts.scheme != "file" and not parts.hostname:
            raise ValueError(f"mirror URL {shown(url)!r} names no host; write it as {parts.scheme}://HOST/PATH")
        if parts.username is None and parts.password is None:
            return Remote(url)
        clean = shown(url)
        if parts.scheme == "ssh":  # ssh authenticates by key: the user is part of the address, a password is dropped
            user = unquote(parts.username or "")
            return Remote(urlunsplit(parts._replace(netloc=f"{user}@{urlsplit(clean).netloc}")) if user else clean)
        if parts.scheme == "git":
            raise ValueError(f"mirror URL {clean!r}: git:// takes no credentials; remove them")
        return Remote(clean, unquote(parts.username or ""), unquote(parts.password or ""))
    if _SCP_LIKE.match(url) and "://" not in url:
        return Remote(url)
    if url.startswith("/"):
        return Remote(url)
    raise ValueError(f"mirror URL {shown(url)!r} is not one git can push to: use https://, ssh://, git://, "
                     "file:// or user@host:path, or an absolute path")


def parse_remotes(text: str) -> list[Remote]:
    """CIVITAS_MIRROR_URLS: comma-separated; empty means no mirror. Two entries for one shown URL are one mirror."""
    remotes: dict[str, Remote] = {}
    for entry in text.split(","):
        if entry.strip():
            remote = parse_remote(entry)
            remotes.setdefault(remote.url, remote)
    return list(remotes.values())
