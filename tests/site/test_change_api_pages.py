"""Change proposals through the gateway of the embedded site: the API (propose a patch, vote, delegate, revise,
withdraw, as the signed-in voter), the pages (the list, a proposal with its highlighted diff, tally chart and
delegation graph, my delegations) and their error pages, and the mail that tells voters a revision voided their
vote (a real SMTP server)."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi.testclient import TestClient

from civitas_deployer.fetch import FetchLimits

from .change_town import HTML, make_patch, publish_branch, town  # noqa: F401 - fixtures


def test_a_change_is_proposed_voted_delegated_and_shown_through_the_api(town, tmp_path):
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, {"pages/index.md": "# Welcome\n"})
    proposed = c["alice"].post("/api/changes", json={"title": "A home page", "patch": patch.decode()})
    assert proposed.status_code == 201, proposed.text
    content = proposed.json()["data"]["content_hash"]
    early = c["bob"].put("/api/changes/1/vote", json={"choice": "yes"})
    assert early.status_code == 400 and "in review" in early.json()["detail"]
    clock.hours(48)
    voted = c["bob"].put("/api/changes/1/vote", json={"choice": "yes", "content_hash": content})
    assert voted.status_code == 200 and content in voted.json()["text"]
    delegated = c["carol"].put("/api/delegations/pages", json={"delegates": ["bob@example.org", "emily@example.org"]})
    assert delegated.status_code == 200, delegated.text
    shown = c["carol"].get("/api/changes/1").json()["data"]
    assert shown["my_vote"]["pages"]["how"] == "unresolved"  # emily has not voted: all of them must agree
    c["emily"].put("/api/changes/1/vote", json={"choice": "yes"})
    shown = c["carol"].get("/api/changes/1").json()["data"]
    assert shown["my_vote"]["pages"]["vote"] == "yes" and shown["tally"]["pages"]["yes"] == 3
    assert shown["my_vote"]["pages"]["chain"] == ["carol@example.org", "bob@example.org+emily@example.org"]
    graph = c["carol"].get("/api/changes/1/graph").json()["data"]["modules"]["pages"]
    assert sorted(graph["links"]) == [["carol@example.org", "bob@example.org"],
                                      ["carol@example.org", "emily@example.org"]]
    assert "+# Welcome" in c["dave"].get("/api/changes/1/diff").json()["data"]["diff"]
    mine = c["carol"].get("/api/delegations").json()["data"]
    assert mine["delegations"] == {"pages": ["bob@example.org", "emily@example.org"]}
    assert c["bob"].get("/api/delegations").json()["data"]["delegators"] == {"pages": ["carol@example.org"]}
    assert c["carol"].delete("/api/delegations/pages").status_code == 200
    assert c["bob"].delete("/api/changes/1/vote").status_code == 200
    assert [p["proposal"] for p in c["dave"].get("/api/changes").json()["data"]] == ["1"]


def test_bad_input_to_the_api_is_refused_and_writes_nothing(town, tmp_path):
    site, clock, c = town
    anonymous = TestClient(c["alice"].app, raise_server_exceptions=False)
    patch = make_patch(site.live_repo.path, tmp_path, {"pages/index.md": "# Welcome\n"}).decode()
    cases = [
        (anonymous.post("/api/changes", json={"title": "t", "patch": patch}), 401, "sign in"),
        (c["alice"].post("/api/changes", json={"title": "t"}), 400, "send the change once"),
        (c["alice"].post("/api/changes", json={"title": "t", "patch": "not a patch at all"}), 422, "patch"),
        (c["alice"].post("/api/changes", json={"title": "t", "url": "http://127.0.0.1:1/x.git", "branch": "main"}),
         422, "this site's own network"),
        (c["alice"].post("/api/changes", json={"title": "", "patch": patch}), 422, "title"),
        (c["bob"].put("/api/changes/9/vote", json={"choice": "yes"}), 404, "no proposal"),
        (c["bob"].put("/api/delegations/pages", json={"delegates": ["bob@example.org"]}), 422, "yourself"),
        (c["bob"].put("/api/delegations/nowhere", json={"delegates": ["carol@example.org"]}), 422, "module"),
        (c["bob"].put("/api/delegations/pages", json={"delegates": ["zed@example.org"]}), 403, "not on the voter list"),
    ]
    for response, status, words in cases:
        assert response.status_code // 100 == 4 and response.headers["content-type"] == "application/problem+json", \
            response.text
        assert words in response.json()["detail"].lower() or words in response.text.lower(), response.text
    assert site.log.head("change").seq == 0


def test_the_proposal_pages_show_the_diff_tally_graph_and_my_chain(town, tmp_path):
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, {"pages/app.py": 'def hello():\n    return "hi"\n',
                                                        "polls/mayor.toml": "title = 'Mayor'\n"})
    form = {"csrf": c["alice"].csrf, "key": "k1", "title": "Hello and a poll"}
    proposed = c["alice"].post("/changes", data=form, files={"patch": ("change.patch", patch, "text/x-patch")},
                               follow_redirects=False)
    assert proposed.status_code == 303 and proposed.headers["location"].startswith("/changes/1?message=proposed")
    clock.hours(48)
    c["bob"].post("/changes/1/vote", data={"csrf": c["bob"].csrf, "key": "k2", "choice": "yes"})
    c["carol"].post("/delegations", data={"csrf": c["carol"].csrf, "key": "k3", "scope": "*",
                                          "delegates": "bob@example.org"})
    page = c["carol"].get("/changes/1")
    assert page.status_code == 200
    html = page.text
    assert '<span class="k">def</span><span class="w"> </span><span class="nf">hello</span>' in html  # Python
    assert 'data-module="pages"' in html and 'data-module="polls"' in html  # the tally chart, per module
    assert 'class="edge mine" data-from="carol@example.org" data-to="bob@example.org"' in html
    assert "yes, through carol@example.org -&gt; bob@example.org" in html
    split = c["carol"].get("/changes/1?view=split").text
    assert split.count('<td class="add">') == 3 and "Side by side</strong>" in split
    listed = c["dave"].get("/changes").text
    assert "Hello and a poll" in listed and "pages, polls" in listed
    mine = c["bob"].get("/changes/delegations").text
    assert 'in <strong>*</strong>: <a href="/voters/carol@example.org">carol@example.org</a>' in mine
    assert 'href="/changes"' in c["dave"].get("/").text  # in the navigation
    assert '<a id="discussion" href="/drafts/discuss?subject=change:1">' in html  # its discussion, in drafts
    discussion = c["carol"].get("/drafts/discuss?subject=change:1")
    assert discussion.status_code == 200 and "Discussion of change:1" in discussion.text


def test_a_form_the_deployer_refuses_is_an_html_error_page_and_writes_nothing(town, tmp_path):
    site, clock, c = town
    form = {"csrf": c["alice"].csrf, "key": "k1", "title": "Broken"}
    refused = c["alice"].post("/changes", data=form, files={"patch": ("x.patch", b"garbage\n", "text/plain")},
                              headers=HTML)
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
    assert 'id="problem"' in refused.text and "patch" in refused.text
    forged = c["alice"].post("/changes", data=form | {"csrf": "forged"}, headers=HTML,
                             files={"patch": ("x.patch", b"garbage\n", "text/plain")})
    assert forged.status_code == 403 and "This form is out of date" in forged.text
    delegated = c["bob"].post("/delegations", data={"csrf": c["bob"].csrf, "key": "k2", "scope": "pages",
                                                    "delegates": "bob@example.org"}, headers=HTML)
    assert delegated.status_code // 100 == 4 and 'id="problem"' in delegated.text and "yourself" in delegated.text
    missing = c["bob"].get("/changes/7", headers=HTML)
    assert missing.status_code == 404 and "no proposal" in missing.text
    assert site.log.head("change").seq == 0


def test_a_revision_mails_every_voter_whose_vote_it_voided(town, tmp_path, inbox):
    site, clock, c = town
    first = make_patch(site.live_repo.path, tmp_path, {"pages/index.md": "# Welcome\n"}, "first")
    c["alice"].post("/api/changes", json={"title": "A home page", "patch": first.decode()}).raise_for_status()
    clock.hours(48)
    for name in ("bob", "carol"):
        c[name].put("/api/changes/1/vote", json={"choice": "no"}).raise_for_status()
    second = make_patch(site.live_repo.path, tmp_path, {"pages/index.md": "# Welcome, all\n"}, "second")
    retry = {"Idempotency-Key": "revise-2"}
    revised = c["alice"].post("/api/changes/1/revisions", json={"patch": second.decode()}, headers=retry)
    assert revised.status_code == 201 and revised.json()["data"]["voided"] == ["bob@example.org", "carol@example.org"]
    for name in ("bob", "carol"):
        told = inbox.last_to(f"{name}@example.org")
        assert told["Subject"] == "Your vote on proposal 1 is void: it was revised"
        assert revised.json()["data"]["content_hash"] in told.get_content()
    mails = len(inbox.messages)
    again = c["alice"].post("/api/changes/1/revisions", json={"patch": second.decode()}, headers=retry)
    assert again.json() == revised.json() and len(inbox.messages) == mails  # a retry: the same answer, no mail twice
    page = c["bob"].get("/changes/1").text
    assert 'id="voided"' in page and "is void" in page

    clock.hours(48)  # the revision opened a new review
    c["dave"].put("/api/changes/1/vote", json={"choice": "yes"}).raise_for_status()
    third = make_patch(site.live_repo.path, tmp_path, {"pages/index.md": "# Welcome, everyone\n"}, "third")
    form = {"csrf": c["alice"].csrf, "key": "revise-3"}
    revised = c["alice"].post("/changes/1/revise", data=form, files={"patch": ("third.patch", third, "text/x-patch")},
                              follow_redirects=False)
    assert revised.status_code == 303 and "1 voter(s) whose vote is void were told by mail" in unquote(
        revised.headers["location"])
    assert "revision 3" in inbox.last_to("dave@example.org").get_content()


def test_a_branch_at_a_git_url_is_proposed_and_a_revision_from_the_shell_mails_too(town, tmp_path, inbox, git_daemon):
    site, clock, c = town
    url, served = git_daemon
    with site.lock:
        site.change.fetch_limits = FetchLimits(internal_hosts=True)  # the site allows its own network: the daemon's
    publish_branch(site.live_repo.path, tmp_path, served, "about", {"pages/about.md": "About us\n"})
    proposed = c["alice"].post("/api/changes", json={"title": "About", "url": f"{url}/voter.git", "branch": "about"})
    assert proposed.status_code == 201 and proposed.json()["data"]["changed_paths"] == ["pages/about.md"]
    clock.hours(48)
    c["bob"].put("/api/changes/1/vote", json={"choice": "yes"}).raise_for_status()
    publish_branch(site.live_repo.path, tmp_path, served, "about2", {"pages/about.md": "About all of us\n"})
    line = f"change revise 1 --url {url}/voter.git --ref about2"
    revised = c["alice"].post("/api/shell", json={"line": line})
    assert revised.status_code == 200 and revised.json()["data"]["voided"] == ["bob@example.org"]
    assert inbox.last_to("bob@example.org")["Subject"] == "Your vote on proposal 1 is void: it was revised"


def test_a_revision_by_mail_tells_the_voters_it_voided_by_mail(town, tmp_path, inbox, git_daemon):
    import asyncio
    from email.message import EmailMessage
    from email.utils import make_msgid

    from civitas_gateway.mail_interface import MailInterfaceSettings, mail_interface_of

    site, clock, c = town
    url, served = git_daemon
    with site.lock:
        site.change.fetch_limits = FetchLimits(internal_hosts=True)
    publish_branch(site.live_repo.path, tmp_path, served, "about", {"pages/about.md": "About us\n"})
    c["alice"].post("/api/changes", json={"title": "About", "url": f"{url}/voter.git", "branch": "about"}).raise_for_status()
    clock.hours(48)
    c["carol"].put("/api/changes/1/vote", json={"choice": "no"}).raise_for_status()
    publish_branch(site.live_repo.path, tmp_path, served, "about2", {"pages/about.md": "About all of us\n"})
    interface = mail_interface_of(site, MailInterfaceSettings(HOME=tmp_path / "mail", SITE="localhost"),
                                  c["alice"].app.state.civitas_auth.sign_in)

    def mail(to: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "alice@example.org", to, "revise"
        message["Message-ID"] = make_msgid(domain="example.org")
        message.set_content(body)
        asyncio.run(interface.handle(message.as_bytes(), to))

    mail("change@localhost", f"revise 1 --url {url}/voter.git --ref about2\n")
    challenge = inbox.last_to("alice@example.org")
    mail(str(challenge["Reply-To"]), "yes\n")  # the revision runs once Alice answers
    told = inbox.last_to("carol@example.org")
    assert told["Subject"] == "Your vote on proposal 1 is void: it was revised"
    assert "revision 2" in told.get_content()
