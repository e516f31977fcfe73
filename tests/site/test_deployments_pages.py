"""The deployments page and a decision record's page on the embedded site, over HTTP: empty at first; the mirrors as
they stand after real pushes (one taken, one refused, no credential shown); a decision approved by real votes, its
page and its archive; real deployments (one applied, one refused, one rebased and rolled back), each linked to its
proposal and decision, with the incident's logs escaped."""

from __future__ import annotations

import io
import subprocess
import tarfile

import httpx
from fastapi.testclient import TestClient

from civitas.settings import Settings
from civitas.site import Site
from civitas_gateway import AuthSettings, create_app
from civitas_kernel.testing.serving import ServerThread

from .change_town import HTML, make_patch, town, voters_site  # noqa: F401,F811 - fixtures
from .deploy_town import BROKEN_HOME, approve


def app_of(tmp_path, smtp, **settings):
    home = tmp_path / "home"
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0, **settings))
    auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30,
                        OPERATOR_TOKEN="operator-token-for-tests-0123456789")
    return site, create_app(site, auth)


def test_the_deployments_page_of_a_new_site_says_there_is_nothing_yet(tmp_path, smtp):
    site, app = app_of(tmp_path, smtp)
    with TestClient(app) as client:
        page = client.get("/deployments", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<a href="/deployments">Deployments</a>' in page.text  # in every page's menu
    for said in ("No release yet", "No deployments yet", "No incidents", "No off-site mirror is configured"):
        assert said in page.text


def test_the_mirrors_are_shown_as_they_stand_without_their_credentials(tmp_path, smtp):
    good, bad = tmp_path / "good.git", tmp_path / "bad.git"
    for repo in (good, bad):
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
    hook = bad / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no pushes here' >&2\nexit 1\n")
    hook.chmod(0o755)
    site, app = app_of(tmp_path, smtp, MIRROR_URLS=f"{good},{bad},https://pusher:hunter2@127.0.0.1:1/site.git")
    head = site.live_repo.head()
    site.mirrors.verified(head, "release-1", "release 1")
    site.mirrors.push_due()
    with TestClient(app) as client:
        page = client.get("/deployments", headers=HTML).text
    assert "hunter2" not in page and "pusher" not in page
    rows = page.split('<table id="mirrors">')[1].split("</table>")[0].split("<tr ")[1:]
    assert len(rows) == 3
    shown = {row.split("<code>")[1].split("</code>")[0]: row for row in rows}
    assert 'data-state="ok"' in shown[str(good)] and head[:12] in shown[str(good)] and "release-1" in shown[str(good)]
    assert 'data-state="retrying"' in shown[str(bad)] and "no pushes here" in shown[str(bad)]
    assert "to push: <code>" + head[:12] in shown[str(bad)]
    assert 'data-state="retrying"' in shown["https://127.0.0.1:1/site.git"]


def test_a_decision_records_page_shows_what_was_decided_and_serves_its_archive(town, tmp_path):  # noqa: F811
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, {"site/front.md": "# Welcome\n"})
    assert c["alice"].post("/api/changes", json={"title": "A front page", "patch": patch.decode()}).status_code == 201
    clock.hours(48)
    for name in ("bob", "carol"):
        assert c[name].put("/api/changes/1/vote", json={"choice": "yes"}).status_code == 200
    clock.hours(169)
    (decided,) = site.decide().data
    record = decided["record"] if isinstance(decided, dict) else decided
    page = c["dave"].get(f"/decisions/{record}", headers=HTML)
    assert page.status_code == 200, page.text
    assert "<strong>approved</strong>" in page.text and '<a href="/changes/1">1</a>' in page.text
    assert f"civitas audit localhost-decision-{record:06d}.tar --key {site.public_key().hex()}" in page.text
    archive = c["dave"].get(f"/decisions/{record}/archive.tar")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/x-tar"
    assert tarfile.open(fileobj=io.BytesIO(archive.content)).getnames()  # a tar an auditor can open
    missing = c["dave"].get("/decisions/99", headers=HTML)
    assert missing.status_code == 404 and "no decision record 99" in missing.text and "Traceback" not in missing.text
    assert c["dave"].get("/decisions/99/archive.tar").status_code == 404


def test_each_deployment_is_linked_to_its_proposal_and_decision_and_an_incident_shows_its_logs(smtp, tmp_path):
    site, clock, app = voters_site(smtp, tmp_path, DEPLOY_HEALTH_S=10)
    with ServerThread().serving(app) as url:
        approve(site, clock, tmp_path, {"site/front.md": "Hello\n"}, "Hello")  # all three on one base:
        approve(site, clock, tmp_path, {"site/front.md": "Goodbye\n"}, "Goodbye")  # its path changed since: refused
        approve(site, clock, tmp_path, BROKEN_HOME, "Broken")  # disjoint: rebased, then rolled back
        applied, refused, broken = site.deployer(url).run()
        page = httpx.get(url + "/deployments", headers=HTML)
    assert page.status_code == 200 and page.headers["civitas-release"] == applied.commit
    text = page.text
    assert f"Commit <code>{applied.commit}</code>" in text and f'href="#deployment-{applied.id}"' in text
    rows = {d.id: text.split(f'<tr id="deployment-{d.id}"')[1].split("</tr>")[0] for d in (applied, refused, broken)}
    for number, d in enumerate((applied, refused, broken), start=1):
        assert f'href="/changes/{number}"' in rows[d.id] and f'href="/decisions/{number}"' in rows[d.id]
    assert 'data-phase="applied"' in rows[applied.id]
    assert 'data-phase="refused"' in rows[refused.id] and refused.refusal in rows[refused.id]
    assert 'data-phase="rolled_back"' in rows[broken.id] and f'href="#incident-{broken.id}"' in rows[broken.id]
    assert broken.rebased_from and f'rebased from <code title="{broken.rebased_from}">' in rows[broken.id]
    assert f'reverted by <code title="{broken.revert}">' in rows[broken.id]
    incident = text.split(f'id="incident-{broken.id}"')[1].split("</section>")[0]
    assert "failed while health" in incident and "answered 503" in incident
    tail = incident.split('<pre class="log-tail">')[1].split("</pre>")[0]
    assert "cannot be served" in tail and "<" not in tail and "&lt;" in tail  # the answer's HTML shown, never drawn
