"""On Kubernetes a voted maintenance command runs as a Job of its own in the release's namespace
(maintenance_job_spec.py), created by the deployer's service account; its container's log (bounded) and exit code
are read back and recorded as a bubblewrap run is. A pod cannot make bubblewrap's namespaces; a Job gets its
isolation from the cluster instead, and outlives a stop of the deployer: the Job's name is derived from the run, so
a deployer started again finds it and records its outcome, never creating a second one.

Nothing runs without the chart's deny-all NetworkPolicy for the runs (checked before each Job is made), nor
without an image: the deployer's own, the one the voters approved, never one the operator names.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from civitas_deployer.gitops.cluster import ClusterUnreadable, api_headers
from civitas_deployer.gitops.maintenance_job_spec import (CONTAINER, TIMED_OUT, exit_code, finished, is_deny_all,
                                                          is_the_runs, job_manifest, job_name)
from civitas_deployer.maintenance_sandbox import MAX_OUTPUT, NOT_AVAILABLE

JOBS = "/apis/batch/v1/namespaces/{ns}/jobs"
PODS = "/api/v1/namespaces/{ns}/pods"
NETWORK_POLICIES = "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/{name}"
MAX_LOG_BYTES = 64 * 1024  # asked of the API (limitBytes) and read at most; the journal keeps the last 16 KiB
TAIL_LINES = 2000
LOG = logging.getLogger("civitas.deployer.maintenance")


class MaintenanceJobs:
    """A CommandSandbox (maintenance_sandbox.py) of Kubernetes Jobs; every answer in words, never the token."""

    outlives_process = True

    def __init__(self, api: str, namespace: str, image: str, network_policy: str, token_file: Path,
                 ca_file: Path | None = None, *, poll_s: float = 2.0, grace_s: float = 120.0,
                 timeout_s: float = 10.0) -> None:
        self.api, self.namespace, self.image, self.network_policy = api.rstrip("/"), namespace, image, network_policy
        self.token_file, self.poll_s, self.grace_s, self.timeout_s = token_file, poll_s, grace_s, timeout_s
        self.verify: bool | str = str(ca_file) if ca_file is not None and ca_file.is_file() else True

    @classmethod
    def of(cls, settings) -> MaintenanceJobs:
        return cls(settings.KUBE_API, settings.GITOPS_NAMESPACE, settings.DEPLOYER_IMAGE,
                   settings.MAINTENANCE_NETWORK_POLICY, settings.KUBE_TOKEN_FILE, settings.KUBE_CA_FILE)

    def run(self, command: tuple[str, ...], timeout_s: int, run) -> tuple[int, str, int]:
        """Create the run's Job (or find it, made before a stop) and wait for its end: (exit code, output, ms)."""
        started = time.monotonic()
        refusal = self._refusal()
        if refusal:
            return NOT_AVAILABLE, f"{refusal}; nothing was run", 0
        manifest = job_manifest(run, command, timeout_s, self.image, self.namespace)
        name = manifest["metadata"]["name"]
        try:
            code, body = self._call("POST", JOBS.format(ns=self.namespace), json.dumps(manifest).encode())
            found = self._job(name) if code == 409 else None  # made already for this very run: taken up, not again
        except ClusterUnreadable as error:
            return NOT_AVAILABLE, f"{error}; nothing was run", 0
        if code == 409 and (found is None or not is_the_runs(found, run)):
            return 1, f"a Job named {name} is there for something else; nothing was run", 0
        if code not in (201, 409):
            return NOT_AVAILABLE, (f"the Kubernetes API answered {code} to creating the Job "
                                   f"{self.namespace}/{name}: {_message(body)}; nothing was run "
                                   "(the deployer's Role needs create on jobs)")[:2000], 0
        return self._outcome(name, timeout_s, started)

    def resume(self, run) -> tuple[int, str, int] | None:
        """After a restart: the outcome of the run's Job, waited for; None when no Job was made for it (the deployer
        stopped before); ClusterUnreadable when the API cannot say now (asked again at the next round)."""
        name = job_name(run.decision, run.request, run.proposal)
        job = self._job(name)
        if job is None:
            return None
        if not is_the_runs(job, run):
            return 1, f"a Job named {name} is there for something else; nothing of this run was found", 0
        deadline = int((job.get("spec") or {}).get("activeDeadlineSeconds") or 3600)
        return self._outcome(name, deadline, time.monotonic())

    def forget(self, run) -> None:
        """Delete the run's Job and its pod once the outcome is recorded (a failure only leaves it to its TTL)."""
        name = job_name(run.decision, run.request, run.proposal)
        try:
            self._call("DELETE", f"{JOBS.format(ns=self.namespace)}/{name}?propagationPolicy=Background")
        except ClusterUnreadable as error:
            LOG.warning("the Job %s was not deleted (%s); Kubernetes removes it a week after it finished", name, error)

    def _refusal(self) -> str:
        """Why no Job may be made now (no image, no deny-all NetworkPolicy for the runs), or ""."""
        if not self.image:
            return "no image to run maintenance in: the deployer's own (CIVITAS_DEPLOYER_IMAGE) is not set"
        if not self.network_policy:
            return "no NetworkPolicy for the runs is named (CIVITAS_MAINTENANCE_NETWORK_POLICY)"
        path = NETWORK_POLICIES.format(ns=self.namespace, name=self.network_policy)
        try:
            code, body = self._call("GET", path)
        except ClusterUnreadable as error:
            return str(error)
        if code != 200:
            return (f"the NetworkPolicy {self.namespace}/{self.network_policy} that cuts the runs off the network "
                    f"cannot be read (the API answered {code}: {_message(body)})")[:1000]
        if not is_deny_all(body):
            return f"the NetworkPolicy {self.namespace}/{self.network_policy} does not deny all traffic to and from " \
                   "the runs"
        return ""

    def _outcome(self, name: str, timeout_s: int, started: float) -> tuple[int, str, int]:
        """Wait for the Job's end (its deadline and a grace past it), then its container's exit code and log."""
        give_up = started + timeout_s + self.grace_s
        job, said = None, ""
        while True:
            try:
                job = self._job(name)
            except ClusterUnreadable as error:
                said = str(error)  # a passing failure of the API: asked again until the deadline
            else:
                if job is None:
                    return 1, f"the Job {self.namespace}/{name} is gone before it finished", self._ms(started)
                if finished(job) is not None:
                    break
            if time.monotonic() >= give_up:
                self._call_quietly("DELETE", f"{JOBS.format(ns=self.namespace)}/{name}?propagationPolicy=Background")
                return TIMED_OUT, f"the Job {name} had not finished {timeout_s} s after it began " \
                                  f"({said or 'no end reported'}); deleted", self._ms(started)
            time.sleep(self.poll_s)
        end = finished(job)
        pod = self._pod(job)
        code, waiting = exit_code(pod)
        output = self._log(pod) if pod is not None else ""
        took = end.took_ms if end.took_ms is not None else self._ms(started)
        if end.deadline:
            return TIMED_OUT, f"{output}\n(stopped after {timeout_s} s)".lstrip("\n"), took
        if end.succeeded:
            return (0 if code is None else code), output, took
        if code is None:  # it never ran: an image that cannot be pulled, a pod the cluster refused, ...
            return NOT_AVAILABLE, f"the Job failed before its command ran: {waiting or end.reason}", took
        return code, output, took

    def _job(self, name: str) -> dict | None:
        code, body = self._call("GET", f"{JOBS.format(ns=self.namespace)}/{name}")
        if code == 404:
            return None
        if code != 200 or not isinstance(body, dict):
            raise ClusterUnreadable(f"the Kubernetes API answered {code} for the Job {self.namespace}/{name}: "
                                    f"{_message(body)}"[:500])
        return body

    def _pod(self, job: dict) -> dict | None:
        """The Job's one pod (backoffLimit 0), found by the uid the Job controller labels it with; None when gone."""
        uid = (job.get("metadata") or {}).get("uid", "")
        selector = quote(f"batch.kubernetes.io/controller-uid={uid}", safe="")
        try:
            code, body = self._call("GET", f"{PODS.format(ns=self.namespace)}?labelSelector={selector}")
        except ClusterUnreadable:
            return None
        items = body.get("items") if code == 200 and isinstance(body, dict) else None
        if not items:
            return None
        return max(items, key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp", "")))

    def _log(self, pod: dict) -> str:
        """The run container's log, its last lines and at most MAX_LOG_BYTES, however much the API would send."""
        name = (pod.get("metadata") or {}).get("name", "")
        path = (f"{PODS.format(ns=self.namespace)}/{name}/log?container={CONTAINER}&tailLines={TAIL_LINES}"
                f"&limitBytes={MAX_LOG_BYTES}")
        try:
            with httpx.Client(timeout=self.timeout_s, verify=self.verify) as client:
                with client.stream("GET", self.api + path, headers=self._headers()) as answer:
                    if answer.status_code != 200:
                        return f"(its log could not be read: the API answered {answer.status_code})"
                    read = bytearray()
                    for chunk in answer.iter_bytes():
                        read += chunk
                        if len(read) >= MAX_LOG_BYTES:
                            break
        except (httpx.HTTPError, ClusterUnreadable) as error:
            return f"(its log could not be read: {error})"
        return bytes(read[:MAX_LOG_BYTES])[-MAX_OUTPUT:].decode("utf-8", "replace")

    def _headers(self, content_type: str | None = None) -> dict:
        return api_headers(self.token_file, content_type)

    def _call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, object]:
        """(status, the answer's JSON or None); ClusterUnreadable when there is no answer."""
        headers = self._headers("application/json" if body is not None else None)
        try:
            with httpx.Client(timeout=self.timeout_s, verify=self.verify) as client:
                answer = client.request(method, self.api + path, headers=headers, content=body)
        except httpx.HTTPError as error:
            raise ClusterUnreadable(f"the Kubernetes API gave no answer ({type(error).__name__})") from None
        try:
            return answer.status_code, answer.json() if len(answer.content) < (4 << 20) else None
        except ValueError:
            return answer.status_code, None

    def _call_quietly(self, method: str, path: str) -> None:
        try:
            self._call(method, path)
        except ClusterUnreadable as error:
            LOG.warning("%s %s: %s", method, path, error)

    @staticmethod
    def _ms(started: float) -> int:
        return int((time.monotonic() - started) * 1000)


def _message(body: object) -> str:
    return str(body.get("message", "")) if isinstance(body, dict) else ""
