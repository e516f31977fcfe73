"""The deployments page in Chromium, as a voter reads it after real deployments: from the menu to the live release,
the mirrors (one up to date, one refusing, retried), the incident of a release that broke the front page, and from
a deployment to the decision record that approved it, its archive, and on to its proposal."""

from __future__ import annotations

import pytest

from civitas_kernel.testing.serving import ServerThread

from .change_town import voters_site
from .deploy_town import BROKEN_HOME, approve, bare


@pytest.mark.slow
def test_a_voter_reads_the_deployments_and_follows_one_to_its_decision_and_proposal(browser, smtp, tmp_path):
    good, bad = bare(tmp_path / "good.git"), bare(tmp_path / "bad.git", refusing="mirror full")
    site, clock, app = voters_site(smtp, tmp_path, MIRROR_URLS=f"{good},{bad}", DEPLOY_HEALTH_S=10)
    with ServerThread().serving(app) as base:
        approve(site, clock, tmp_path, {"site/front.md": "Hello, neighbours\n"}, "A friendlier front page")
        approve(site, clock, tmp_path, BROKEN_HOME, "A front page that does not compile")
        applied, rolled_back = site.deployer(base).run()
        assert (applied.phase, rolled_back.phase) == ("applied", "rolled_back")
        site.mirrors.push_due()

        page = browser.new_page()
        page.goto(base + "/")
        page.click("nav a:has-text('Deployments')")
        page.wait_for_url(base + "/deployments")
        assert applied.commit in page.text_content("#live")
        assert page.locator("#mirrors tr[data-state=ok]").count() == 1
        assert "mirror full" in page.text_content("#mirrors tr[data-state=retrying]")
        assert page.text_content(f"#deployment-{rolled_back.id} .phase").startswith("rolled_back")
        page.click(f"#deployment-{rolled_back.id} a:has-text('incident')")
        assert "answered 503" in page.text_content(f"#incident-{rolled_back.id} .reason")
        assert "cannot be served" in page.text_content(f"#incident-{rolled_back.id} pre.log-tail")

        page.click(f"#deployment-{applied.id} a.decision")
        page.wait_for_url(base + "/decisions/1")
        assert "approved" in page.text_content("#decided")
        with page.expect_download() as download:
            page.click("#archive")
        assert download.value.suggested_filename == "localhost-decision-000001.tar"
        page.click("#decided a:has-text('1')")
        page.wait_for_url(base + "/changes/1")
        assert "approved" in page.text_content("#decision")
