"""A change proposed as a branch of a local repository or a ref at a git URL, turned into the diff voters vote on.

The ref is fetched by git into a scratch repository beside the live one (the live objects as its alternate,
so only what is new travels), which is removed afterwards: nothing fetched enters the live repository. The
fetched commit must descend from the live HEAD; what is proposed is then the diff between the two, applied
by the same path as a patch (so binary files, submodules and escaping links are refused alike), and it must
make exactly the fetched commit's tree. History in between is not kept: what voters decide is base and tree.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from civitas_deployer.git import Git, GitError
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.patch_checks import PatchRefused

URL_SCHEMES = {"git": "git", "http": "http:https", "https": "https"}  # scheme -> what git may speak for it
REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}")
FETCH_TIMEOUT_S = 120.0
MAX_FETCH_BYTES = 64 << 20  # what one fetch may bring into its scratch repository
DEFAULT_PORTS = {"git": 9418, "http": 80, "https": 443}
FETCHED = "refs/civitas/fetched"


class SourceRefused(PatchRefused):
    """The repository or ref cannot be fetched, or its change cannot be proposed; the message says why."""


@dataclass(frozen=True)
class Source:
    """Where a change comes from: a git URL, or a local repository's path (only from the site's own machine)."""

    where: str
    ref: str

    @property
    def label(self) -> str:
        return f"{self.ref} of {self.where}"


@dataclass(frozen=True)
class FetchLimits:
    """How far a fetch from a git URL may go: its time, what it may bring, and whether the site's own network counts."""

    timeout_s: float = FETCH_TIMEOUT_S
    max_bytes: int = MAX_FETCH_BYTES
    internal_hosts: bool = False  # loopback, private, link-local and other non-public addresses (CIVITAS_FETCH_...)


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _pinned(url: str, limits: FetchLimits) -> tuple[str, tuple[str, ...]]:
    """The URL git is given and its config, with the host resolved once and checked: a name that resolves to an
    internal address is refused (unless the site allows it), and git connects to the address checked, not to
    whatever the name resolves to a moment later."""
    parts = urlsplit(url)
    host, scheme = parts.hostname, parts.scheme.lower()
    if not host:
        raise SourceRefused(f"{url!r} names no host; give it as git would, e.g. https://example.org/site.git")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (ValueError, socket.gaierror, UnicodeError):
        raise SourceRefused(f"cannot find the host {host!r} of {url!r}; check the address") from None
    addresses = sorted({info[4][0] for info in found})
    internal = [a for a in addresses if _is_internal(a)]
    if internal and not limits.internal_hosts:
        raise SourceRefused(f"{host} is an address of this site's own network ({internal[0]}), which changes are "
                            "not fetched from; give a public git URL, or send a patch")
    address = addresses[0]
    if scheme == "git":  # git:// has no resolver option: connect to the address itself
        at = f"[{address}]" if ":" in address else address
        netloc = f"{at}:{port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), ()
    return url, ("-c", f"http.curloptResolve={host}:{port}:{address}")


def _scratch_bytes(scratch: Path) -> int:
    return sum(f.stat().st_size for f in (scratch / "objects").rglob("*") if f.is_file())


def _fetch(git: Git, scratch: Path, args: list[str], env: dict[str, str], limits: FetchLimits, label: str) -> bytes:
    """Run `git fetch ARGS`, killing it past the time or size limit; its stderr when it fails, b"" when it succeeds."""
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
            ["git", "-c", "core.hooksPath=/dev/null", *args], stdout=subprocess.DEVNULL, stderr=errors,
            env=git.env | env, cwd=scratch) as process:
        deadline = time.monotonic() + limits.timeout_s
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                raise SourceRefused(f"fetching {label} took longer than {limits.timeout_s:g} s; try again, or "
                                    "send a patch")
            if _scratch_bytes(scratch) > limits.max_bytes:
                process.kill()
                _too_large(label, limits)
            time.sleep(0.05)
        if _scratch_bytes(scratch) > limits.max_bytes:  # a fetch quicker than one look
            _too_large(label, limits)
        errors.seek(0)
        return errors.read() if process.returncode != 0 else b""


def _too_large(label: str, limits: FetchLimits) -> None:
    size = f"{limits.max_bytes / (1 << 20):g} MiB" if limits.max_bytes >= 1 << 20 else f"{limits.max_bytes >> 10} KiB"
    raise SourceRefused(f"fetching {label} brings more than {size}, the most this site fetches; propose a smaller "
                        "change, or send a patch")


def _checked_ref(ref: str) -> str:
    bad = (not REF.fullmatch(ref or "") or any(s in ref for s in ("..", "//", "@{"))
           or ref.endswith((".", "/", ".lock")) or any(part.startswith(".") for part in ref.split("/")))
    if bad:
        raise SourceRefused(f"{ref!r} is not a branch or ref name git accepts; name it like feature/about-page "
                            "or refs/heads/main")
    return ref


def _protocols(source: Source, local: bool) -> tuple[str, str]:
    """(what git is given to fetch from, the protocols it may use) — or why this source is refused."""
    scheme = source.where.split("://", 1)[0].lower() if "://" in source.where else ""
    if scheme in URL_SCHEMES:
        if any(ord(c) <= 32 for c in source.where):
            raise SourceRefused("the URL holds a space or a control character; give it as git would")
        return source.where, URL_SCHEMES[scheme]
    if scheme or source.where.startswith("-") or "::" in source.where:
        raise SourceRefused(f"fetch changes from a git://, http:// or https:// URL, not {source.where!r}")
    if not local:
        raise SourceRefused("a local repository can be named only on the site's own machine (`civitas voter`); "
                            "give a git://, http:// or https:// URL, or send a patch")
    path = Path(source.where).expanduser().resolve()
    if not path.is_dir():
        raise SourceRefused(f"there is no repository at {path}; give the folder of your clone")
    return str(path), "file"


@dataclass(frozen=True)
class Fetched:
    """A fetched change, its objects gone again: the diff from `base` to the fetched commit, and that commit's tree."""

    label: str
    base: str
    diff: bytes
    tree: str


def fetch_change(repo: LiveRepository, source: Source, *, local: bool, limits: FetchLimits = FetchLimits()) -> Fetched:
    """Fetch `source` and make its change against the live HEAD; nothing of it stays in the repository.

    It takes no lock on the site's state, so a service fetches before it decides the proposal."""
    ref = _checked_ref(source.ref)
    where, protocols = _protocols(source, local)
    pinning: tuple[str, ...] = ()
    if protocols != "file":
        where, pinning = _pinned(where, limits)
    live = repo.head()
    scratch = Path(tempfile.mkdtemp(prefix="civitas-fetch-", dir=repo.path))
    try:
        git = Git(scratch)
        git.run("init", "--quiet", "--bare", str(scratch), cwd=scratch)
        (scratch / "objects" / "info" / "alternates").write_text(str((repo.path / "objects").resolve()) + "\n")
        env = {"GIT_ALLOW_PROTOCOL": protocols, "GIT_PROTOCOL_FROM_USER": "0"}
        failed = _fetch(git, scratch, ["-c", "http.followRedirects=false", *pinning, "fetch", "--quiet", "--no-tags",
                                       "--no-recurse-submodules", "--", where, f"+{ref}:{FETCHED}"],
                        env, limits, source.label)
        if failed:
            why = "; ".join(line for line in failed.decode(errors="replace").splitlines() if line.strip())[:300]
            raise SourceRefused(f"cannot fetch {source.label}: {why or 'git gave no reason'}; check the address "
                                "and the branch's name")
        fetched = git.out("rev-parse", "--verify", f"{FETCHED}^{{commit}}")
        descends = git.run("merge-base", "--is-ancestor", live, fetched, check=False)
        if descends.returncode == 1:
            raise SourceRefused(f"{source.label} does not build on the live HEAD {live[:12]}: rebase it on "
                                f"{live[:12]} (fetch the live repository first) and propose it again")
        if descends.returncode != 0:
            raise GitError(("merge-base", "--is-ancestor"), descends.returncode, descends.stderr.decode())
        tree = git.out("rev-parse", f"{fetched}^{{tree}}")
        diff = git.read_at_most(repo.max_patch_bytes, "diff", "--full-index", "--no-renames", "--no-color",
                                "--no-ext-diff", "--no-textconv", live, fetched)
        return Fetched(source.label, live, diff, tree)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
