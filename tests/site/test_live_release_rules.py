"""What the live release configures on the embedded site, applied without a restart: polls from polls/*.toml
(created, configured, closed when removed, attributed to the release, nothing new on a replay or a restart),
the site's rules (rules.toml) and the registrars who may give primary trust (registrars.toml); a release whose
files cannot be read writes nothing, is refused by the pages (the smoke request fails) and says why in the log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from civitas_gateway import AuthSettings, create_app
from civitas_kernel.commands import CommandError, ForbiddenError
from civitas_kernel.testing.releases import commit_files, no_release, release
from civitas_kernel.voter_command import VoterCommand
from civitas_registry import ListConfig

from civitas.cli import main
from civitas.settings import Settings
from civitas.site import Site, dispatch

MAYOR = 'title = "Who should be mayor?"\nmin_trust = 0\n'
CLERK, BOB, CAROL = "clerk@example.org", "bob@example.org", "carol@example.org"


def site_at(home, **settings) -> Site:
    return Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0, **settings))


@pytest.fixture
def town(tmp_path):
    """(site, the live repository, the releases folder)."""
    site = site_at(tmp_path / "home", TRUST_RANGE_PREFIX=4, PRE_REGISTRATION_MIN=1)
    releases = site.settings.releases_path
    releases.mkdir(parents=True)
    return site, site.live_repo, releases


def poll_head(site: Site) -> int:
    return max((head.seq for _, stream, head in site.log.streams() if stream == "poll"), default=0)


def vote(site: Site, voter: str, poll: str, candidate: str):
    return site.writer.submit(lambda: dispatch(site, VoterCommand(voter, poll, ("vote", candidate)))).result()


def test_polls_come_from_the_release_attributed_to_it_and_a_replay_or_restart_writes_nothing(town):
    site, repo, releases = town
    commit = commit_files(repo.path, {"polls/mayor.toml": MAYOR})
    release(releases, repo.path, decision="decision 1")
    reply = site.release_polls.check()
    assert reply.data == {"commit": commit, "events": 1, "polls": ["mayor"]}
    mayor = site.polls.poll("mayor")
    assert mayor.title == "Who should be mayor?" and site.polls.state.configured_by["mayor"] == f"release:{commit}"
    event = list(site.log.read("poll"))[-1]
    assert event.actor == f"release:{commit}"
    head = poll_head(site)
    assert site.release_polls.check() is None  # the same release: not looked at again
    restarted = site_at(site.settings.HOME, TRUST_RANGE_PREFIX=4)  # a restart folds the log and looks again
    assert restarted.release_polls.check().data["events"] == 0 and poll_head(restarted) == head
    assert "README" not in site.polls.state.polls  # polls/README.md is no poll


def test_a_poll_changed_in_the_files_is_configured_and_one_removed_is_closed_for_good(town):
    site, repo, releases = town
    commit_files(repo.path, {"polls/mayor.toml": MAYOR, "polls/budget.toml": 'title = "The budget"\n'})
    release(releases, repo.path)
    site.release_polls.check()
    assert vote(site, BOB, "mayor", CAROL).data
    commit_files(repo.path, {"polls/mayor.toml": MAYOR.replace("min_trust = 0", "min_trust = 2")})
    release(releases, repo.path)
    assert site.release_polls.check().data["polls"] == ["mayor"]
    assert site.polls.poll("mayor").min_trust == 2
    removed = commit_files(repo.path, {"polls/budget.toml": None})
    release(releases, repo.path, decision="decision 2")
    assert site.release_polls.check().data["polls"] == ["budget"]
    budget = site.polls.poll("budget")
    assert 0 < budget.closes_at_us <= site.clock()
    assert site.polls.state.configured_by["budget"] == f"release:{removed}"
    with pytest.raises(CommandError, match="budget is closed"):
        vote(site, BOB, "budget", CAROL)
    head = poll_head(site)
    assert site_at(site.settings.HOME).release_polls.check().data["events"] == 0  # closed stays closed, once
    assert poll_head(site) == head


def test_polls_the_operator_made_are_the_operator_s(town):
    site, repo, releases = town
    site.polls.create("picnic", title="Where is the picnic?")
    commit_files(repo.path, {"polls/mayor.toml": MAYOR})
    release(releases, repo.path)
    site.release_polls.check()
    picnic = site.polls.poll("picnic")
    assert picnic.closes_at_us == 0 and site.polls.state.configured_by["picnic"] == "operator"


@pytest.mark.parametrize(("files", "said"), [
    ({"polls/bad.toml": 'title = "x"\nwhen = "soon"\n'}, "polls/bad.toml: unknown key(s) when"),
    ({"polls/bad.toml": 'title = "x"\ncloses = "tomorrow"\n'}, "closes = 'tomorrow' is no date and time"),
    ({"polls/Bad_Name.toml": 'title = "x"\n'}, "cannot name a poll"),
    ({"polls/bad.toml": "title = \n"}, "polls/bad.toml is not valid TOML"),
])
def test_a_release_with_a_bad_poll_file_writes_nothing_and_its_pages_are_refused(town, caplog, files, said):
    site, repo, releases = town
    commit = commit_files(repo.path, {"polls/mayor.toml": MAYOR, **files})
    release(releases, repo.path)
    head = poll_head(site)
    with caplog.at_level(logging.ERROR, logger="civitas.polls.release"):
        assert site.release_polls.check() is None
    assert poll_head(site) == head and "mayor" not in site.polls.state.polls  # nothing written, not even mayor
    assert said in caplog.text and commit in caplog.text
    page = TestClient(create_app(site, AuthSettings(HOME=site.settings.HOME))).get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and said.replace("'", "&#39;") in page.text and "Traceback" not in page.text


def test_the_rules_in_force_are_the_release_s_and_a_rule_it_removes_no_longer_applies(town):
    site, repo, releases = town
    assert site.list_config == ListConfig(pre_registration_min=1, range_prefix=4)  # no release: the settings
    assert site.rules().source == "the settings"
    release(releases, repo.path)  # the shipped rules.toml writes no rule: the operator's settings stay in force
    assert site.list_config == ListConfig(pre_registration_min=1, range_prefix=4)
    commit = commit_files(repo.path, {"rules.toml": "[voter_list]\ntrust_range_prefix = 3\npre_registration_min = 2\n"
                                                    "[compile]\nevery_minutes = 15\njitter_percent = 10\n"})
    release(releases, repo.path)
    rules = site.rules()
    assert site.list_config == ListConfig(pre_registration_min=2, range_prefix=3)
    assert (rules.compile_every_minutes, rules.compile_jitter, rules.source) == (15, 0.1, f"the live release {commit}")
    (record,) = site.compile("list")[:1]
    assert record.snap["config"] == {"pre_registration_min": 2, "range_prefix": 3}  # the list records its rules
    commit_files(repo.path, {"rules.toml": "[voter_list]\npre_registration_min = 2\n"})
    release(releases, repo.path)
    assert site.list_config == ListConfig(pre_registration_min=2, range_prefix=4)  # the voted range 3 is gone
    no_release(releases)
    assert site.list_config == ListConfig(pre_registration_min=1, range_prefix=4)


def test_pre_registration_follows_the_release_s_rule_without_a_restart(town):
    site, repo, releases = town
    commit_files(repo.path, {"rules.toml": "[voter_list]\npre_registration_min = 5\n"})
    release(releases, repo.path)
    run = lambda: site.writer.submit(lambda: dispatch(  # noqa: E731
        site, VoterCommand(BOB, "register", ("set", "--alter", CAROL, "name", "Carol")))).result()
    with pytest.raises(CommandError, match="5"):
        run()
    commit_files(repo.path, {"rules.toml": "[voter_list]\npre_registration_min = 0\n"})
    release(releases, repo.path)
    assert "Carol" in run().text


def test_registrars_named_by_the_release_give_primary_trust_under_their_name_and_lose_it_when_removed(town):
    site, repo, releases = town
    primary = lambda who, *args: site.writer.submit(lambda: dispatch(  # noqa: E731
        site, VoterCommand(who, "register", ("primary", *args)))).result()
    release(releases, repo.path)  # the shipped registrars.toml names nobody
    with pytest.raises(ForbiddenError, match="no registrar of this site"):
        primary(CLERK, BOB)
    commit_files(repo.path, {"registrars.toml": f'registrars = ["{CLERK.upper()}"]\n'})
    release(releases, repo.path)
    assert site.rules().registrars == (CLERK,)
    assert primary(CLERK, BOB, "2").data["edges"] == 2 and site.registry.primary_edges(BOB) == 2
    assert list(site.log.read("trust"))[-1].actor == CLERK
    with pytest.raises(CommandError, match="themselves"):
        primary(CLERK, CLERK)
    with pytest.raises(ForbiddenError):
        primary(BOB, CAROL)
    commit_files(repo.path, {"registrars.toml": "registrars = []\n"})
    release(releases, repo.path)
    with pytest.raises(ForbiddenError):
        primary(CLERK, CAROL)
    assert site.registry.primary_edges(BOB) == 2  # given edges stand until withdrawn


def test_bad_rules_refuse_the_release_and_leave_the_rules_in_force(town, caplog):
    site, repo, releases = town
    release(releases, repo.path)
    before = site.rules()
    commit_files(repo.path, {"rules.toml": "[voter_list]\ntrust_range = 3\n",
                             "registrars.toml": 'registrars = ["not an address"]\n'})
    release(releases, repo.path)
    with caplog.at_level(logging.ERROR, logger="civitas.rules"):
        assert site.rules() == before
    assert "rules.toml: [voter_list] has no rule 'trust_range'" in caplog.text
    page = TestClient(create_app(site, AuthSettings(HOME=site.settings.HOME))).get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "trust_range" in page.text


def test_civitas_site_shows_what_is_in_force(town, capsys, monkeypatch):
    site, repo, releases = town
    monkeypatch.setenv("CIVITAS_HOME", str(site.settings.HOME))
    monkeypatch.setenv("CIVITAS_SITE", "localhost")
    commit = commit_files(repo.path, {"rules.toml": "[voter_list]\ntrust_range_prefix = 3\n",
                                      "registrars.toml": f'registrars = ["{CLERK}"]\n'})
    release(releases, repo.path)
    assert main(["site"]) == 0
    out = capsys.readouterr().out
    assert f"live_release: {commit}" in out and f"rules_from: the live release {commit}" in out
    assert "trust_range: 3" in out and f"registrars: {CLERK}" in out and "compile_every: 60 minutes, ±25%" in out
