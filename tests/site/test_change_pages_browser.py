"""The change pages in Chromium, as voters use them: Alice signs in and proposes a patch from its file; once review
ends Bob votes on it, Carol delegates to Bob and sees her vote follow his, the tally chart, the delegation graph with
her chain, and the diff highlighted, unified and side by side; a broken patch gets an HTML error page."""

from __future__ import annotations

import pytest

import time

import httpx

from civitas_gateway.auth import AuthSettings
from civitas_kernel.testing.serving import ServerThread

from civitas.testing import sign_in_in_browser

from .change_town import make_patch, open_at_once, voters_site
from .conftest import OPERATOR_TOKEN


def signed_in_page(browser, base: str, inbox, address: str):
    page = browser.new_context().new_page()  # a context each: voters side by side never share a cookie
    sign_in_in_browser(page, base, inbox, address)
    return page


@pytest.mark.slow
def test_voters_propose_vote_delegate_and_read_the_change_in_a_browser(browser, smtp, inbox, tmp_path):
    site, clock, app = voters_site(smtp, tmp_path)
    patch = tmp_path / "welcome.patch"
    patch.write_bytes(make_patch(site.live_repo.path, tmp_path, {"pages/app.py": 'def hello():\n    return "hi"\n'}))
    broken = tmp_path / "broken.patch"
    broken.write_text("this is no patch\n")
    with ServerThread().serving(app) as base:
        alice = signed_in_page(browser, base, inbox, "alice@example.org")
        alice.click("nav a:has-text('Changes')")
        alice.click("text=Propose a change")
        alice.fill("#propose input[name=title]", "Say hello")
        alice.set_input_files("#propose input[name=patch]", str(broken))
        alice.click("#propose button")
        assert alice.is_visible("#problem") and "patch" in alice.text_content("#detail")
        alice.go_back()
        alice.fill("#propose input[name=title]", "Say hello")
        alice.set_input_files("#propose input[name=patch]", str(patch))
        alice.click("#propose button")
        alice.wait_for_url(base + "/changes/1*")
        assert alice.text_content("#phase").startswith("review")
        assert "proposed 1: Say hello" in alice.text_content(".flash")

        clock.hours(48)  # the review is over: voting opens
        bob = signed_in_page(browser, base, inbox, "bob@example.org")
        bob.goto(base + "/changes/1")
        bob.click("#vote button:has-text('yes')")
        assert "you vote yes on proposal 1" in bob.text_content(".flash")

        carol = signed_in_page(browser, base, inbox, "carol@example.org")
        carol.goto(base + "/changes/delegations")
        carol.fill("#delegate input[name=scope]", "pages")
        carol.fill("#delegate input[name=delegates]", "bob@example.org")
        carol.click("#delegate button")
        assert "your vote follows bob@example.org" in carol.text_content(".flash")
        assert carol.text_content("#delegations tr[data-scope=pages]").count("bob@example.org") == 1
        carol.goto(base + "/changes/1")
        assert "yes, through carol@example.org -> bob@example.org" in carol.text_content("#resolved")
        assert "yes 2" in carol.text_content("#tally svg g[data-module=pages]")  # bob's own and carol's through him
        edge = carol.locator(".delegation-graph[data-module=pages] line.edge.mine")
        assert (edge.get_attribute("data-from"), edge.get_attribute("data-to")) == ("carol@example.org",
                                                                                     "bob@example.org")
        assert carol.locator(".delegation-graph g.node.me").get_attribute("data-voter") == "carol@example.org"
        assert carol.locator("table.diff span.nf").first.text_content() == "hello"  # Python, highlighted
        carol.click("#views a:has-text('Side by side')")
        assert carol.locator("table.diff.split td.add").count() == 2

        bob.goto(base + "/changes/delegations")
        assert "carol@example.org" in bob.text_content("#delegators")

        bob.goto(base + "/changes/1")
        response = bob.request.post(base + "/changes/1/vote", form={"choice": "maybe", "csrf": "x", "key": "k"},
                                    headers={"Accept": "text/html"})
        assert response.status == 422 and "Some fields are not right" in response.text()
    assert site.log.head("change").seq == 3  # the proposal, bob's vote, carol's delegation: nothing refused wrote


@pytest.mark.slow
def test_the_change_pages_work_the_same_in_front_of_the_deployer_service(browser, smtp, inbox, tmp_path,
                                                                         noida_broker, threaded_services):
    """The gateway in front of registry, polls, counter and the deployer, each a service of its own over HTTP."""
    open_at_once(tmp_path / "home" / "live.git")  # the services' CIVITAS_HOME: the deployer finds it there
    auth = AuthSettings(HOME=tmp_path / "gateway", SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1],
                        SMTP_TIMEOUT=30, OPERATOR_TOKEN=OPERATOR_TOKEN)
    urls = threaded_services(noida_broker.settings(), auth,
                             services=("registry", "polls", "counter", "deployer", "drafts", "gateway"))
    base, operator = urls["gateway"], {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    deadline = time.monotonic() + 30
    while httpx.get(base + "/ready").status_code != 200:
        assert time.monotonic() < deadline, httpx.get(base + "/ready").text
        time.sleep(0.05)
    pages = {}
    for name in ("alice", "bob", "carol"):
        voter = f"{name}@example.org"
        httpx.post(base + "/api/registrar/trust", json={"voter": voter}, headers=operator).raise_for_status()
        pages[name] = page = signed_in_page(browser, base, inbox, voter)
        page.fill("form[action='/me/residence'] input[name=value]", "1 Main St, Town A1000")
        page.click("form[action='/me/residence'] button")
    httpx.post(base + "/api/records/list", headers=operator).raise_for_status()
    patch = tmp_path / "hello.patch"
    hello = {"pages/app.py": "def hello():\n    pass\n"}
    patch.write_bytes(make_patch(tmp_path / "home" / "live.git", tmp_path, hello))

    alice, bob, carol = pages["alice"], pages["bob"], pages["carol"]
    alice.goto(base + "/changes/new")
    alice.fill("#propose input[name=title]", "Say hello")
    alice.set_input_files("#propose input[name=patch]", str(patch))
    alice.click("#propose button")
    alice.wait_for_url(base + "/changes/1*")
    assert alice.text_content("#phase") == "voting"
    bob.goto(base + "/changes/1")
    bob.click("#vote button:has-text('no')")
    assert "you vote no on proposal 1" in bob.text_content(".flash")
    carol.goto(base + "/changes/delegations")
    carol.fill("#delegate input[name=scope]", "*")
    carol.fill("#delegate input[name=delegates]", "bob@example.org")
    carol.click("#delegate button")
    carol.goto(base + "/changes/1")
    assert "no, through carol@example.org -> bob@example.org" in carol.text_content("#resolved")
    assert "no 2" in carol.text_content("#tally svg g[data-module=pages]")
    assert carol.locator(".delegation-graph line.edge.mine").get_attribute("data-to") == "bob@example.org"
    assert carol.locator("table.diff span.nf").first.text_content() == "hello"
    carol.goto(base + "/changes/delegations")
    carol.fill("#delegate input[name=scope]", "nowhere")
    carol.fill("#delegate input[name=delegates]", "bob@example.org")
    carol.click("#delegate button")
    assert carol.is_visible("#problem") and "nowhere" in carol.text_content("#detail")  # the deployer's refusal

    # a reply to a hunk goes to the drafts service, into the discussion the gateway opened for alice's proposal
    carol.goto(base + "/changes/1")
    hunk = carol.locator("tr.hunk-discussion[data-file='pages/app.py']").first
    hunk.locator("summary").click()
    hunk.locator("textarea[name=text]").fill("Should it not return something?")
    hunk.locator("button:has-text('Post the reply')").click()
    carol.wait_for_url(base + "/changes/1?message=**")
    reply = carol.locator("tr.hunk-discussion[data-file='pages/app.py'] .hunk-reply").first
    assert "Should it not return something?" in reply.text_content()
    streams = {s["stream"]: s["seq"] for s in httpx.get(base + "/api/log/streams").json()}
    assert streams["draft"] == 2 and streams["change"] >= 3  # the discussion and the reply; the proposal's events
    assert httpx.get(base + "/ready").json() | {"deployer": "ok", "drafts": "ok"} == httpx.get(base + "/ready").json()


@pytest.mark.slow
def test_a_voter_replies_to_a_hunk_and_sees_it_marked_once_the_proposal_is_revised(browser, smtp, inbox, tmp_path):
    site, clock, app = voters_site(smtp, tmp_path)
    first = tmp_path / "first.patch"
    first.write_bytes(make_patch(site.live_repo.path, tmp_path, {"pages/app.py": 'def hello():\n    return "hi"\n'}))
    second = tmp_path / "second.patch"
    second.write_bytes(make_patch(site.live_repo.path, tmp_path, {"pages/app.py": 'def hello():\n    return "hey"\n'},
                                  name="second"))
    with ServerThread().serving(app) as base:
        alice = signed_in_page(browser, base, inbox, "alice@example.org")
        alice.goto(base + "/changes/new")
        alice.fill("#propose input[name=title]", "Say hello")
        alice.set_input_files("#propose input[name=patch]", str(first))
        alice.click("#propose button")
        alice.wait_for_url(base + "/changes/1*")

        bob = signed_in_page(browser, base, inbox, "bob@example.org")
        bob.goto(base + "/changes/1")
        hunk = bob.locator("tr.hunk-discussion[data-file='pages/app.py']").first
        assert hunk.locator(".hunk-reply").count() == 0
        hunk.locator("summary:has-text('Reply to this hunk')").click()
        hunk.locator("textarea[name=text]").fill("Why not a docstring?\n\nAnd a test.")
        hunk.locator("button:has-text('Post the reply')").click()
        bob.wait_for_url(base + "/changes/1?message=**")
        assert "replied to pages/app.py @@" in bob.text_content(".flash")
        reply = bob.locator("tr.hunk-discussion[data-file='pages/app.py'] .hunk-reply").first
        assert reply.locator("p").nth(1).text_content() == "Why not a docstring?"
        assert reply.locator("p").nth(2).text_content() == "And a test."
        assert reply.locator(".outdated-note").count() == 0
        bob.click("#discussion")  # the proposal's discussion group holds the reply as a post
        assert "Why not a docstring?" in bob.text_content("#posts")

        alice.goto(base + "/changes/1")
        alice.set_input_files("#revise input[name=patch]", str(second))
        alice.click("#revise button")
        alice.wait_for_url(base + "/changes/1?message=**")
        bob.goto(base + "/changes/1")
        reply = bob.locator("tr.hunk-discussion[data-file='pages/app.py'] .hunk-reply").first
        assert "on an earlier revision" in reply.locator(".outdated-note").text_content()
        assert reply.get_attribute("data-revision") != bob.text_content("#content-hash")
