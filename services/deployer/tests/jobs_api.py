"""A small HTTP server in place of the Kubernetes API server for maintenance Jobs: it takes a Job's creation (201, or
409 AlreadyExists for a name it holds, as the API server does), answers GETs of it with recorded statuses
(kube_jobs/, see its README) in turn, lists its pod by the Job's uid, serves the pod's log (its last tailLines, then
at most limitBytes, as the API server does), deletes it, and serves the runs' NetworkPolicy. Every request without
the service account's token is refused (401); refuse_create_with refuses creating (403: a Role without `create` on
jobs)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .flux_api import served

FOLDER = Path(__file__).parent / "kube_jobs"
NAMESPACE, POLICY = "civitas", "civitas-maintenance-runs"
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
POLICY_PATH = f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/networkpolicies/{POLICY}"


def recorded(name: str) -> dict:
    return json.loads((FOLDER / f"{name}.json").read_text())


class JobsApi:
    """plan: (the Job's statuses in turn, the last repeated; its pod's recorded object or None; its log)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.plan: tuple[list[str], str | None, bytes] = (["job-running", "job-complete"], "pod-succeeded", b"")
        self.jobs: dict[str, dict] = {}
        self.reads: dict[str, int] = {}
        self.created: list[dict] = []  # every Job POSTed, as sent
        self.deleted: list[str] = []
        self.log_queries: list[dict] = []
        self.authorizations: set[str | None] = set()
        self.refuse_create_with: int | None = None
        self.policy: dict | None = recorded("networkpolicy-deny-all")

    def play(self, statuses: list[str], pod: str | None, log: bytes = b"") -> None:
        self.plan = (statuses, pod, log)

    def _status(self, name: str) -> dict:
        statuses = self.jobs[name]["plan"][0]
        n = self.reads.get(name, 0)
        self.reads[name] = n + 1
        return recorded(statuses[min(n, len(statuses) - 1)])["status"]

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> tuple[int, object]:
        self.authorizations.add(authorization)
        if authorization != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        if path == POLICY_PATH and method == "GET":
            return (200, self.policy) if self.policy else (404, _status(404, "NotFound", "not found"))
        if path == JOBS and method == "POST":
            job = json.loads(body)
            self.created.append(copy.deepcopy(job))
            name = job["metadata"]["name"]
            if self.refuse_create_with:
                return self.refuse_create_with, _status(
                    self.refuse_create_with, "Forbidden", 'jobs.batch is forbidden: User "system:serviceaccount:'
                    'civitas:civitas-deployer" cannot create resource "jobs" in API group "batch" in the namespace '
                    '"civitas"')
            if name in self.jobs:
                return 409, _status(409, "AlreadyExists", f'jobs.batch "{name}" already exists')
            job["metadata"]["uid"] = str(uuid.uuid4())
            self.jobs[name] = {"job": job, "plan": self.plan}
            return 201, job
        if path.startswith(JOBS + "/"):
            name = path[len(JOBS) + 1:]
            if name not in self.jobs:
                return 404, _status(404, "NotFound", f'jobs.batch "{name}" not found')
            if method == "DELETE":
                assert query.get("propagationPolicy") == ["Background"]  # its pod goes with it
                self.deleted.append(name)
                del self.jobs[name]
                return 200, _status(200, "Success", "")
            return 200, {**self.jobs[name]["job"], "status": self._status(name)}
        if path == PODS and method == "GET":
            (selector,) = query["labelSelector"]
            key, _, uid = selector.partition("=")
            assert key == "batch.kubernetes.io/controller-uid"
            items = [self._pod(held) for held in self.jobs.values()
                     if held["job"]["metadata"]["uid"] == uid and held["plan"][1]]
            return 200, {"kind": "PodList", "apiVersion": "v1", "items": items}
        if path.startswith(PODS + "/") and path.endswith("/log"):
            self.log_queries.append(query)
            pod = path[len(PODS) + 1:-len("/log")]
            for held in self.jobs.values():
                if pod == self._pod(held)["metadata"]["name"]:  # the last tailLines, then at most limitBytes
                    text = held["plan"][2]
                    if "tailLines" in query:
                        text = b"".join(text.splitlines(keepends=True)[-int(query["tailLines"][0]):])
                    return 200, text[:int(query["limitBytes"][0])] if "limitBytes" in query else text
            return 404, _status(404, "NotFound", f'pods "{pod}" not found')
        return 404, _status(404, "NotFound", "not found")

    @staticmethod
    def _pod(held: dict) -> dict:
        pod = recorded(held["plan"][1])
        job = held["job"]
        pod["metadata"]["name"] = pod["metadata"]["name"].replace("JOB", job["metadata"]["name"])
        pod["metadata"]["labels"] = {**job["spec"]["template"]["metadata"]["labels"],
                                     "batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
                                     "batch.kubernetes.io/job-name": job["metadata"]["name"]}
        return pod


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure" if code >= 400 else "Success", "code": code,
            "reason": reason, "message": message}


@contextmanager
def serve_jobs_api(api: JobsApi) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            code, answer = api.handle(self.command, self.path, self.headers.get("Authorization"), body)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain" if isinstance(answer, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer  # noqa: N815 (http.server's names)

        def log_message(self, *args) -> None:
            pass

    yield from served(Handler)
