"""The proposals repository of host mode, with real git: what a release's site writes there reaches the live
repository only as new proposal refs; a kept proposal's ref, main, tags and other refs never move from there."""

from __future__ import annotations

import time

import pytest

from civitas_deployer.host.proposals import ProposalsRepository
from civitas_deployer.live_repo import BRANCH, LiveRepository

from .releases import variant


@pytest.fixture
def repos(tmp_path):
    live = LiveRepository.open_or_create(tmp_path / "live.git", time.time_ns() // 1000)
    proposals = ProposalsRepository(tmp_path / "home" / "proposals.git", live)
    proposals.ensure()
    return live, proposals


def ref(git, name: str) -> str | None:
    return git.run("rev-parse", "--verify", "--quiet", name, check=False).stdout.decode().strip() or None


def test_it_reads_the_live_objects_and_follows_the_live_main(repos):
    live, proposals = repos
    assert ref(proposals.git, BRANCH) == live.head()
    assert proposals.git.out("cat-file", "-t", live.head()) == "commit"  # through its alternates, not a copy
    moved = variant(live.git, live.head(), {"site/front.md": b"Hello\n"}, "A new front page")
    live.git.run("update-ref", BRANCH, moved)

    proposals.follow_main()

    assert ref(proposals.git, BRANCH) == moved


def test_only_new_proposal_refs_are_taken_with_their_objects(repos):
    live, proposals = repos
    kept = variant(live.git, live.head(), {"site/front.md": b"Kept\n"}, "A proposal kept in the live repository")
    live.keep("p1", 1, kept)
    written = variant(proposals.git, live.head(), {"site/front.md": b"New\n"}, "A proposal the site wrote")
    later = variant(proposals.git, kept, {"site/front.md": b"Later\n"}, "A commit on top of the kept one")
    proposals.git.run("update-ref", "refs/proposals/p2/1", written)
    proposals.git.run("update-ref", "refs/proposals/p1/1", later)  # a fast-forward of a kept proposal's ref
    proposals.git.run("update-ref", BRANCH, later)
    proposals.git.run("update-ref", "refs/tags/v9", later)
    proposals.git.run("update-ref", "refs/heads/other", later)
    proposals.git.run("update-ref", "refs/proposals/p3/not-a-revision", written)
    main = live.head()

    taken = proposals.import_proposals()

    assert taken == ["refs/proposals/p2/1"]
    assert ref(live.git, "refs/proposals/p2/1") == written and live.has_commit(written)  # its objects came along
    assert ref(live.git, "refs/proposals/p1/1") == kept  # never moved, not even forward
    assert live.head() == main and ref(live.git, "refs/tags/v9") is None and ref(live.git, "refs/heads/other") is None
    assert ref(live.git, "refs/proposals/p3/not-a-revision") is None
    assert proposals.import_proposals() == []  # taken once
