"""The live repository with the real git binary: creating it, applying proposals' patches, refusing bad ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from civitas_deployer.domain.modules import parse_modules
from civitas_deployer.domain.patterns import Pattern
from civitas_deployer.domain.proposals import content_hash
from civitas_deployer.domain.rules import DEFAULTS, parse_governance
from civitas_deployer.live_repo import BaseNotLive, LiveRepository, PatchRefused

from ..git_repos import T0, advance

ALICE = "alice@example.org"


def stage(live, patch, **kw):
    return live.stage(patch, title=kw.pop("title", "A change"), proposer=ALICE, made_at_us=T0 + 1, **kw)


def object_count(live) -> str:
    return live.git.out("count-objects", "-v")


def test_created_from_the_defaults_and_reopened_as_it_is(live, tmp_path):
    head = live.head()
    governance = parse_governance(live.read(head, "governance.toml").decode())
    shipped = ("governance.toml", "modules.toml", "rules.toml", "registrars.toml", "maintenance.toml",  # constitutional
               "kernel/src/civitas_kernel/lockdown*.py", "src/civitas/cli/locked.py", "src/civitas/cli/lockdown*.py",
               "services/gateway/src/civitas_gateway/auth/", "services/deployer/",  # the lock-out and the deployer
               "charts/civitas/templates/lockdown.yaml", "charts/civitas/templates/_helpers.tpl",
               "charts/civitas/values*.yaml")
    assert governance == replace(DEFAULTS, constitutional_paths=tuple(Pattern(p) for p in shipped))
    modules = parse_modules(live.read(head, "modules.toml").decode())
    assert "pages" in modules and modules.module_of("site/static/site.css") == "pages"
    assert modules.module_of("polls/mayor.toml") == "polls" and modules.module_of("registrars.toml") == "rules"
    assert live.read(head, "nothing-here.md") is None
    assert LiveRepository.open_or_create(tmp_path / "live.git", T0 + 99).head() == head


def test_the_first_commit_holds_every_shipped_file_in_its_folders(live):
    listed = live.git.out("ls-tree", "-r", "--name-only", live.head()).split("\n")
    assert listed == ["governance.toml", "maintenance.toml", "modules.toml", "polls/README.md", "registrars.toml",
                      "rules.toml", "site/front.md", "site/static/site.css"]


def test_a_patch_becomes_a_commit_on_its_base_kept_only_once_admitted(live, clone):
    base = live.head()
    clone.write("pages/about.md", "About us\n")
    clone.write("governance.toml", clone.path.joinpath("governance.toml").read_text().replace('"1/2"', '"3/5"'))
    clone.commit("About us, and a stricter majority")
    before = object_count(live)
    with stage(live, clone.patch()) as staged:
        assert staged.base_commit == base
        assert staged.changed_paths == ("governance.toml", "pages/about.md")
        assert staged.content_hash == content_hash(base, staged.tree_hash)
        assert b'majority = "3/5"' in staged.rule_files["governance.toml"]
        assert not live.has_commit(staged.result_commit)  # still in quarantine
        staged.admit()
    assert object_count(live) != before and live.has_commit(staged.result_commit)
    assert live.git.out("rev-parse", staged.result_commit + "^{tree}") == staged.tree_hash
    assert live.git.out("log", "--format=%an <%ae>|%s", "-1", staged.result_commit) == \
        "Bob Voter <bob@example.org>|About us, and a stricter majority"
    assert live.head() == base  # proposing changes nothing live
    live.keep("1", 1, staged.result_commit)
    live.keep("1", 1, staged.result_commit)
    assert live.kept("1", 1) == staged.result_commit and live.kept("1", 2) is None


def test_a_series_renames_and_deletions_change_every_path_they_touch(live, clone):
    clone.write("pages/a.md", "a\n")
    clone.write("pages/b.md", "b\n")
    clone.commit("two pages")
    clone.git("mv", "pages/a.md", "pages/c.md")
    clone.git("rm", "--quiet", "pages/b.md")
    clone.commit("rename one, remove the other")
    with stage(live, clone.patch(2, "-M")) as staged:
        assert staged.changed_paths == ("pages/c.md",)
        commits = live.git.out("log", "--format=%s", f"{staged.base_commit}..{staged.result_commit}",
                               env={"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(staged._quarantine)})
        assert commits.splitlines() == ["rename one, remove the other", "two pages"]


def test_a_plain_diff_is_taken_too(live, clone):
    clone.write("pages/a.md", "a\n")
    clone.git("add", "pages/a.md")
    with stage(live, clone.git("diff", "--cached")) as staged:
        assert staged.changed_paths == ("pages/a.md",)


def test_a_refused_patch_leaves_nothing_in_the_repository(live, clone):
    clone.write("pages/a.md", "a\n")
    clone.write("pages/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    clone.commit("a page and a logo")
    before = object_count(live)
    with pytest.raises(PatchRefused, match="pages/logo.png is a binary file"):
        with stage(live, clone.patch(1, "--binary")):
            pass
    with pytest.raises(PatchRefused, match="binary"):
        with stage(live, clone.patch()):
            pass
    assert object_count(live) == before
    assert not [p for p in live.path.iterdir() if p.name.startswith("civitas-staging-")]


def test_a_patch_that_does_not_apply_says_so(live, clone):
    clone.write("governance.toml", "# mine\n")
    clone.commit("rewrite the rules")
    patch = clone.patch()
    clone.git("reset", "--quiet", "--hard", "HEAD~1")
    clone.write("governance.toml", "# theirs\n")
    clone.commit("another rewrite")
    advance(live, clone.patch())
    with pytest.raises(PatchRefused, match="does not apply to the live HEAD: error: patch failed: governance.toml"):
        with stage(live, patch):
            pass


def test_a_base_no_longer_live_is_refused(live, clone):
    old = live.head()
    clone.write("pages/a.md", "a\n")
    clone.commit("a")
    advance(live, clone.patch())
    clone.write("pages/b.md", "b\n")
    clone.commit("b")  # made on the old base, but says so
    with pytest.raises(BaseNotLive, match=f"base-commit is {old[:12]}, which is no longer live"):
        with stage(live, clone.patch(1, f"--base={old}")):
            pass
    with pytest.raises(BaseNotLive, match="no longer live"):
        with stage(live, clone.patch(), base=old):
            pass
    with pytest.raises(BaseNotLive, match="does not have"):
        with stage(live, clone.patch(), base="f" * 40):
            pass


def test_submodules_are_refused(live, clone, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    clone.git("-C", str(other), "init", "--quiet")
    clone.git("-C", str(other), "commit", "--quiet", "--allow-empty", "-m", "x")
    sha = clone.git("-C", str(other), "rev-parse", "HEAD").decode().strip()
    clone.git("update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/lib")
    clone.git("commit", "--quiet", "-m", "a submodule")
    with pytest.raises(PatchRefused, match="vendor/lib is a submodule"):
        with stage(live, clone.patch()):
            pass


def test_symbolic_links_may_not_lead_out_of_the_tree(live, clone):
    (clone.path / "pages").mkdir()
    (clone.path / "pages" / "up").symlink_to("../../etc/passwd")
    clone.commit("an escaping link")
    with pytest.raises(PatchRefused, match="symbolic link pages/up points outside the repository"):
        with stage(live, clone.patch()):
            pass
    clone.git("reset", "--quiet", "--hard", "HEAD~1")
    (clone.path / "pages").mkdir(exist_ok=True)
    (clone.path / "pages" / "rules").symlink_to("../governance.toml")
    clone.commit("a link inside")
    with stage(live, clone.patch()) as staged:
        assert staged.changed_paths == ("pages/rules",)


def test_paths_outside_the_repository_are_refused(live):
    patch = (b"diff --git a/../outside.txt b/../outside.txt\nnew file mode 100644\nindex 0000000..f2ad6c7\n"
             b"--- /dev/null\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+c\n")
    with pytest.raises(PatchRefused, match="'../outside.txt' lies outside the repository"):
        with stage(live, patch):
            pass
    with pytest.raises(PatchRefused, match="holds no diff"):
        with stage(live, b"just some words\n"):
            pass


def test_an_oversized_patch_is_refused_saying_the_limit(live, clone):
    small = LiveRepository(live.path, max_patch_bytes=1024 * 1024)
    with pytest.raises(PatchRefused, match=r"the patch is 1,048,577 bytes; the limit is 1,048,576 bytes \(1 MiB\)"):
        with stage(small, b"x" * (1024 * 1024 + 1)):
            pass
