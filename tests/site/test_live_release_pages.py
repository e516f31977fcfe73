"""The pages served from the live release: the live repository's commit exported (git archive) as the deployer does,
the `live` symlink switched, and the running app shows the release's stylesheet, front text and templates at the
next request, without a restart; a template that tries to leave the sandbox, or does not compile, is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civitas_kernel.testing.releases import commit_files, no_release, release, switch

PACKAGED_CSS = "services/gateway/src/civitas_gateway/static/site.css"


@pytest.fixture
def town(make_site_app):
    """(site, a client of its running app, the live repository, the releases folder)."""
    site, app = make_site_app()
    releases = site.settings.releases_path
    releases.mkdir(parents=True)
    return site, TestClient(app), site.live_repo, releases


def test_before_any_release_the_pages_are_civitass_own_and_say_none(town):
    _, client, _, _ = town
    page = client.get("/")
    assert page.status_code == 200 and page.headers["civitas-release"] == "none"
    assert "A self-governing site" in page.text
    css = client.get("/static/site.css")
    assert css.headers["civitas-release"] == "none" and css.headers["cache-control"] == "no-cache"
    assert client.get("/api/log/streams").headers["civitas-release"] == "none"  # every answer, not only pages


def test_the_first_release_is_what_civitas_ships(town):
    _, client, repo, releases = town
    commit = release(releases, repo.path)
    assert commit == repo.head()
    page = client.get("/")
    assert page.status_code == 200 and page.headers["civitas-release"] == commit
    assert "A self-governing site" in page.text
    with open(PACKAGED_CSS, "rb") as packaged:
        assert client.get("/static/site.css").content == packaged.read()  # the shipped copy is the gateway's own


def test_a_release_s_stylesheet_and_front_text_show_at_the_next_request_and_a_switch_back_restores_them(town):
    _, client, repo, releases = town
    first = release(releases, repo.path)
    commit_files(repo.path, {"site/static/site.css": "body { font-family: serif; }\n",
                             "site/front.md": "# Welcome to *our* town\n\nVote on the [polls](/polls).\n"})
    second = release(releases, repo.path, decision="decision 1")
    page = client.get("/")
    assert page.headers["civitas-release"] == second
    assert "<h1>Welcome to <em>our</em> town</h1>" in page.text and '<a href="/polls">polls</a>' in page.text
    css = client.get("/static/site.css")
    assert css.text == "body { font-family: serif; }\n" and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/site.css", headers={"If-None-Match": css.headers["etag"]}).status_code == 304
    switch(releases, first)  # the deployer's rollback
    assert "A self-governing site" in client.get("/").text
    assert "font-family: serif" not in client.get("/static/site.css").text
    no_release(releases)
    assert client.get("/").headers["civitas-release"] == "none"


def test_front_text_is_markdown_with_html_escaped_and_unsafe_links_dropped(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/front.md": "<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
                                              "<img src=x onerror=alert(1)>\n"})
    release(releases, repo.path)
    page = client.get("/").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:" not in page.split('<div class="front">')[1].split("</div>")[0].replace(
        "[click](javascript:alert(1))", "")  # shown as text, never as a link
    assert 'href="javascript' not in page and "<img src=x" not in page


def test_a_release_template_overrides_the_packaged_one_and_extends_civitas_s_base(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/templates/home.html":
                             '{% extends "base.html" %}{% block main %}<p id="custom">Hello from {{ site }}; '
                             '{{ polls|length }} polls</p>{{ front }}{% endblock %}'})
    release(releases, repo.path)
    page = client.get("/")
    assert page.status_code == 200 and '<p id="custom">Hello from localhost; 0 polls</p>' in page.text
    assert '<a href="/polls">Polls</a>' in page.text  # the packaged base around it


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ self._TemplateReference__context }}",
    "{{ polls['__class__'] }}",
])
def test_a_template_reaching_python_internals_is_refused_and_the_pages_say_why_without_a_traceback(town, template):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/templates/poll.html": "<p>fine</p>\n" + template})
    commit = release(releases, repo.path)
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["civitas-release"] == commit  # the smoke request fails
    assert "site/templates/poll.html line 2" in page.text and "internal" in page.text
    assert "Traceback" not in page.text and "File \"" not in page.text
    assert client.get("/api/log/streams").status_code == 200  # the API is not the release's to break


def test_a_template_reaching_the_site_s_objects_draws_nothing_of_them(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/templates/home.html":
                             "[{{ request }}][{{ site.settings }}][{{ polls.append(1) }}]"})
    release(releases, repo.path)
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 500 and "home.html" in page.text and "Traceback" not in page.text
    assert "is unsafe" in page.text or "not safely callable" in page.text


def test_a_template_that_does_not_compile_refuses_the_release(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/templates/home.html": "{% if %}"})
    release(releases, repo.path)
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "site/templates/home.html line 1" in page.text
    assert "Traceback" not in page.text


def test_a_release_serves_stylesheets_and_pictures_but_never_scripts_or_pages(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/static/extra.css": "p{}", "site/static/docs.js": "steal()",
                             "site/static/page.html": "<script>steal()</script>"})
    release(releases, repo.path)
    assert client.get("/static/extra.css").text == "p{}"
    assert "steal" not in client.get("/static/docs.js").text  # civitas's own script, not the release's
    assert client.get("/static/page.html").status_code == 404


def test_the_pages_that_show_secrets_stay_civitas_s_own(town):
    _, client, repo, releases = town
    commit_files(repo.path, {"site/templates/signin.html": "<p>steal {{ challenge }}</p>",
                             "site/templates/account.html": "<p>steal</p>"})
    release(releases, repo.path)
    page = client.get("/signin")
    assert page.status_code == 200 and "steal" not in page.text and "Send me a code" in page.text


def test_the_sandbox_reads_no_object_the_pages_do_not_hand_their_templates():
    from dataclasses import dataclass

    import pytest as _pytest
    from jinja2.exceptions import SecurityError

    from civitas_gateway.page_sandbox import PageSandbox

    @dataclass
    class Mailer:  # a data class, but no page data: like the SMTP mailer with its password
        password: str = "secret"

    env = PageSandbox(autoescape=True)
    for reach in ("{{ mailer.password }}", "{{ mailer.__dict__ }}", "{{ mailer['password'] }}",
                  "{{ mailer|attr('password') }}"):
        assert "secret" not in env.from_string(reach).render(mailer=Mailer()), reach  # draws nothing of it
    with _pytest.raises(SecurityError):  # and calling into it is refused
        env.from_string("{{ mailer.__init__() }}").render(mailer=Mailer())
    assert env.from_string("{{ d.get('a') }} {{ 'a b'.split()|join(',') }}").render(d={"a": 1}) == "1 a,b"
