"""Pausing, resuming and rolling back the deployment engine by decision: real decisions, real git, a front page over
real HTTP; each done once, journalled in the deployment stream, kept across a restart."""

from __future__ import annotations

from civitas_deployer import ContentRunner, Deployer, DeploymentControls, Maintenance

from ..sites import ALICE, BOB, CAROL, DAVE, patch_file
from .test_deploying import (  # noqa: F401 - the engine's fixtures: a clock, the change commands, a served site
    approve, change, clock, deployer, git, home, served, site_url,
)


def ask(change, clone, tmp_path, clock, name: str, action: str, hours: float) -> str:
    """A request to run `action`, voted yes and decided after `hours` (its window's length)."""
    path = patch_file(clone, tmp_path, name, {f"maintenance/runs/{name}.toml": f'action = "{action}"\n'}, name)
    made = change.run(ALICE, ["propose", "--patch", path, "--title", name.title()]).data
    assert (made["closes_at_us"] - made["made_at_us"]) / 3600e6 == hours
    clock.hours(hours - 24 if hours > 24 else 0)
    for voter in (BOB, CAROL, DAVE):
        change.run(voter, ["vote", made["proposal"], "yes"])
    clock.hours(24)
    (decided,) = change.decide().data
    assert decided["approved"] is True
    return made["proposal"]


def maintenance_of(change, deployer) -> Maintenance:
    return Maintenance(change.log, change, DeploymentControls(lambda: deployer).builtins())


def front(site_url) -> str:
    return served(site_url)[2]


def test_a_pause_deploys_nothing_further_until_a_resume_and_holds_across_a_restart(
        change, deployer, live, clone, tmp_path, clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "one\n"}, "One")
    deployer.run()
    ask(change, clone, tmp_path, clock, "pause", "pause-deployments", 24)  # stop-only: the shorter window
    (paused,) = maintenance_of(change, deployer).run_due()
    assert paused["exit_code"] == 0 and "paused" in paused["output"], paused
    approve(change, clone, tmp_path, clock, {"site/front.md": "two\n"}, "Two")
    assert deployer.run() == [] and front(site_url) == "<p>one\n</p>"
    restarted = Deployer(change.log, live, change.decisions, deployer.releases,
                         ContentRunner(deployer.releases, site_url, request_timeout_s=1), clock=clock, health_s=2)
    assert restarted.run() == []  # the pause is in the log, not in a process
    assert maintenance_of(change, restarted).run_due() == []  # done once: a replay does not pause again
    ask(change, clone, tmp_path, clock, "resume", "resume-deployments", 48 + 168)  # it lets code in: the full vote
    (resumed,) = maintenance_of(change, restarted).run_due()
    assert resumed["exit_code"] == 0 and "resumed" in resumed["output"]
    done = restarted.run()
    assert [d.phase for d in done] == ["applied"] * 3  # the pause's request, Two, the resume's request: in order
    assert front(site_url) == "<p>two\n</p>"
    kinds = [e.type.rsplit(".", 1)[1] for e in change.log.read("deployment")]
    assert kinds.count("DeploymentsPaused") == 1 and kinds.count("DeploymentsResumed") == 1


def test_a_roll_back_serves_the_release_before_with_a_revert_commit_once(change, deployer, live, clone, tmp_path,
                                                                         clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "one\n"}, "One")
    (one,) = deployer.run()
    approve(change, clone, tmp_path, clock, {"site/front.md": "two\n"}, "Two")
    (two,) = deployer.run()
    assert front(site_url) == "<p>two\n</p>"
    ask(change, clone, tmp_path, clock, "back", "roll-back", 24)
    maintenance = maintenance_of(change, deployer)
    (ran,) = maintenance.run_due()
    assert ran["exit_code"] == 0 and f"rolled back deployment {two.id}" in ran["output"], ran
    assert front(site_url) == "<p>one\n</p>"
    revert = live.head()
    assert git(live, "rev-parse", f"{revert}^1") == two.commit  # history keeps what was undone
    assert git(live, "rev-parse", f"{revert}^{{tree}}") == git(live, "rev-parse", f"{one.commit}^{{tree}}")
    assert f"Reverts: {two.commit}" in git(live, "log", "-1", "--format=%B", revert)
    assert deployer.releases.verified() == one.commit
    shown = {d["id"]: d for d in change.deployments().data["deployments"]}
    assert shown[two.id]["phase"] == "reverted" and shown[two.id]["revert"] == revert
    assert shown[two.id]["reverted_by"] == "decision 3"
    assert maintenance.run_due() == [] and maintenance_of(change, deployer).run_due() == []  # once
    (placed,) = deployer.run()  # the request's own file, deployed on the revert commit: "one" still serves
    assert placed.phase == "applied" and front(site_url) == "<p>one\n</p>"


def test_a_roll_back_with_nothing_before_it_changes_nothing_and_says_why(change, deployer, live, clone, tmp_path,
                                                                         clock, home, site_url):
    deployer.recover()  # the first release serves: no deployment made it
    head = live.head()
    ask(change, clone, tmp_path, clock, "back", "roll-back", 24)
    (ran,) = maintenance_of(change, deployer).run_due()
    assert ran["exit_code"] == 1 and "nothing before it" in ran["output"]
    assert live.head() == head and not [e for e in change.log.read("deployment") if "Reverted" in e.type]


def test_the_engine_is_asked_for_at_each_use_and_one_not_there_is_a_failure(change, clone, tmp_path, clock):
    def none():
        raise RuntimeError("this process runs no deployment engine")

    ask(change, clone, tmp_path, clock, "pause", "pause-deployments", 24)
    (ran,) = Maintenance(change.log, change, DeploymentControls(none).builtins()).run_due()
    assert ran["exit_code"] == 1 and "no deployment engine" in ran["output"]


def test_a_pause_decided_after_the_maintenance_step_still_acts_before_anything_deploys(
        change, deployer, live, clone, tmp_path, clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "one\n"}, "One")
    deployer.run()
    maintenance = maintenance_of(change, deployer)
    deployer.ready = maintenance.settled  # as the site and the deployer service wire it
    assert maintenance.run_due() == []  # the round's first step: nothing approved asks for a run yet
    ask(change, clone, tmp_path, clock, "pause", "pause-deployments", 24)  # decided before the second step
    approve(change, clone, tmp_path, clock, {"site/front.md": "two\n"}, "Two")  # and a later change too
    assert deployer.run() == [] and front(site_url) == "<p>one\n</p>"  # the pause's run comes first
    (paused,) = maintenance.run_due()  # the next round
    assert paused["exit_code"] == 0 and "paused" in paused["output"]
    assert deployer.run() == [] and front(site_url) == "<p>one\n</p>"  # paused: Two is not deployed


def test_a_roll_back_is_proved_before_anything_is_written_and_one_refused_changes_nothing(
        change, deployer, live, clone, tmp_path, clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "one\n"}, "One")
    (one,) = deployer.run()
    approve(change, clone, tmp_path, clock, {"site/front.md": "two\n"}, "Two")
    (two,) = deployer.run()
    head, asked = live.head(), []

    def refuse(commit: str) -> str:  # host mode: the supervisor of the release returned to, not ready
        asked.append((commit, live.head(), deployer.releases.verified()))
        raise RuntimeError(f"release {commit[:12]} is served only by its own supervisor, which did not take over")

    ask(change, clone, tmp_path, clock, "back", "roll-back", 24)
    refused = Maintenance(change.log, change, DeploymentControls(lambda: deployer, prove=refuse).builtins())
    (ran,) = refused.run_due()
    assert ran["exit_code"] == 1 and "which did not take over" in ran["output"], ran
    assert asked == [(one.commit, head, two.commit)]  # asked about the release before, while nothing had moved
    assert live.head() == head and deployer.releases.verified() == two.commit and front(site_url) == "<p>two\n</p>"
    assert not [e for e in change.log.read("deployment") if "Reverted" in e.type]
    assert refused.run_due() == []  # recorded failed, and not run again by itself: asking again is a new vote

    ask(change, clone, tmp_path, clock, "again", "roll-back", 24)
    proved = Maintenance(change.log, change, DeploymentControls(
        lambda: deployer, prove=lambda commit: f"; release {commit[:12]}'s supervisor takes over").builtins())
    (ran,) = proved.run_due()
    assert ran["exit_code"] == 0 and ran["output"].endswith(f"; release {one.commit[:12]}'s supervisor takes over")
    assert front(site_url) == "<p>one\n</p>" and deployer.releases.verified() == one.commit
