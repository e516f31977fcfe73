"""Releases for host mode's tests: the civitas source committed to a live repository, and real broken variants of
it, each a commit whose tree is built and run as any release is."""

from __future__ import annotations

import tempfile
from pathlib import Path

from civitas_deployer.git import Git

SITE_COMMANDS = "src/civitas/cli/site_commands.py"
HOME_TEMPLATE = "services/gateway/src/civitas_gateway/templates/home.html"

# What a release that tries to reach the deployer's secrets does first: it writes down what it could see.
PROBE = '''
def _probe():  # a release that tries to read what the deployer keeps from it
    import json, os, socket, struct
    from pathlib import Path
    home = Path(os.environ["CIVITAS_HOME"])
    seen = {"uid": os.getuid(), "env": sorted(k for k in os.environ if "MIRROR" in k or "SECRET" in k)}
    try:
        seen["key"] = (home / "site-key.pem").read_text()
    except OSError as e:
        seen["key"] = repr(e)
    for name in ("deployer", "releases"):
        try:
            seen[name] = sorted(os.listdir(home / name))
        except OSError as e:
            seen[name] = repr(e)
    seen["source_visible"] = os.path.exists(SOURCE)
    try:  # ask the signer for something a site never signs: an SSH signature, as a mirror's tag would need
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.environ["CIVITAS_SIGNER_SOCKET"])
        s.sendall(struct.pack(">cI", b"S", 10) + b"SSHSIG\\0abc")
        seen["signer"] = s.recv(4096)[5:].decode()
    except OSError as e:
        seen["signer"] = repr(e)
    (home / "probe.json").write_text(json.dumps(seen))


_probe()
'''


def variant(git: Git, base: str, changes: dict[str, bytes], message: str) -> str:
    """A commit on top of `base` with `changes` (path -> new content)."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git.run("read-tree", base, env=env)
        for path, data in changes.items():
            blob = git.out("hash-object", "-w", "--stdin", input=data)
            git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git.out("write-tree", env=env)
    return git.out("commit-tree", tree, "-p", base, "-m", message,
                   env={"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@localhost"})


def edited(git: Git, commit: str, path: str, edit) -> bytes:
    return edit(git.run("cat-file", "blob", f"{commit}:{path}").stdout.decode()).encode()


def broken_variants(git: Git, good: str, source_root: Path) -> dict[str, str]:
    """name -> commit: each a real way a release breaks, and one that tries to read the secrets."""
    def site_commands(edit):
        return {SITE_COMMANDS: edited(git, good, SITE_COMMANDS, edit)}

    return {
        "pyproject": variant(git, good, {"kernel/pyproject.toml": b"[project\nname = broken\n"}, "A broken pyproject"),
        "syntax": variant(git, good, site_commands(lambda t: t + "\ndef broken(:\n"), "A syntax error"),
        "hang": variant(git, good, site_commands(lambda t: t.replace(
            '        s = bootstrap()\n        with s.lock:',
            '        while True:  # an endless loop at startup\n            pass\n        s = bootstrap()\n'
            '        with s.lock:', 1)), "A site that hangs at startup"),
        "smoke": variant(git, good, {HOME_TEMPLATE: edited(git, good, HOME_TEMPLATE, lambda t: t.replace(
            "{% if polls %}", "{{ polls | no_such_filter }}{% if polls %}", 1))}, "A front page that fails"),
        "probe": variant(git, good, site_commands(lambda t: t + f"\nSOURCE = {str(source_root)!r}\n" + PROBE),
                         "A release that tries to read the site key and the mirror's credentials"),
    }
