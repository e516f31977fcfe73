"""A voted maintenance command as a Kubernetes Job, and what its Job and Pod objects say of its outcome (pure).

The Job holds nothing of the site: no service-account token, no secret, no volume but a scratch /tmp; it runs as
nobody, read-only, every capability dropped, under the runtime's seccomp profile, once (backoffLimit 0) and no longer
than the action's timeout (activeDeadlineSeconds). The chart's deny-all NetworkPolicy selects it by its labels. Its
name is derived from (decision, request), so whoever looks for it again after a restart finds the same Job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

COMPONENT = "maintenance-run"  # what the chart's NetworkPolicy selects (app.kubernetes.io/component)
LABELS = {"app.kubernetes.io/part-of": "civitas", "app.kubernetes.io/component": COMPONENT}
CONTAINER = "run"
DECISION, REQUEST, PROPOSAL, ACTION = ("civitas/decision", "civitas/request", "civitas/proposal", "civitas/action")
TTL_AFTER_FINISHED_S = 7 * 24 * 3600  # the deployer deletes it once recorded; this only sweeps one it could not
TIMED_OUT = 124


def job_name(decision: int, request: str, proposal: str) -> str:
    """The one name a run's Job has: the same after any restart or replay (at most 63 characters, a DNS label)."""
    digest = hashlib.sha256(f"{decision}\0{request}\0{proposal}".encode()).hexdigest()[:12]
    return f"civitas-maintenance-{decision}-{digest}"


def job_manifest(run, command: tuple[str, ...], timeout_s: int, image: str, namespace: str) -> dict:
    """The Job for one run of a command (`run`: the maintenance journal's Run)."""
    labels = {**LABELS, DECISION: str(run.decision)}
    annotations = {DECISION: str(run.decision), REQUEST: run.request, PROPOSAL: run.proposal, ACTION: run.action}
    pod = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,  # no address of the site's services in its environment either
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": CONTAINER, "image": image, "command": list(command), "workingDir": "/tmp",
            "env": [{"name": "PATH", "value": "/usr/local/bin:/usr/bin:/bin"}, {"name": "HOME", "value": "/tmp"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "privileged": False, "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job_name(run.decision, run.request, run.proposal), "namespace": namespace,
                     "labels": labels, "annotations": annotations},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": timeout_s,
                 "ttlSecondsAfterFinished": TTL_AFTER_FINISHED_S,
                 "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod}},
    }


def is_the_runs(job: dict, run) -> bool:
    """Whether a Job found by name is this run's (and not one some other hand made under that name)."""
    said = (job.get("metadata") or {}).get("annotations") or {}
    return said.get(DECISION) == str(run.decision) and said.get(REQUEST) == run.request and \
        said.get(PROPOSAL) == run.proposal


def is_deny_all(policy: dict) -> bool:
    """Whether a NetworkPolicy selects the runs' pods and lets nothing in or out."""
    spec = policy.get("spec") or {}
    selected = (spec.get("podSelector") or {}).get("matchLabels") or {}
    return selected.get("app.kubernetes.io/component") == COMPONENT and not (set(selected) - set(LABELS)) and \
        set(spec.get("policyTypes") or []) == {"Ingress", "Egress"} and not spec.get("ingress") and \
        not spec.get("egress")


@dataclass(frozen=True)
class Finished:
    """How a Job ended: succeeded, failed (its container's exit code, when it ran), or stopped at its deadline."""

    succeeded: bool
    deadline: bool
    reason: str
    took_ms: int | None


def finished(job: dict) -> Finished | None:
    """The Job's end from its conditions (Complete or Failed, True), or None while it runs."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True" or condition.get("type") not in ("Complete", "Failed"):
            continue
        ok = condition["type"] == "Complete"
        reason = str(condition.get("reason") or "")
        said = f"{reason}: {condition.get('message', '')}".strip(": ")
        return Finished(ok, reason == "DeadlineExceeded", said, _took(status.get("startTime"),
                                                                     status.get("completionTime")
                                                                     or condition.get("lastTransitionTime")))
    return None


def exit_code(pod: dict | None) -> tuple[int | None, str]:
    """The run container's exit code (None when it never ended: never started, or killed with its pod) and, when it
    did not end, what the kubelet said (an image that cannot be pulled, ...)."""
    for status in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
        if status.get("name") != CONTAINER:
            continue
        state = status.get("state") or {}
        if "terminated" in state:
            return int(state["terminated"].get("exitCode", 1)), ""
        waiting = state.get("waiting") or {}
        if waiting:
            return None, f"{waiting.get('reason', '')}: {waiting.get('message', '')}".strip(": ")
    return None, ""


def _took(start: str | None, end: str | None) -> int | None:
    try:
        begun, ended = (datetime.fromisoformat(str(t).replace("Z", "+00:00")) for t in (start, end))
    except ValueError:
        return None
    return max(0, int((ended - begun).total_seconds() * 1000))
