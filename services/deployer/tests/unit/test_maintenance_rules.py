"""maintenance.toml and request files: what is refused, and what counts as only stopping something."""

from __future__ import annotations

import pytest

from civitas_deployer.domain.maintenance import check_requests, only_stops, parse_actions
from civitas_deployer.domain.rules import RulesError

ACTIONS = (b'[actions.pause]\ntitle = "Pause"\nruns = "pause-deployments"\n'
           b'[actions.df]\ntitle = "Df"\ncommand = ["/usr/bin/df"]\n')


@pytest.mark.parametrize("text, says", [
    (b'[actions.x]\nruns = "compile"\n', "needs a title"),
    (b'[actions.x]\ntitle = "X"\n', "either runs"),
    (b'[actions.x]\ntitle = "X"\nruns = "compile"\ncommand = ["/bin/true"]\n', "not both"),
    (b'[actions.x]\ntitle = "X"\nruns = "rm-rf"\n', "no built-in"),
    (b'[actions.x]\ntitle = "X"\ncommand = ["df"]\n', "absolute path"),
    (b'[actions.x]\ntitle = "X"\nruns = "compile"\ntimeout_s = 0\n', "timeout_s"),
    (b'[actions.x]\ntitle = "X"\nruns = "compile"\nsudo = true\n', "unknown key"),
    (b'[other]\n', "unknown table"),
    (b'not toml', "not valid TOML"),
])
def test_a_malformed_action_is_refused_with_what_to_write(text, says):
    with pytest.raises(RulesError, match=says):
        parse_actions(text)


def files(**held):
    return lambda path: held.get(path)


def test_a_request_is_a_new_file_naming_an_action_at_the_base():
    changed = ["maintenance/runs/p.toml"]
    (request, action), = check_requests(changed, files(**{"maintenance.toml": ACTIONS}),
                                        files(**{"maintenance/runs/p.toml": b'action = "pause"\n'}))
    assert request.action == "pause" and action.stop_only and only_stops(changed, [(request, action)])
    with pytest.raises(RulesError, match="happens once"):
        check_requests(changed, files(**{"maintenance.toml": ACTIONS, "maintenance/runs/p.toml": b""}),
                       files(**{"maintenance/runs/p.toml": b'action = "pause"\n'}))
    with pytest.raises(RulesError, match="not in maintenance.toml"):
        check_requests(changed, files(), files(**{"maintenance/runs/p.toml": b'action = "pause"\n'}))


def test_a_command_or_a_request_beside_other_changes_never_only_stops():
    df = check_requests(["maintenance/runs/d.toml"], files(**{"maintenance.toml": ACTIONS}),
                        files(**{"maintenance/runs/d.toml": b'action = "df"\n'}))
    assert not only_stops(["maintenance/runs/d.toml"], df)
    pause = check_requests(["maintenance/runs/p.toml", "site/front.md"], files(**{"maintenance.toml": ACTIONS}),
                           files(**{"maintenance/runs/p.toml": b'action = "pause"\n'}))
    assert not only_stops(["maintenance/runs/p.toml", "site/front.md"], pause)
