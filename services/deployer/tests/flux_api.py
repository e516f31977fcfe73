"""A small HTTP server in place of the Kubernetes API server: it answers GETs of the HelmRelease and the
GitRepository with recorded Flux statuses (flux_statuses), the commit the test pushed put in place of the recorded
one, and refuses a request without the service account's bearer token, as the API server would (401). It takes
PATCHes of the two objects (what `flux reconcile` sends), recording each, or refuses them (refuse_patches_with: 403,
a Role without `patch`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from civitas_deployer.gitops.cluster import GITREPOSITORIES, HELMRELEASES

from .flux_statuses import recorded

NAMESPACE, RELEASE, REPOSITORY = "civitas", "civitas-site", "civitas-gitops"
DEPLOYER_RELEASE = "civitas-deployer"  # the deployer's own HelmRelease (handover)


class FluxApi:
    """`script`: the HelmRelease statuses to give in turn (the last one repeated), each with its GitRepository's."""

    def __init__(self, token: str, heads: Callable[[], tuple[str, str]]) -> None:
        self.token, self.heads = token, heads  # heads(): (the commit pushed, the one before) in the GitOps repo
        self.script: list[tuple[str, str]] = []
        self.deployer_script: list[str] = []  # the deployer's HelmRelease statuses in turn (none: 404)
        self._deployer_reads = 0
        self.requests: list[tuple[str, str | None]] = []
        self.refuse_with: int | None = None
        self.patches: list[dict] = []  # each PATCH: path, content_type, body (parsed), authorization
        self.refuse_patches_with: int | None = None
        self._release_reads = 0

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict]:
        self.requests.append((path, authorization))
        if authorization != f"Bearer {self.token}":
            return 401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}
        if self.refuse_with:
            return self.refuse_with, {"kind": "Status", "status": "Failure", "code": self.refuse_with,
                                      "message": 'helmreleases.helm.toolkit.fluxcd.io "civitas-site" is forbidden'}
        new, old = self.heads()
        if path == HELMRELEASES.format(ns=NAMESPACE, name=DEPLOYER_RELEASE) and self.deployer_script:
            name = self.deployer_script[min(self._deployer_reads, len(self.deployer_script) - 1)]
            self._deployer_reads += 1
            return 200, recorded(name, new, old)
        if not self.script:
            return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
        if path == HELMRELEASES.format(ns=NAMESPACE, name=RELEASE):
            release, _ = self.script[min(self._release_reads, len(self.script) - 1)]
            self._release_reads += 1
            return 200, recorded(release, new, old)
        if path == GITREPOSITORIES.format(ns=NAMESPACE, name=REPOSITORY):
            _, repository = self.script[max(0, min(self._release_reads - 1, len(self.script) - 1))]
            return 200, recorded(repository, new, old)
        return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}

    def patch(self, path: str, authorization: str | None, content_type: str | None, body: bytes) -> tuple[int, dict]:
        self.patches.append({"path": path, "content_type": content_type, "body": json.loads(body or b"null"),
                             "authorization": authorization})
        if authorization != f"Bearer {self.token}":
            return 401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}
        if self.refuse_patches_with:
            kind = "gitrepositories.source" if "gitrepositories" in path else "helmreleases.helm"
            return self.refuse_patches_with, {
                "kind": "Status", "status": "Failure", "reason": "Forbidden", "code": self.refuse_patches_with,
                "message": f'{kind}.toolkit.fluxcd.io "{path.rsplit("/", 1)[1]}" is forbidden: User '
                           '"system:serviceaccount:civitas:civitas-deployer" cannot patch resource'}
        if path not in (HELMRELEASES.format(ns=NAMESPACE, name=RELEASE),
                        HELMRELEASES.format(ns=NAMESPACE, name=DEPLOYER_RELEASE),
                        GITREPOSITORIES.format(ns=NAMESPACE, name=REPOSITORY)):
            return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
        return 200, {"kind": "Patched", "metadata": json.loads(body).get("metadata", {})}

    def play(self, *steps: tuple[str, str]) -> None:
        self.script, self._release_reads = list(steps), 0

    def play_deployer(self, *statuses: str) -> None:
        self.deployer_script, self._deployer_reads = list(statuses), 0


@contextmanager
def serve_flux_api(api: FluxApi) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._send(*api.answer(self.path, self.headers.get("Authorization")))

        def do_PATCH(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(*api.patch(self.path, self.headers.get("Authorization"), self.headers.get("Content-Type"),
                                  body))

        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    yield from served(Handler)


def served(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The handler answering on a loopback port of its own, in a thread, until the caller is done: its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
