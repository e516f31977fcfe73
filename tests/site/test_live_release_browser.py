"""In a real browser (Debian's Chromium): a release's stylesheet and front text show on the running site at the
next load, and the switch back shows the old ones, without restarting anything."""

from __future__ import annotations

from civitas_kernel.testing.releases import commit_files, release, switch

BACKGROUND = "getComputedStyle(document.body).backgroundColor"
FONT = "getComputedStyle(document.querySelector('.front h1')).fontFamily"


def test_a_deployed_stylesheet_and_front_text_show_in_the_browser_without_a_restart(served, browser):
    site, base = served
    releases = site.settings.releases_path
    releases.mkdir(parents=True)
    repo = site.live_repo
    first = release(releases, repo.path)
    page = browser.new_page()
    page.goto(base + "/")
    assert "A self-governing site" in page.text_content(".front")
    before = page.evaluate(BACKGROUND)
    commit_files(repo.path, {"site/static/site.css": "body { background: rgb(1, 2, 3); }\n"
                                                     ".front h1 { font-family: monospace; }\n",
                             "site/front.md": "# Our town\n\nA *new* front page.\n"})
    release(releases, repo.path, decision="decision 1")
    page.reload()
    assert page.evaluate(BACKGROUND) == "rgb(1, 2, 3)" and page.evaluate(FONT) == "monospace"
    assert page.text_content(".front h1") == "Our town" and page.text_content(".front em") == "new"
    switch(releases, first)
    page.reload()
    assert page.evaluate(BACKGROUND) == before and "A self-governing site" in page.text_content(".front")
