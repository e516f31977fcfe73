"""The deployments page in Chromium, as a voter reads it: from the menu to the live release, the mirrors (one up to
date, one refusing, retried), a deployment's incident, and from a deployment to the decision record that approved it
and on to its proposal."""

from __future__ import annotations

import subprocess

import pytest

from civitas_kernel.commands import Reply
from civitas_kernel.testing.serving import ServerThread

from .change_town import make_patch, voters_site


class Reported:
    """The change desk, with the deployments the engine reports (the contract's shape) laid over it."""

    def __init__(self, desk, deployments: list[dict], live: dict) -> None:
        self.desk, self.rows, self.live = desk, deployments, live

    def deployments(self) -> Reply:
        data = self.desk.deployments().data
        return Reply("", data | {"deployments": self.rows, "live": self.live})

    def __getattr__(self, name):
        return getattr(self.desk, name)


@pytest.mark.slow
def test_a_voter_reads_the_deployments_and_follows_one_to_its_decision_and_proposal(browser, smtp, tmp_path):
    from civitas_gateway.change_desk import changes_of

    site, clock, app = voters_site(smtp, tmp_path)
    good, bad = tmp_path / "good.git", tmp_path / "bad.git"
    for repo in (good, bad):
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
    (bad / "hooks" / "pre-receive").write_text("#!/bin/sh\necho 'mirror full' >&2\nexit 1\n")
    (bad / "hooks" / "pre-receive").chmod(0o755)
    site.settings.MIRROR_URLS = type(site.settings.MIRROR_URLS)(f"{good},{bad}")
    with site.lock:
        site.change.propose("alice@example.org", make_patch(site.live_repo.path, tmp_path, {"site/front.md": "Hi\n"}),
                            "A front page")
        clock.hours(48)
        site.change.run("bob@example.org", ["vote", "1", "yes"])
    clock.hours(169)
    site.decide()
    head = site.live_repo.head()
    site.mirrors.verified(head, "release-1", "release 1")
    site.mirrors.push_due()
    rows = [{"id": "1", "proposal": "1", "revision": 1, "decision": "decision 1", "content_hash": "0" * 64,
             "base": head, "commit": head, "kind": "content", "phase": "rolled_back", "started_us": clock(),
             "ended_us": clock() + 60_000_000, "rebased_from": None,
             "incident": {"phase": "health", "reason": "the smoke request answered 500",
                          "log_tail": "Traceback …\nKeyError: 'x'"}}]
    site.changes = Reported(changes_of(site), rows, {"commit": head, "since_us": clock(), "deployment": None})
    with ServerThread().serving(app) as base:
        page = browser.new_page()
        page.goto(base + "/")
        page.click("nav a:has-text('Deployments')")
        page.wait_for_url(base + "/deployments")
        assert head in page.text_content("#live")
        assert page.locator("#mirrors tr[data-state=ok]").count() == 1
        assert "mirror full" in page.text_content("#mirrors tr[data-state=retrying]")
        assert page.text_content("#deployment-1 .phase").startswith("rolled_back")
        page.click("#deployment-1 a:has-text('incident')")
        assert page.locator("#incident-1 pre.log-tail").text_content() == "Traceback …\nKeyError: 'x'"
        page.click("#deployment-1 a.decision")
        page.wait_for_url(base + "/decisions/1")
        assert "approved" in page.text_content("#decided")
        with page.expect_download() as download:
            page.click("#archive")
        assert download.value.suggested_filename == "localhost-decision-000001.tar"
        page.click("#decided a:has-text('1')")
        page.wait_for_url(base + "/changes/1")
        assert "approved" in page.text_content("#decision")
