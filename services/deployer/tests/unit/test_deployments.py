"""The deployment stream folded: each deployment's phase, incident and end, and which decisions have one."""

from __future__ import annotations

from civitas_schema.v1 import deployment_pb2 as pb
from civitas_deployer.deploying.kinds import kind_of
from civitas_deployer.domain.deployments import DeploymentState


def fold(*messages) -> DeploymentState:
    state = DeploymentState()
    for m in messages:
        state.evolve(m.DESCRIPTOR.full_name, m)
    return state


STARTED = pb.DeploymentStarted(deployment="1", decision="decision 4", proposal="2", revision=1, content_hash="c" * 64,
                               diff_hash="d" * 64, base="b" * 40, commit="e" * 40, previous="b" * 40, kind="content",
                               at_us=10)


def test_a_deployment_passes_its_phases_and_ends_applied():
    state = fold(STARTED, pb.DeploymentPhase(deployment="1", phase="starting", at_us=11),
                 pb.DeploymentPhase(deployment="1", phase="health", at_us=12))
    (unfinished,) = state.unfinished()
    assert unfinished.phase == "health" and unfinished.ended_us is None and state.by_decision == {"decision 4": "1"}
    state.evolve(pb.DeploymentApplied.DESCRIPTOR.full_name, pb.DeploymentApplied(deployment="1", commit="e" * 40,
                                                                                 at_us=13))
    assert state.unfinished() == [] and state.last_applied().ended_us == 13
    shown = state.deployments["1"].as_dict()
    assert shown["phase"] == "applied" and shown["decision"] == "decision 4" and shown["incident"] is None


def test_a_failed_deployment_keeps_its_incident_until_rolled_back_and_a_refused_one_ends_at_once():
    state = fold(STARTED, pb.DeploymentFailed(deployment="1", phase="building", reason="no", log_tail="tail",
                                              at_us=11))
    assert state.unfinished()[0].incident.as_dict() == {"phase": "building", "reason": "no", "log_tail": "tail"}
    state.evolve(pb.DeploymentRolledBack.DESCRIPTOR.full_name,
                 pb.DeploymentRolledBack(deployment="1", revert="f" * 40, at_us=12))
    state.evolve(pb.DeploymentRefused.DESCRIPTOR.full_name,
                 pb.DeploymentRefused(deployment="2", decision="decision 5", proposal="3", revision=2, reason="moved",
                                      at_us=14))
    assert state.unfinished() == [] and state.next_id() == "3" and state.last_applied() is None
    assert [d.phase for d in state.newest_first(10)] == ["refused", "rolled_back"]
    assert state.deployments["1"].revert == "f" * 40 and state.deployments["2"].refusal == "moved"


def test_a_change_is_content_when_every_path_is_one_the_site_reads():
    assert kind_of(["site/front.md", "polls/park.toml", "governance.toml"]) == "content"
    assert kind_of(["site/front.md", "src/civitas/site.py"]) == "code"
