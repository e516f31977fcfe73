"""Voted maintenance actions: a request approved by a decision runs once, sandboxed, its output in the log."""

from __future__ import annotations

import json
import subprocess

from civitas_deployer import Maintenance
from civitas_deployer.domain.maintenance_journal import decide_start

from ..git_repos import advance
from ..sites import ALICE, BOB, CAROL, DAVE, Clock, patch_file
from .test_decisions import change, clock  # noqa: F401 - the change commands deciding as records, on a clock

VOTING = 48 + 168  # the default review and voting hours


def with_actions(change, clone, tmp_path, text: str) -> None:
    """maintenance.toml made live, as an approved constitutional change would make it."""
    with open(patch_file(clone, tmp_path, "actions", {"maintenance.toml": text}), "rb") as patch:
        advance(change.repo, patch.read())


def vote_and_decide(change, pid: str, clock: Clock, review: float = 48, voting: float = 168) -> None:
    clock.hours(review)
    for voter in (BOB, CAROL, DAVE):
        change.run(voter, ["vote", pid, "yes"])
    clock.hours(voting)
    (made,) = change.decide().data
    assert made["approved"] is True


def test_an_approved_request_runs_its_command_once_and_never_again(change, clone, tmp_path, clock):
    path = patch_file(clone, tmp_path, "df", {"maintenance/runs/df.toml": 'action = "disk-space"\nwhy = "full?"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "How full is the disk?"]).data["proposal"]
    maintenance = Maintenance(change.log, change)
    assert maintenance.run_due() == []  # not decided yet: nothing runs
    vote_and_decide(change, pid, clock)
    (ran,) = maintenance.run_due()
    assert ran["action"] == "disk-space" and ran["state"] == "finished" and ran["exit_code"] == 0
    assert "Filesystem" in ran["output"] and ran["runs"] == "/usr/bin/df -h"
    assert maintenance.run_due() == []
    assert Maintenance(change.log, change).run_due() == []  # a restart replays the log and runs nothing
    assert [e.type for e in change.log.read("maintenance")] == ["civitas.v1.MaintenanceStarted",
                                                                "civitas.v1.MaintenanceFinished"]


def test_a_command_sees_no_site_file_no_credential_and_no_network(change, clone, tmp_path, clock, monkeypatch):
    monkeypatch.setenv("CIVITAS_MIRROR_URLS", "https://mirror:hunter2@example.org/site.git")
    secret = tmp_path / "site-key.pem"
    secret.write_text("the site's key\n")
    probe = (f"import os, socket; print('uid', os.getuid()); print('env', sorted(os.environ));"
             f"print('key', os.path.exists({str(secret)!r})); print('home', os.path.exists({str(tmp_path)!r}));"
             "s = socket.socket();\ntry:\n    s.connect(('127.0.0.1', 5432)); print('net open')\n"
             "except OSError as e:\n    print('net', e.errno)")
    with_actions(change, clone, tmp_path, '[actions.probe]\ntitle = "Probe"\n'
                 f'command = ["/usr/bin/python3", "-c", {json.dumps(probe)}]\n')
    path = patch_file(clone, tmp_path, "probe", {"maintenance/runs/probe.toml": 'action = "probe"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Probe"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    (ran,) = Maintenance(change.log, change).run_due()
    said = ran["output"]
    assert ran["exit_code"] == 0, said
    assert "uid 65534" in said and "key False" in said and "home False" in said and "net open" not in said
    assert "env ['HOME', 'LC_CTYPE', 'PATH', 'PWD']" in said  # what bwrap and Python set; nothing of the site's
    assert "hunter2" not in said


def test_a_command_that_hangs_is_stopped_at_its_timeout_and_recorded(change, clone, tmp_path, clock):
    with_actions(change, clone, tmp_path, '[actions.stuck]\ntitle = "Stuck"\ncommand = ["/usr/bin/sleep", "60"]\n'
                 'timeout_s = 1\n')
    path = patch_file(clone, tmp_path, "stuck", {"maintenance/runs/stuck.toml": 'action = "stuck"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Stuck"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    (ran,) = Maintenance(change.log, change).run_due()
    assert ran["exit_code"] == 124 and "stopped after 1 s" in ran["output"] and ran["took_ms"] < 30_000


def test_a_run_cut_short_by_a_stop_is_recorded_interrupted_and_not_run_again(change, clone, tmp_path, clock):
    path = patch_file(clone, tmp_path, "df", {"maintenance/runs/df.toml": 'action = "disk-space"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Disk"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    crashed = Maintenance(change.log, change)
    (summary,) = change.decisions.decided().values()
    crashed.folder.append("maintenance", lambda: decide_start(crashed.journal, summary.record, pid,
                                                              summary.content_hash, "maintenance/runs/df.toml",
                                                              "disk-space", "/usr/bin/df -h"))
    restarted = Maintenance(change.log, change)  # the deployer died while df ran
    restarted.recover()
    assert restarted.run_due() == []
    assert [r["state"] for r in restarted.runs()] == ["interrupted"]


def test_a_request_that_no_longer_reads_is_recorded_with_why_and_nothing_is_run(change, clone, tmp_path, clock):
    path = patch_file(clone, tmp_path, "odd", {"maintenance/runs/now.toml": 'action = "compile"\n',
                                               "maintenance/runs/other.toml": 'action = "vacuum"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Odd"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    maintenance = Maintenance(change.log, change)
    maintenance._requests_of = _unreadable(maintenance._requests_of)  # as if its base could no longer be read
    runs = {r["request"]: r for r in maintenance.run_due()}
    assert runs["maintenance/runs/now.toml"]["exit_code"] == 2 == runs["maintenance/runs/other.toml"]["exit_code"]
    assert "cannot be read" in runs["maintenance/runs/now.toml"]["output"]
    assert Maintenance(change.log, change).run_due() == []  # recorded once: never run later either


def _unreadable(requests_of):
    def of(summary):
        found = requests_of(summary)
        return None if found is None else (*found[:3], {}, "maintenance.toml cannot be read at the base")
    return of


def test_a_built_in_runs_in_the_deployer_and_one_not_offered_is_127(change, clone, tmp_path, clock):
    path = patch_file(clone, tmp_path, "c", {"maintenance/runs/c.toml": 'action = "compile"\n',
                                             "maintenance/runs/v.toml": 'action = "vacuum"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Compile"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    calls = []
    offered = {"compile": lambda run: calls.append(run.action) or "ok"}
    runs = {r["action"]: r for r in Maintenance(change.log, change, offered).run_due()}
    assert calls == ["compile"] and runs["compile"]["exit_code"] == 0 and runs["compile"]["output"] == "ok"
    assert runs["vacuum"]["exit_code"] == 127 and "not offered" in runs["vacuum"]["output"]


def test_a_request_that_only_stops_has_the_shorter_window(change, clone, tmp_path, clock):
    with_actions(change, clone, tmp_path, '[actions.pause]\ntitle = "Pause deployments"\nruns = "pause-deployments"\n'
                 '[actions.df]\ntitle = "Disk"\ncommand = ["/usr/bin/df"]\n')
    stop = patch_file(clone, tmp_path, "pause", {"maintenance/runs/pause.toml": 'action = "pause"\n'})
    other = patch_file(clone, tmp_path, "df", {"maintenance/runs/df.toml": 'action = "df"\n'})
    quick = change.run(ALICE, ["propose", "--patch", stop, "--title", "Pause"]).data
    slow = change.run(ALICE, ["propose", "--patch", other, "--title", "Disk"]).data
    assert quick["opens_at_us"] == quick["made_at_us"] and quick["closes_at_us"] - quick["made_at_us"] == 24 * 3600e6
    assert slow["closes_at_us"] - slow["made_at_us"] == VOTING * 3600e6


def test_adding_an_action_is_a_constitutional_change(change, clone, tmp_path):
    path = patch_file(clone, tmp_path, "act", {"maintenance.toml": '[actions.x]\ntitle = "X"\nruns = "compile"\n'})
    made = change.run(ALICE, ["propose", "--patch", path, "--title", "An action"]).data
    assert made["closes_at_us"] - made["opens_at_us"] == 336 * 3600e6


def test_bubblewrap_is_there_so_these_tests_ran_for_real():
    assert subprocess.run(["bwrap", "--version"], capture_output=True).returncode == 0


def test_under_a_host_supervisor_the_site_leaves_restart_to_it_and_each_runs_its_own_once(change, clone, tmp_path,
                                                                                          clock):
    path = patch_file(clone, tmp_path, "r", {"maintenance/runs/r.toml": 'action = "restart"\n',
                                             "maintenance/runs/c.toml": 'action = "compile"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Restart and compile"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    done = []
    site = Maintenance(change.log, change, {"compile": lambda run: done.append("compile") or "compiled"},
                       claims=lambda runs: runs != "restart")
    supervisor = Maintenance(change.log, change, {"restart": lambda run: done.append("restart") or "restarted"},
                             claims=lambda runs: runs == "restart")
    (compiled,) = site.run_due()
    assert compiled["action"] == "compile" and done == ["compile"]
    (summary,) = change.decisions.decided().values()
    supervisor.folder.append("maintenance", lambda: decide_start(  # the supervisor is restarting the site now
        supervisor.journal, summary.record, pid, summary.content_hash, "maintenance/runs/r.toml", "restart", "restart"))
    Maintenance(change.log, change, claims=lambda runs: runs != "restart").recover()  # the new site process starts
    runs = {r["action"]: r for r in site.runs()}
    assert runs["restart"]["state"] == "running"  # not the site's to call interrupted
    Maintenance(change.log, change, claims=lambda runs: runs == "restart").recover()  # a supervisor started again
    assert {r["action"]: r["state"] for r in site.runs()} == {"compile": "finished", "restart": "interrupted"}
    assert supervisor.run_due() == [] and site.run_due() == [] and done == ["compile"]  # never run a second time


def test_the_supervisor_runs_an_approved_restart_once_and_records_its_outcome(change, clone, tmp_path, clock):
    path = patch_file(clone, tmp_path, "r", {"maintenance/runs/r.toml": 'action = "restart"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Restart"]).data["proposal"]
    vote_and_decide(change, pid, clock)

    def failing(run):
        raise RuntimeError("starting: release 0123456789ab did not come back; the process before it still serves")

    assert Maintenance(change.log, change, claims=lambda runs: runs != "restart").run_due() == []  # the site's: none
    (ran,) = Maintenance(change.log, change, {"restart": failing}, claims=lambda runs: runs == "restart").run_due()
    assert ran["exit_code"] == 1 and "did not come back" in ran["output"] and "still serves" in ran["output"]
    assert Maintenance(change.log, change, {"restart": failing}, claims=lambda runs: runs == "restart").run_due() == []
