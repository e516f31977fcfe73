"""A voter checks a mirrored release tag with only git and what `civitas site` prints: its allowed_signers line."""

from __future__ import annotations

import json
import subprocess

from civitas.cli import main
from civitas.settings import Settings
from civitas.site import Site


def test_the_allowed_signers_line_civitas_site_prints_verifies_the_tag_on_the_mirror(tmp_path, monkeypatch, capsys):
    home, mirror = tmp_path / "home", tmp_path / "mirror.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(mirror)], check=True)
    monkeypatch.setenv("CIVITAS_HOME", str(home))
    monkeypatch.setenv("CIVITAS_SITE", "alpha.example.org")
    monkeypatch.setenv("CIVITAS_MIRROR_URLS", f"https://pusher:hunter2@mirror.example.org/site.git, {mirror}")
    site = Site(Settings())
    site.mirrors.verified(site.live_repo.head(), "release-1", "release 1")
    site.mirrors.push_due()

    assert main(["site", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["mirrors"] == f"https://mirror.example.org/site.git, {mirror}"  # the password is never shown
    assert shown["allowed_signers"].startswith('alpha.example.org namespaces="git" ssh-ed25519 ')
    signers = tmp_path / "allowed_signers"
    signers.write_text(shown["allowed_signers"] + "\n")
    verify = subprocess.run(["git", "--git-dir", str(mirror), "-c", f"gpg.ssh.allowedSignersFile={signers}",
                             "verify-tag", "release-1"], capture_output=True, text=True)
    assert verify.returncode == 0 and 'Good "git" signature for alpha.example.org' in verify.stderr
    assert main(["site"]) == 0 and "hunter2" not in capsys.readouterr().out
