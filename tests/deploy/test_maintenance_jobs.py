"""Voted maintenance commands on Kubernetes in the chart: the deployer's Role to make the runs' Jobs and read them
back, the deny-all NetworkPolicy that selects them, and, under `lockdown: true`, the admission policy that holds the
deployer's account to such Jobs.

The Job the deployer makes (civitas_deployer.gitops.maintenance_job_spec) and everything rendered are validated
against Kubernetes 1.30's schemas; the policies' CEL is evaluated by cel-python on the admission requests an API
server would send. No API server runs here (ARCHITECTURE.md)."""

from __future__ import annotations

import copy

import celpy
import kubernetes_validate
import pytest

from civitas_deployer.domain.maintenance_journal import Run
from civitas_deployer.gitops.maintenance_job_spec import is_deny_all, job_manifest

from .test_chart import KUBE_VERSION, env, render
from .test_flux import ON, deployer_release, named
from .test_lockdown import admitted

NAMESPACE = "civitas"
DEPLOYER = f"system:serviceaccount:{NAMESPACE}:civitas-deployer"
IMAGE = "ghcr.io/town/civitas-deployer@sha256:" + "0d" * 32
LOCKED = {**ON, "lockdown": True}


def a_job() -> dict:
    run = Run(7, "p-3", "maintenance/runs/df.toml", "disk", "/usr/bin/df -h")
    return job_manifest(run, ("/usr/bin/df", "-h"), 600, IMAGE, NAMESPACE)


def jobs_policy_admits(docs: list[dict], job: dict, user: str = DEPLOYER, operation: str = "CREATE") -> bool:
    """Whether the rendered maintenance-jobs policy lets this Job through, as the API server decides it."""
    (policy,) = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicy"
                 and d["metadata"]["name"].startswith("civitas-maintenance-jobs.")]
    spec = policy["spec"]
    request = {"userInfo": {"username": user}, "operation": operation, "namespace": NAMESPACE,
               "resource": {"group": "batch", "version": "v1", "resource": "jobs"}}
    activation = celpy.json_to_cel({"request": request, "object": job})
    cel = celpy.Environment()

    def holds(expression: str) -> bool:
        return bool(cel.program(cel.compile(expression)).evaluate(activation))

    if not all(holds(c["expression"]) for c in spec["matchConditions"]):
        return True
    return all(holds(v["expression"]) for v in spec["validations"])


def test_the_job_the_deployer_makes_is_valid_kubernetes():
    kubernetes_validate.validate(a_job(), KUBE_VERSION, strict=True)


def test_the_deployer_may_make_read_and_delete_jobs_and_read_their_pods_logs_and_nothing_more():
    docs = render(ON)
    role = named(docs, "Role", "civitas-deployer-maintenance")
    assert role["rules"] == [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "delete"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
         "resourceNames": ["civitas-maintenance-runs"], "verbs": ["get"]}]
    granted = {r for rule in role["rules"] for r in rule["resources"]}
    assert not granted & {"secrets", "roles", "rolebindings", "pods/exec", "pods/attach", "*"}
    binding = named(docs, "RoleBinding", "civitas-deployer-maintenance")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "civitas-deployer", "namespace": NAMESPACE}]
    for doc in (role, binding):
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    assert not [d for d in render({}) if d["metadata"]["name"].endswith("-maintenance")]  # Kubernetes mode only


def test_the_runs_network_policy_denies_all_and_selects_the_jobs_the_deployer_makes():
    docs = render(ON)
    policy = named(docs, "NetworkPolicy", "civitas-maintenance-runs")
    kubernetes_validate.validate(policy, KUBE_VERSION, strict=True)
    assert is_deny_all(policy)  # what the deployer checks before it makes a Job
    labels = a_job()["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    # the deployer's own release names it, so the deployer finds it
    (deployer,) = [d for d in deployer_release(docs) if d["kind"] == "Deployment"]
    assert env(deployer)["CIVITAS_MAINTENANCE_NETWORK_POLICY"] == "civitas-maintenance-runs"
    # and no other policy of the chart selects the runs (policies add up: one that did could let traffic through)
    others = [d for d in deployer_release(docs) + docs if d["kind"] == "NetworkPolicy" and d is not policy]
    assert others and not [o for o in others if o["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]


def test_under_lockdown_the_deployer_and_the_clusters_controllers_may_run_and_clear_a_job():
    docs = render(LOCKED)
    assert admitted(docs, user=DEPLOYER, operation="CREATE", resource="jobs")
    assert admitted(docs, user=DEPLOYER, operation="DELETE", resource="jobs")
    assert admitted(docs, user="system:serviceaccount:kube-system:job-controller", operation="CREATE",
                    resource="pods")  # the Job controller makes its pod
    assert admitted(docs, user="system:serviceaccount:kube-system:generic-garbage-collector", operation="DELETE",
                    resource="pods")  # the pod goes with its Job
    assert admitted(docs, user="system:serviceaccount:kube-system:ttl-after-finished-controller",
                    operation="DELETE", resource="jobs")
    assert not admitted(docs, user="operator@example.org", operation="CREATE", resource="jobs")
    for doc in docs:
        if doc["kind"].startswith("ValidatingAdmissionPolicy"):
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def widened(change) -> dict:
    job = a_job()
    change(job, job["spec"]["template"]["spec"])
    return job


@pytest.mark.parametrize("why, change", [
    ("a token", lambda job, pod: pod.update(automountServiceAccountToken=True)),
    ("another account", lambda job, pod: pod.update(serviceAccountName="civitas-deployer")),
    ("a secret volume", lambda job, pod: pod["volumes"].append({"name": "key", "secret": {"secretName": "site-key"}})),
    ("a site volume", lambda job, pod: pod["volumes"].append(
        {"name": "home", "persistentVolumeClaim": {"claimName": "civitas-deployer-home"}})),
    ("a secret in the environment", lambda job, pod: pod["containers"][0]["env"].append(
        {"name": "K", "valueFrom": {"secretKeyRef": {"name": "civitas-operator", "key": "token"}}})),
    ("all of a secret", lambda job, pod: pod["containers"][0].update(envFrom=[{"secretRef": {"name": "db"}}])),
    ("the host's network", lambda job, pod: pod.update(hostNetwork=True)),
    ("root", lambda job, pod: pod["securityContext"].update(runAsNonRoot=False)),
    ("a writable root", lambda job, pod: pod["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False)),
    ("privileges", lambda job, pod: pod["containers"][0]["securityContext"].update(privileged=True)),
    ("a capability", lambda job, pod: pod["containers"][0]["securityContext"]["capabilities"].update(add=["NET_RAW"])),
    ("an init container", lambda job, pod: pod.update(initContainers=copy.deepcopy(pod["containers"]))),
    ("retries", lambda job, pod: job["spec"].update(backoffLimit=3)),
    ("no deadline", lambda job, pod: job["spec"].pop("activeDeadlineSeconds")),
    ("outside the network policy", lambda job, pod: job["spec"]["template"]["metadata"]["labels"].pop(
        "app.kubernetes.io/component")),
])
def test_under_lockdown_the_deployers_account_may_make_only_a_maintenance_run(why, change):
    docs = render(LOCKED)
    assert jobs_policy_admits(docs, a_job())
    assert not jobs_policy_admits(docs, widened(change)), why


def test_the_jobs_policy_is_rendered_only_where_the_deployer_makes_jobs_under_a_lock_out():
    names = {d["metadata"]["name"] for d in render(LOCKED) if d["kind"] == "ValidatingAdmissionPolicyBinding"}
    assert names == {"civitas-lockdown.civitas.civitas", "civitas-maintenance-jobs.civitas.civitas"}
    assert not [d for d in render({"lockdown": True}) + render(ON)
                if d["metadata"]["name"].startswith("civitas-maintenance-jobs.")]
