"""Kubernetes mode's first start: the GitOps repository holds no values yet, so Flux cannot render the site (its pods
need release.commit) and no gateway would serve the first vote. The deployer commits the release that serves (the
live HEAD at the very first start) once; values already there are left as they are."""

from __future__ import annotations

import json
import logging

from civitas_deployer.gitops import GitOpsRepository
from civitas_deployer.mirror_remote import parse_remote

from . import test_flux_runner as flux
from .test_flux_runner import VALUES, make_deployer, rev, show

change, clock, gitops, api = flux.change, flux.clock, flux.gitops, flux.api  # real decisions, git daemon, API


def test_the_first_start_gives_flux_the_release_that_serves_once(change, live, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    deployer.recover()  # the live HEAD becomes the first release, as in every mode
    made = deployer.runner.first_release()
    assert made == rev(bare, "main") and rev(bare, "main^") is None
    assert json.loads(show(bare, f"main:{VALUES}")) == {"release": {"commit": live.head(), "decision": ""},
                                                         "services": {}}
    assert "the site's first release" in show(bare, "main") and f"Civitas-Release: {live.head()}" in show(bare, "main")
    assert len(api.patches) == 2  # Flux asked to fetch and reconcile at once
    assert deployer.runner.first_release() is None
    restarted = make_deployer(change, live, tmp_path, gitops, api, clock)
    restarted.recover()
    assert restarted.runner.first_release() is None and rev(bare, "main^") is None  # found there: nothing new


def test_values_already_in_the_repository_are_left_as_they_are(change, live, tmp_path, clock, gitops, api):
    url, bare = gitops
    theirs = GitOpsRepository(tmp_path / "other.git", parse_remote(url), "main", VALUES)
    theirs.push(theirs.commit(None, {"release": {"commit": "ab" * 20, "decision": "decision 9"}}, "Before", 1))
    before = rev(bare, "main")
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    deployer.recover()
    assert deployer.runner.first_release() is None and rev(bare, "main") == before and api.patches == []


def test_a_repository_out_of_reach_is_tried_again_at_the_next_round(change, live, tmp_path, clock, gitops, api,
                                                                   caplog):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    deployer.recover()
    moved = bare.with_name("elsewhere.git")
    bare.rename(moved)
    with caplog.at_level(logging.WARNING, logger="civitas.deployer.gitops"):
        assert deployer.runner.first_release() is None
    assert "the site's first release is not in the GitOps repository yet" in caplog.text
    moved.rename(bare)
    assert deployer.runner.first_release() == rev(bare, "main")
