"""The maintenance and lock-out pages in Chromium, as a voter reads them: from the menu to a voted run of a real
command (its exit code and output) and on to the decision that approved it; then, after the lock-out, the old operator
token refused over HTTP and the attempt on the lock-out page."""

from __future__ import annotations

import httpx
import pytest

from civitas_kernel.lockdown import mark_locked_down
from civitas_kernel.testing.serving import ServerThread

from .change_town import voters_site
from .deploy_town import approve

TOKEN = {"Authorization": "Bearer operator-token-for-tests-0123456789"}


@pytest.mark.slow
def test_a_voter_reads_a_voted_run_and_the_lock_out(browser, smtp, tmp_path):
    site, clock, app = voters_site(smtp, tmp_path)
    with ServerThread().serving(app) as base:
        site.deployer(base).recover()
        pid = approve(site, clock, tmp_path, {"maintenance/runs/disk.toml": 'action = "disk-space"\nwhy = "full?"\n'},
                      "How full is the disk?")
        (ran,) = site.maintenance.run_due()
        assert ran["exit_code"] == 0, ran

        page = browser.new_page()
        page.goto(base + "/")
        page.click("nav a:has-text('Maintenance')")
        page.wait_for_url(base + "/maintenance")
        assert "/usr/bin/df -h" in page.text_content("#actions tr[data-action=disk-space]")
        assert "approved" in page.text_content(f"#proposed tr[data-proposal='{pid}']")
        run = page.locator(".run[data-state=finished]")
        assert run.locator(".exit").text_content() == "0"
        assert "Filesystem" in run.locator("pre.log-tail").text_content()
        run.locator("a.decision").click()
        page.wait_for_url(base + "/decisions/1")

        mark_locked_down(tmp_path / "home", "localhost", 1_780_000_000_000_000)
        assert httpx.delete(base + "/api/registrar/trust/bob@example.org", headers=TOKEN, timeout=10).status_code == 403
        page.click("nav a:has-text('Lock-out')")
        page.wait_for_url(base + "/lockout")
        assert page.get_attribute("#locked", "data-locked") == "yes"
        assert "operator's token is refused" in page.text_content("#covers")
        attempt = page.text_content("#attempts tr[data-kind=operator-token]")
        assert "DELETE /api/registrar/trust/bob@example.org" in attempt and "127.0.0.1" in attempt
