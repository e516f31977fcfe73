"""A release whose template would loop for ever is stopped at its page's bound: the front page answers 503 naming the
template and the bound, at once, so the deployer rolls the release back long before its health window ends and the
release before it serves again."""

from __future__ import annotations

import re
import time

import httpx

from civitas_kernel.testing.serving import ServerThread

from .change_town import HTML, voters_site
from .deploy_town import approve

HEALTH_S = 30
HUGE_LOOP = {"site/templates/home.html": "{% extends 'base.html' %}{% block main %}{% for i in range(100000) %}"
                                         "{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}{% endblock %}"}


def test_a_template_with_a_huge_loop_fails_its_page_visibly_and_is_rolled_back_quickly(smtp, tmp_path):
    site, clock, app = voters_site(smtp, tmp_path, DEPLOY_HEALTH_S=HEALTH_S)
    with ServerThread().serving(app) as url:
        approve(site, clock, tmp_path, {"site/front.md": "Hello\n"}, "Hello")
        (good,) = site.deployer(url).run()
        assert good.phase == "applied"
        approve(site, clock, tmp_path, HUGE_LOOP, "A front page that never ends")
        started = time.monotonic()
        (costly,) = site.deployer(url).run()
        took = time.monotonic() - started
        after = httpx.get(url + "/", headers=HTML, timeout=30)
        site.releases.point(costly.commit)  # serve it once more, to see what a voter would have seen
        page = httpx.get(url + "/", headers=HTML, timeout=30)
        problem = httpx.get(url + "/", timeout=30)
        site.releases.point(good.commit)

    assert costly.phase == "rolled_back" and costly.incident.phase == "health"
    assert took < HEALTH_S / 2, f"the rollback took {took:.1f} s of a {HEALTH_S} s window"
    assert "answered 503" in costly.incident.reason
    assert "the page home.html of the live release" in costly.incident.log_tail
    assert after.status_code == 200 and after.headers["civitas-release"] == good.commit  # the good one serves again
    assert page.status_code == 503 and "home.html" in page.text and "Traceback" not in page.text
    assert problem.json()["type"] == "urn:civitas:problem:release-too-costly"
    detail = problem.json()["detail"]  # whichever bound a loaded machine reaches first: steps or processor time
    assert re.search(r"was stopped: it took more than (1,000,000 steps|2 s of processor time)", detail), detail
