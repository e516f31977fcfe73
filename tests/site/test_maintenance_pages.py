"""The maintenance and lock-out pages on the embedded site, over real HTTP; and the operator's token used after the
lock-out: refused, recorded in the log at most once a minute with the rest counted, shown on the lock-out page."""

from __future__ import annotations

import httpx

from civitas_kernel.lockdown import mark_locked_down
from civitas_kernel.testing.serving import ServerThread

from .change_town import HTML
from .test_deployments_pages import app_of

TOKEN = {"Authorization": "Bearer operator-token-for-tests-0123456789"}


def test_the_maintenance_page_lists_the_actions_of_the_verified_release(tmp_path, smtp):
    site, app = app_of(tmp_path, smtp)
    with ServerThread().serving(app) as url:
        site.deployer(url).recover()  # the first release serves, verified
        page = httpx.get(url + "/maintenance", headers=HTML, timeout=10)
    assert page.status_code == 200 and '<a href="/maintenance">Maintenance</a>' in page.text
    for action in ("compile", "vacuum", "pause-deployments", "resume-deployments", "roll-back", "disk-space"):
        assert f'data-action="{action}"' in page.text
    restart = page.text.split('data-action="restart"')[1].split("</tr>")[0]
    assert "not offered on this site" in restart  # no host supervisor here
    assert "No run has been asked for" in page.text and "No action has run" in page.text


def test_under_a_host_supervisor_the_page_offers_restart_pause_resume_and_roll_back(tmp_path, smtp):
    site, app = app_of(tmp_path, smtp, SUPERVISED=True)  # a release's site in host mode: its supervisor runs them
    with ServerThread().serving(app) as url:
        site.deployer(url).recover()  # the first release laid out and verified, as the supervisor leaves it
        page = httpx.get(url + "/maintenance", headers=HTML, timeout=10)
    assert page.status_code == 200
    for action in ("restart", "pause-deployments", "resume-deployments", "roll-back", "compile", "vacuum"):
        row = page.text.split(f'data-action="{action}"')[1].split("</tr>")[0]
        assert "not offered on this site" not in row, action


def test_the_operators_token_after_the_lock_out_is_refused_recorded_and_shown(tmp_path, smtp):
    site, app = app_of(tmp_path, smtp)
    with ServerThread().serving(app) as url:
        before = httpx.get(url + "/lockout", headers=HTML, timeout=10).text
        assert 'data-locked="no"' in before and "No use of the operator's token has been refused" in before
        assert httpx.post(url + "/api/polls", json={"name": "first"}, headers=TOKEN, timeout=10).status_code == 201
        assert list(site.log.read("lockout")) == []  # the operator's own use, before: nothing recorded
        mark_locked_down(tmp_path / "home", "localhost", 1_780_000_000_000_000)
        for _ in range(5):
            refused = httpx.post(url + "/api/polls", json={"name": "second"}, headers=TOKEN, timeout=10)
            assert refused.status_code == 403 and refused.json()["type"].endswith("locked-down")
        wrong = httpx.post(url + "/api/polls", json={"name": "x"}, headers={"Authorization": "Bearer nope"},
                           timeout=10)
        assert wrong.status_code == 401
        page = httpx.get(url + "/lockout", headers=HTML, timeout=10).text
        (event,) = list(site.log.read("lockout"))  # five attempts in a minute: one event; a wrong token: none
    said = event.message()
    assert event.actor == "operator" and said.route == "/api/polls" and said.method == "POST"
    assert said.client == "127.0.0.1" and said.folded == 0
    assert "operator-token-for-tests" not in str(said)
    first, at_stop = (e.message() for e in site.log.read("lockout"))  # the stop writes the four counted since
    assert (at_stop.route, at_stop.folded) == ("/api/polls", 3) and at_stop.at_us >= first.at_us
    assert "operator-token-for-tests" not in str(at_stop)
    assert 'data-locked="yes"' in page and "governs itself since" in page and "civitas registrar" in page
    row = page.split('<table id="attempts">')[1].split("</table>")[0]
    assert "POST /api/polls" in row and "127.0.0.1" in row


def test_refused_attempts_are_folded_one_event_a_minute_with_the_count(tmp_path):
    from civitas_gateway.auth.refusals import RefusedAttempts
    from civitas_schema.v1.lockout_pb2 import OperatorRefused

    now = [0]
    written = []
    attempts = RefusedAttempts(written.append, clock=lambda: now[0])
    for second in range(0, 150, 10):  # an attempt every 10 s for 2.5 minutes
        now[0] = second * 1_000_000
        attempts.note("operator-token", "GET", "/api/x" * 100, "10.0.0.1")
    said = [OperatorRefused.FromString(e.body) for e in written]
    assert [m.folded for m in said] == [0, 5, 5]
    assert all(len(m.route) == 200 for m in said)  # a long path is cut: the log stays bounded
    attempts.stop()  # at 140 s: the attempts at 130 and 140 s were counted, not written; the stop writes them
    last = OperatorRefused.FromString(written[-1].body)
    assert len(written) == 4 and (last.at_us, last.folded) == (140_000_000, 1)
    attempts.stop()
    assert len(written) == 4  # nothing more was counted: nothing more is written


def test_a_restarted_writer_keeps_the_minute_and_the_count(tmp_path, smtp):
    """The embedded gateway stopped and started again: what was counted is in the log, and an attempt right after
    the restart is counted into the next event rather than opening a minute of its own."""
    site, app = app_of(tmp_path, smtp)
    mark_locked_down(tmp_path / "home", "localhost", 1_780_000_000_000_000)
    with ServerThread().serving(app) as url:
        for _ in range(3):
            assert httpx.post(url + "/api/polls", json={"name": "x"}, headers=TOKEN, timeout=10).status_code == 403
    site, again = app_of(tmp_path, smtp)  # a new process's site over the same home
    with ServerThread().serving(again) as url:
        trusted = httpx.post(url + "/api/registrar/trust", json={"voter": "ann@example.org", "edges": 1},
                             headers=TOKEN, timeout=10)
        assert trusted.status_code == 403
        assert len(list(site.log.read("lockout"))) == 2  # the restart opened no minute: the attempt is counted
    said = [e.message() for e in site.log.read("lockout")]
    assert [(m.route, m.folded) for m in said] == [("/api/polls", 0), ("/api/polls", 1), ("/api/registrar/trust", 0)]
    assert sum(1 + m.folded for m in said) == 4  # every attempt counted, across the restart
