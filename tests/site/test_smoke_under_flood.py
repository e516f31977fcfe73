"""A flood cannot turn the rate limiter against a deployment: with every token of the loopback address spent (the
deployer's own address, and a proxy's where public traffic comes through it), a good release still passes its health
window, because the deployer's smoke request carries a pass the gateway exempts; a forged pass buys nothing."""

from __future__ import annotations

import threading

import httpx

from civitas.settings import Settings
from civitas.site import Site
from civitas_gateway import AuthSettings, create_app
from civitas_kernel.signing import SiteKey
from civitas_kernel.smoke_pass import SMOKE_HEADER, SmokePass
from civitas_kernel.testing.serving import ServerThread

from .change_town import HTML, VOTERS, Clock
from .deploy_town import approve


def limited_site(smtp, tmp_path):
    """An embedded site whose five voters are on the reported list, allowing 5 requests a minute per address."""
    clock, home = Clock(), tmp_path / "home"
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0, DEPLOY_HEALTH_S=3),
                clock=clock)
    auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30,
                        OPERATOR_TOKEN="operator-token-for-tests-0123456789", RATE_ADDRESS="5/1min")
    with site.lock:
        for name in VOTERS:
            site.registry.run(f"{name}@example.org", ["set", "residence", "1", "Elm", "St,", "Springfield", "90210"])
            site.registry.registrar_trust(f"{name}@example.org")
    site.compile("list")
    return site, clock, create_app(site, auth)


def flood(url: str, stop: threading.Event, answers: list[int]) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            answers.append(client.get(url + "/", headers=HTML).status_code)


def test_a_good_release_passes_its_health_window_while_a_flood_exhausts_the_limiter(smtp, tmp_path):
    site, clock, app = limited_site(smtp, tmp_path)
    with ServerThread().serving(app) as url:
        stop, answers = threading.Event(), []
        flooding = threading.Thread(target=flood, args=(url, stop, answers), daemon=True)
        flooding.start()
        try:
            while answers.count(429) < 20:  # the address's bucket is empty and stays so
                threading.Event().wait(0.01)
            approve(site, clock, tmp_path, {"site/front.md": "Hello, flooded town\n"}, "Hello")
            (deployment,) = site.deployer(url).run()
        finally:
            stop.set()
            flooding.join(10)
        assert deployment.phase == "applied", deployment
        assert answers.count(429) > 20 and answers.count(200) <= 10  # the flood stayed limited (5, and 1 per 12 s)
        assert site.releases.verified() == deployment.commit == site.releases.live()

        # What the smoke request carries is not a header anyone may send: forged or stale, it is limited like any other.
        stale = SmokePass.of_key(site.key.private_key, clock=lambda: 0.0).issue(60)  # long expired
        other = SmokePass.of_site_key(SiteKey.generate()).issue(60)
        for forged in ("1", "9999999999.deadbeef", stale, other):
            assert httpx.get(url + "/", headers={SMOKE_HEADER: forged}).status_code == 429, forged
        good = SmokePass.of_site_key(site.key).issue(60)
        assert httpx.get(url + "/", headers={SMOKE_HEADER: good}).status_code == 200
        assert httpx.get(url + "/deployments", headers={SMOKE_HEADER: good}).status_code == 429  # the front page alone


def test_without_the_pass_the_same_flood_rolls_the_good_release_back(smtp, tmp_path):
    """What the pass prevents: the smoke request limited like the flood never sees the release within its window."""
    site, clock, app = limited_site(smtp, tmp_path)
    with ServerThread().serving(app) as url:
        for _ in range(10):
            httpx.get(url + "/")
        approve(site, clock, tmp_path, {"site/front.md": "Hello, flooded town\n"}, "Hello")
        deployer = site.deployer(url)
        deployer.runner.smoke = None  # a deployer holding no pass
        (deployment,) = deployer.run()
    assert deployment.phase == "rolled_back", deployment
    assert "last: 429" in deployment.incident.reason and "share the site key" in deployment.incident.reason
