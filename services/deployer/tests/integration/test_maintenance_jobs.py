"""Voted maintenance commands on Kubernetes: each approved request runs once as a Job of its own, created through a
small HTTP server in place of the API server (jobs_api.py, recorded Job and Pod statuses), its log and exit code
recorded as a bubblewrap run's are. A deployer stopped after it made the Job finds the same Job when it starts again
and records its outcome; nothing ever makes a second Job for one run."""

from __future__ import annotations

import pytest

from civitas_deployer import Maintenance
from civitas_deployer.gitops import GitOpsSettings, MaintenanceJobs
from civitas_deployer.gitops.maintenance_job_spec import job_name

from ..jobs_api import NAMESPACE, POLICY, JobsApi, serve_jobs_api
from ..sites import ALICE, patch_file
from . import test_decisions
from .test_maintenance import vote_and_decide, with_actions

change, clock = test_decisions.change, test_decisions.clock  # the change commands deciding as records, on a clock

TOKEN = "eyJhbGciOiJSUzI1NiJ9.deployer-token.signature"
IMAGE = "ghcr.io/town/civitas-deployer@sha256:" + "0d" * 32
REQUEST = "maintenance/runs/df.toml"


class Killed(BaseException):
    """The deployer's process killed: nothing after it runs, as with SIGKILL."""


@pytest.fixture
def api():
    jobs = JobsApi(TOKEN)
    with serve_jobs_api(jobs) as url:
        jobs.url = url
        yield jobs


@pytest.fixture
def token(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def jobs(api, token, **kw) -> MaintenanceJobs:
    return MaintenanceJobs(api.url, NAMESPACE, IMAGE, POLICY, token, None, poll_s=0.01, **kw)


def approved_run(change, clone, tmp_path, clock, command='["/usr/bin/df", "-h"]', timeout_s: int = 300) -> str:
    with_actions(change, clone, tmp_path, f'[actions.disk]\ntitle = "Disk"\ncommand = {command}\n'
                                          f'timeout_s = {timeout_s}\n')
    path = patch_file(clone, tmp_path, "df", {REQUEST: 'action = "disk"\nwhy = "full?"\n'})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "How full is the disk?"]).data["proposal"]
    vote_and_decide(change, pid, clock)
    return pid


def test_an_approved_command_runs_once_as_a_job_that_holds_nothing_of_the_site(change, clone, tmp_path, clock,
                                                                              api, token):
    pid = approved_run(change, clone, tmp_path, clock)
    api.play(["job-running", "job-running", "job-complete"], "pod-succeeded", b"Filesystem  Size  Used\n/  10G  4G\n")
    maintenance = Maintenance(change.log, change, sandbox=jobs(api, token))
    (ran,) = maintenance.run_due()
    assert ran["exit_code"] == 0 and ran["state"] == "finished" and ran["output"].startswith("Filesystem")
    assert ran["took_ms"] == 7000  # from the Job's start to its completion, as the Job controller says
    (job,) = api.created
    decision = ran["decision"]
    assert job["metadata"]["name"] == job_name(decision, REQUEST, pid) == api.deleted[0]  # recorded, then deleted
    assert job["metadata"]["namespace"] == NAMESPACE
    assert job["metadata"]["labels"] == {"app.kubernetes.io/part-of": "civitas", "civitas/decision": str(decision),
                                         "app.kubernetes.io/component": "maintenance-run"}
    assert job["metadata"]["annotations"]["civitas/request"] == REQUEST
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 300  # once, no longer than its timeout
    assert spec["template"]["metadata"]["labels"] == job["metadata"]["labels"]  # what the deny-all policy selects
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and "serviceAccountName" not in pod
    assert pod["restartPolicy"] == "Never" and pod["enableServiceLinks"] is False
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]  # no secret, no site volume
    (container,) = pod["containers"]
    assert container["image"] == IMAGE and container["command"] == ["/usr/bin/df", "-h"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "privileged": False, "capabilities": {"drop": ["ALL"]}}
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert not [e for e in container["env"] if "valueFrom" in e] and "envFrom" not in container
    assert api.authorizations == {f"Bearer {TOKEN}"}
    (query,) = api.log_queries
    assert query["container"] == ["run"] and query["limitBytes"] == ["65536"]  # bounded by the API too

    assert maintenance.run_due() == []
    restarted = Maintenance(change.log, change, sandbox=jobs(api, token))
    restarted.recover()
    assert restarted.run_due() == [] and len(api.created) == 1  # a replay after a restart makes no Job
    assert [e.type for e in change.log.read("maintenance")] == ["civitas.v1.MaintenanceStarted",
                                                                "civitas.v1.MaintenanceFinished"]


def test_a_command_that_fails_is_recorded_with_its_exit_code_and_log(change, clone, tmp_path, clock, api, token):
    approved_run(change, clone, tmp_path, clock, '["/usr/bin/false"]')
    api.play(["job-running", "job-failed"], "pod-failed-exit-3", b"no such table: votes\n")
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 3 and ran["output"] == "no such table: votes\n" and ran["took_ms"] == 4000


def test_a_command_past_its_deadline_is_stopped_by_kubernetes_and_recorded_124(change, clone, tmp_path, clock, api,
                                                                             token):
    approved_run(change, clone, tmp_path, clock, '["/usr/bin/sleep", "3600"]', timeout_s=600)
    api.play(["job-running", "job-deadline-exceeded"], None)  # the Job controller killed its pod
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 124 and "stopped after 600 s" in ran["output"] and ran["took_ms"] == 600_000
    assert api.created[0]["spec"]["activeDeadlineSeconds"] == 600


def test_a_job_that_never_ends_is_deleted_past_its_deadline_and_a_grace(change, clone, tmp_path, clock, api, token):
    approved_run(change, clone, tmp_path, clock, '["/usr/bin/sleep", "3600"]', timeout_s=1)
    api.play(["job-running"], "pod-image-pull-backoff")  # a cluster that never reports the end
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token, grace_s=0.2)).run_due()
    assert ran["exit_code"] == 124 and "had not finished 1 s after it began" in ran["output"]
    assert api.deleted == [api.created[0]["metadata"]["name"]] and api.jobs == {}


def test_a_job_whose_command_never_started_says_why(change, clone, tmp_path, clock, api, token):
    approved_run(change, clone, tmp_path, clock)
    api.play(["job-failed"], "pod-image-pull-backoff")
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 127 and "before its command ran: ImagePullBackOff" in ran["output"]


def test_a_job_the_api_refuses_to_create_is_recorded_127_and_nothing_runs(change, clone, tmp_path, clock, api,
                                                                        token):
    approved_run(change, clone, tmp_path, clock)
    api.refuse_create_with = 403
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 127 and "answered 403 to creating the Job" in ran["output"]
    assert "cannot create resource" in ran["output"] and "nothing was run" in ran["output"]
    assert api.jobs == {} and TOKEN not in ran["output"]
    assert Maintenance(change.log, change, sandbox=jobs(api, token)).run_due() == []  # never tried again by itself


def test_without_the_deny_all_network_policy_no_job_is_made(change, clone, tmp_path, clock, api, token):
    approved_run(change, clone, tmp_path, clock)
    api.policy["spec"]["egress"] = [{}]  # someone let the runs reach everything
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 127 and "does not deny all traffic" in ran["output"] and api.created == []


def test_the_deployer_killed_after_creating_the_job_finds_it_when_started_again(change, clone, tmp_path, clock,
                                                                               api, token, monkeypatch):
    approved_run(change, clone, tmp_path, clock)
    api.play(["job-running", "job-running", "job-complete"], "pod-succeeded", b"done\n")
    killed = jobs(api, token)

    def die(*args):
        raise Killed()

    monkeypatch.setattr(killed, "_outcome", die)
    with pytest.raises(Killed):
        Maintenance(change.log, change, sandbox=killed).run_due()
    assert len(api.created) == 1  # the Job runs on without the deployer

    restarted = Maintenance(change.log, change, sandbox=jobs(api, token))
    restarted.recover()  # a Job outlives the deployer: not recorded interrupted
    assert [r["state"] for r in restarted.runs()] == ["running"]
    (ran,) = restarted.run_due()
    assert ran["state"] == "finished" and ran["exit_code"] == 0 and ran["output"] == "done\n"
    assert len(api.created) == 1 and api.jobs == {}  # the same Job, read back and deleted; no second one
    again = Maintenance(change.log, change, sandbox=jobs(api, token))
    again.recover()
    assert again.run_due() == [] and len(api.created) == 1
    assert [e.type for e in change.log.read("maintenance")] == ["civitas.v1.MaintenanceStarted",
                                                                "civitas.v1.MaintenanceFinished"]


def test_the_deployer_killed_before_creating_the_job_records_the_run_interrupted(change, clone, tmp_path, clock, api,
                                                                                token, monkeypatch):
    approved_run(change, clone, tmp_path, clock)
    killed = jobs(api, token)

    def die(*args):
        raise Killed()

    monkeypatch.setattr(killed, "_refusal", die)  # stopped between recording the start and creating the Job
    with pytest.raises(Killed):
        Maintenance(change.log, change, sandbox=killed).run_due()
    restarted = Maintenance(change.log, change, sandbox=jobs(api, token))
    restarted.recover()
    (ran,) = restarted.run_due()
    assert ran["state"] == "interrupted" and api.created == []  # never begun there: not run now either
    assert Maintenance(change.log, change, sandbox=jobs(api, token)).run_due() == []


def test_a_job_of_that_name_made_for_something_else_is_never_taken_for_this_run(change, clone, tmp_path, clock, api,
                                                                               token):
    pid = approved_run(change, clone, tmp_path, clock)
    (summary,) = change.decisions.decided().values()
    name = job_name(summary.record, REQUEST, pid)
    someone_elses = {"metadata": {"name": name, "uid": "x", "annotations": {}},
                     "spec": {"template": {"metadata": {"labels": {}}}}}
    api.jobs[name] = {"job": someone_elses, "plan": (["job-complete"], None, b"")}
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert ran["exit_code"] == 1 and "is there for something else" in ran["output"]


def test_a_long_log_is_recorded_by_its_tail_and_bounded(change, clone, tmp_path, clock, api, token):
    approved_run(change, clone, tmp_path, clock)
    api.play(["job-complete"], "pod-succeeded", b"".join(b"line %06d\n" % i for i in range(50_000)))  # 600 KB
    (ran,) = Maintenance(change.log, change, sandbox=jobs(api, token)).run_due()
    assert len(ran["output"].encode()) <= 16 * 1024 and ran["output"].endswith("line 049999\n")
    (query,) = api.log_queries
    assert query["tailLines"] == ["2000"] and query["limitBytes"] == ["65536"]


def test_kubernetes_mode_runs_commands_as_jobs(tmp_path, monkeypatch):
    from civitas_deployer.service_maintenance import service_maintenance

    class Owner:
        log, commands, lock = None, None, None

    class Controls:
        @staticmethod
        def builtins():
            return {}

    settings = GitOpsSettings(DEPLOY_MODE="kubernetes", GITOPS_URL="https://git.example.org/gitops.git",
                              KUBE_API="https://10.0.0.1:443", DEPLOYER_IMAGE=IMAGE,
                              MAINTENANCE_NETWORK_POLICY=POLICY, GITOPS_NAMESPACE=NAMESPACE)
    monkeypatch.setattr(Maintenance, "__init__", lambda self, *a, sandbox, **kw: setattr(self, "sandbox", sandbox))
    chosen = service_maintenance(Owner, None, Controls, frozenset(), settings).sandbox
    assert isinstance(chosen, MaintenanceJobs)
    assert (chosen.image, chosen.network_policy, chosen.namespace) == (IMAGE, POLICY, NAMESPACE)
    assert not service_maintenance(Owner, None, Controls, frozenset(), GitOpsSettings()).sandbox.outlives_process

