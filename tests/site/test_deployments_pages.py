"""The deployments page and a decision record's page on the embedded site, over HTTP: empty at first; the mirrors as
they stand after real pushes (one taken, one refused, no credential shown); a decision approved by real votes, its
page and its archive; the deployments the engine reports, each linked to its proposal and decision, with incidents."""

from __future__ import annotations

import io
import subprocess
import tarfile

from fastapi.testclient import TestClient

from civitas.settings import Settings
from civitas.site import Site
from civitas_gateway import AuthSettings, create_app
from civitas_kernel.commands import Reply

from .change_town import HTML, make_patch, town  # noqa: F401,F811 - fixtures


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


class Reported:
    """The change desk with the deployments the engine reports (the contract's shape)."""

    def __init__(self, desk, data: dict) -> None:
        self.desk, self.data = desk, data

    def deployments(self) -> Reply:
        return Reply("", self.data)

    def __getattr__(self, name):
        return getattr(self.desk, name)


def test_each_deployment_is_linked_to_its_proposal_and_decision_and_an_incident_shows_its_logs(tmp_path, smtp):
    from civitas_gateway.change_desk import changes_of

    site, app = app_of(tmp_path, smtp)
    base = site.live_repo.head()
    data = {"live": {"commit": "c" * 40, "since_us": 1_796_000_000_000_000, "deployment": "2"},
            "deployments": [
                {"id": "3", "proposal": "5", "revision": 2, "decision": "decision 4", "content_hash": "h" * 64,
                 "base": base, "commit": "d" * 40, "kind": "content", "phase": "rolled_back",
                 "started_us": 1_796_000_100_000_000, "ended_us": 1_796_000_160_000_000,
                 "incident": {"phase": "health", "reason": "GET / answered 500 <b>", "log_tail": "line 1\n<script>"},
                 "rebased_from": None},
                {"id": "2", "proposal": "3", "revision": 1, "decision": "decision 2", "content_hash": "g" * 64,
                 "base": base, "commit": "c" * 40, "kind": "content", "phase": "applied",
                 "started_us": 1_796_000_000_000_000, "ended_us": 1_796_000_030_000_000, "incident": None,
                 "rebased_from": "e" * 40}],
            "mirrors": []}
    site.changes = Reported(changes_of(site), data)
    with TestClient(app) as client:
        page = client.get("/deployments", headers=HTML).text
    assert f"Commit <code>{'c' * 40}</code>" in page and "2026-" in page and 'href="#deployment-2"' in page
    row = page.split('<tr id="deployment-3"')[1].split("</tr>")[0]
    assert 'href="/changes/5"' in row and 'href="/decisions/4"' in row and "rolled_back" in row
    assert 'href="#incident-3"' in row
    assert "rebased from <code" in page.split('<tr id="deployment-2"')[1].split("</tr>")[0]
    incident = page.split('id="incident-3"')[1].split("</section>")[0]
    assert "failed while health" in incident and "GET / answered 500 &lt;b&gt;" in incident
    assert '<pre class="log-tail">line 1\n&lt;script&gt;</pre>' in incident  # escaped, never run
